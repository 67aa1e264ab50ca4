// Trace propagation over gRPC between tracebridge and an independent
// OpenTelemetry implementation: @grpc/grpc-js traced by the OpenTelemetry JS
// SDK's gRPC instrumentation (tests/interop/node_grpc/peer.js), with W3C
// Trace Context and Baggage, B3 (single header and multi headers) and Jaeger
// on both sides.
//
//   1. A Node client calls our traced Echo server: our server span's parent
//      is the Node client span, in the same trace, and the Node client's
//      baggage is current in our handler (W3C).
//   2. Our traced client calls a Node Echo server: the Node server span's
//      parent is our client span, in the same trace, and the Node server
//      extracted our baggage (W3C).
//   3. grpc-trace-bin on the wire: a plain C++ client's `grpc-trace-bin`
//      reaches the Node server byte for byte (a C++ server never sees it:
//      tests/propagation_formats_test.cc), which is why tracebridge rejects
//      the format rather than offering half of it.
//
// Each side's spans come from its own export: ours from the Telemetry's span
// store, Node's from the JSON lines its exporter wrote.
//
// The npm packages are installed by the test (`npm ci` from the committed
// package-lock.json into $TEST_TMPDIR, with a persistent cache; see
// tests/testing/npm_package.h), so a cold cache needs the npm registry.

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/child_process.h"
#include "tests/testing/context_recorder.h"
#include "tests/testing/echo_service.h"
#include "tests/testing/npm_package.h"
#include "tests/testing/traced_service.h"
#include "tracebridge/core/propagation/grpc_trace_bin_propagator.h"
#include "tracebridge/core/trace/span.h"
#include "tracebridge/interceptors/install.h"

namespace tracebridge {
namespace {

constexpr char kSpanName[] = "tracebridge.testing.Echo/Unary";
// A generous bound on one node run (start-up dominates: about a second).
constexpr absl::Duration kNodeTimeout = absl::Minutes(1);

// One span as peer.js wrote it.
struct NodeSpan {
  std::string trace_id;
  std::string span_id;
  std::string parent_span_id;
  std::string name;
  std::string kind;
  std::string grpc_status;
};

// The string value of "key" in one of peer.js's flat JSON objects. Its values
// are hex ids, span names and kind names: no escapes to undo.
std::string StringField(absl::string_view line, absl::string_view key) {
  const std::string needle = absl::StrCat("\"", key, "\":\"");
  const size_t start = line.find(needle);
  if (start == absl::string_view::npos) return "";
  const size_t begin = start + needle.size();
  const size_t end = line.find('"', begin);
  return end == absl::string_view::npos ? "" : std::string(line.substr(begin, end - begin));
}

std::vector<NodeSpan> ReadNodeSpans(const std::string& path) {
  std::vector<NodeSpan> spans;
  for (absl::string_view line :
       absl::StrSplit(testing::ReadFileOrEmpty(path), '\n', absl::SkipEmpty())) {
    spans.push_back({StringField(line, "traceId"), StringField(line, "spanId"),
                     StringField(line, "parentSpanId"), StringField(line, "name"),
                     StringField(line, "kind"), StringField(line, "grpcStatus")});
  }
  return spans;
}

const NodeSpan* FindNodeSpan(const std::vector<NodeSpan>& spans, const std::string& kind) {
  for (const NodeSpan& span : spans) {
    if (span.kind == kind && absl::EndsWith(span.name, "Echo/Unary")) return &span;
  }
  return nullptr;
}

// One propagation format. Each side is configured with it alone, so a call
// carries the context in that format's header only.
struct Format {
  const char* node;         // peer.js's name for it
  const char* propagators;  // ours, as OTEL_PROPAGATORS spells it
  bool carries_baggage;     // both sides also speak W3C Baggage
};

// peer.js's package, installed once per test binary (`npm ci`); the error
// when it could not be.
const absl::StatusOr<testing::NodePackage>& Package() {
  static const auto* const package = new absl::StatusOr<testing::NodePackage>(
      testing::PrepareNpmPackage("tests/interop/node_grpc", {"package.json", "package-lock.json",
                                                             "peer.js", "../../echo/echo.proto"}));
  return *package;
}

// A test that runs peer.js in one format.
class NodePeerTest : public ::testing::Test {
 protected:
  void SetUpPeer(const std::string& format) {
    ASSERT_TRUE(Package().ok()) << Package().status();
    format_ = format;
    // The test's name without its "/<format>" suffix, to make a file name.
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    test = test.substr(0, test.find('/'));
    spans_path_ = absl::StrCat(Package()->dir, "/", format, "-", test, ".jsonl");
    std::remove(spans_path_.c_str());
  }

  // Starts peer.js in `mode` with this format's propagator.
  std::unique_ptr<testing::ChildProcess> StartPeer(const std::string& mode,
                                                   const std::string& port = "") {
    const testing::NodePackage& package = *Package();
    std::vector<std::string> argv = {package.node, "peer.js", mode, format_, spans_path_};
    if (!port.empty()) argv.push_back(port);
    auto child = testing::ChildProcess::Start(argv, package.env, package.dir,
                                              absl::StrCat(spans_path_, ".", mode, ".log"));
    EXPECT_TRUE(child.ok()) << child.status();
    return child.ok() ? *std::move(child) : nullptr;
  }

  // Starts peer.js as a server and reads the port it listens on (0 on failure).
  int StartPeerServer(std::unique_ptr<testing::ChildProcess>* peer) {
    *peer = StartPeer("server");
    if (*peer == nullptr) return 0;
    absl::StatusOr<std::string> line = (*peer)->ReadLine(kNodeTimeout);
    int port = 0;
    EXPECT_TRUE(line.ok()) << line.status() << "\n" << (*peer)->Wait(absl::Seconds(5)).log;
    if (!line.ok()) return 0;
    EXPECT_TRUE(absl::StartsWith(*line, "port ") && absl::SimpleAtoi(line->substr(5), &port))
        << *line;
    return port;
  }

  std::string format_;
  std::string spans_path_;
};

class NodeGrpcInteropTest : public NodePeerTest, public ::testing::WithParamInterface<Format> {
 protected:
  void SetUp() override { SetUpPeer(GetParam().node); }
};

TEST_P(NodeGrpcInteropTest, NodeClientIsTheParentOfOurServerSpan) {
  auto telemetry = testing::MakeTestTelemetry("interop-server", GetParam().propagators);
  testing::ContextRecorder received;
  testing::RecordingEcho service(&received);
  testing::TracedServer server = testing::StartTracedServer(*telemetry, {&service});

  std::unique_ptr<testing::ChildProcess> client = StartPeer("client", std::to_string(server.port));
  ASSERT_NE(client, nullptr);
  absl::StatusOr<std::string> reply = client->ReadLine(kNodeTimeout);
  testing::ProcessResult exit = client->Wait(kNodeTimeout);
  ASSERT_TRUE(reply.ok()) << reply.status() << "\n" << exit.log;
  ASSERT_FALSE(exit.timed_out) << exit.log;
  ASSERT_EQ(exit.exit_code, 0) << exit.log;
  EXPECT_TRUE(absl::StrContains(*reply, "\"code\":0")) << *reply;

  const std::vector<NodeSpan> node_spans = ReadNodeSpans(spans_path_);
  const NodeSpan* node_client = FindNodeSpan(node_spans, "CLIENT");
  ASSERT_NE(node_client, nullptr) << testing::ReadFileOrEmpty(spans_path_);
  EXPECT_EQ(node_client->grpc_status, "0");
  const TraceId trace_id = TraceId::FromHex(node_client->trace_id);
  ASSERT_TRUE(trace_id.IsValid()) << node_client->trace_id;
  // Our x-trace-id response header names the trace Node started.
  EXPECT_EQ(StringField(*reply, "xTraceId"), node_client->trace_id);

  std::vector<SpanData> ours = testing::WaitForTrace(*telemetry, trace_id, 1);
  const SpanData* server_span = testing::FindSpan(ours, kSpanName, SpanKind::kServer);
  ASSERT_NE(server_span, nullptr) << "no server span in Node's trace " << node_client->trace_id;
  EXPECT_EQ(server_span->parent_span_id.ToHex(), node_client->span_id);
  EXPECT_TRUE(server_span->parent_is_remote);
  EXPECT_TRUE(server_span->context.trace_flags().IsSampled());
  EXPECT_EQ(server_span->status, StatusCode::kUnset);
  // The Node client's baggage is current in our handler.
  EXPECT_EQ(received.Last().baggage,
            GetParam().carries_baggage ? Baggage().Set("tenant", "acme") : Baggage());

  SeriesSnapshot series =
      testing::WaitForSeries(*telemetry, Side::kServer, "tracebridge.testing.Echo", "Unary", 1);
  EXPECT_EQ(series.Handled(), 1u);
  EXPECT_EQ(testing::StatusCountOf(series, 0), 1u);
  EXPECT_EQ(series.InFlight(), 0u);
  server.server->Shutdown();
}

TEST_P(NodeGrpcInteropTest, OurClientIsTheParentOfTheNodeServerSpan) {
  auto telemetry = testing::MakeTestTelemetry("interop-client", GetParam().propagators);

  std::unique_ptr<testing::ChildProcess> peer;
  const int port = StartPeerServer(&peer);
  ASSERT_GT(port, 0);

  auto stub = testing::Echo::NewStub(CreateTracedChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials(), *telemetry));
  TraceId trace_id;
  SpanId root_id;
  {
    Span root = telemetry->tracer().StartSpan("cpp-root");
    Scope scope(root, Baggage().Set("tenant", "acme"));
    trace_id = root.context().trace_id();
    root_id = root.context().span_id();
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(20)));
    testing::EchoRequest request;
    request.set_message("report");
    testing::EchoResponse response;
    grpc::Status status = stub->Unary(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    // The baggage the Node server's propagator extracted from our call.
    EXPECT_EQ(StringField(response.message(), "baggage"),
              GetParam().carries_baggage ? "tenant=acme" : "")
        << response.message();
  }
  // End of input tells the peer to shut down, flush and exit.
  peer->CloseStdin();
  testing::ProcessResult exit = peer->Wait(kNodeTimeout);
  ASSERT_FALSE(exit.timed_out) << exit.log;
  ASSERT_EQ(exit.exit_code, 0) << exit.log;

  std::vector<SpanData> ours = testing::WaitForTrace(*telemetry, trace_id, 2);
  const SpanData* client_span = testing::FindSpan(ours, kSpanName, SpanKind::kClient);
  ASSERT_NE(client_span, nullptr);
  EXPECT_EQ(client_span->parent_span_id, root_id);

  const std::vector<NodeSpan> node_spans = ReadNodeSpans(spans_path_);
  const NodeSpan* node_server = FindNodeSpan(node_spans, "SERVER");
  ASSERT_NE(node_server, nullptr) << testing::ReadFileOrEmpty(spans_path_);
  EXPECT_EQ(node_server->trace_id, trace_id.ToHex());
  EXPECT_EQ(node_server->parent_span_id, client_span->context.span_id().ToHex());
  EXPECT_EQ(node_server->grpc_status, "0");
  EXPECT_NE(node_server->span_id, client_span->context.span_id().ToHex());

  SeriesSnapshot series =
      testing::WaitForSeries(*telemetry, Side::kClient, "tracebridge.testing.Echo", "Unary", 1);
  EXPECT_EQ(series.Handled(), 1u);
  EXPECT_EQ(testing::StatusCountOf(series, 0), 1u);
}

INSTANTIATE_TEST_SUITE_P(Formats, NodeGrpcInteropTest,
                         ::testing::Values(Format{"tracecontext", "tracecontext,baggage", true},
                                           Format{"b3", "b3", false},
                                           Format{"b3multi", "b3multi", false},
                                           Format{"jaeger", "jaeger", false}),
                         [](const ::testing::TestParamInfo<Format>& info) {
                           return std::string(info.param.node);
                         });

class NodeGrpcTraceBinTest : public NodePeerTest {
 protected:
  void SetUp() override { SetUpPeer("tracecontext"); }
};

// A C++ client's grpc-trace-bin goes out on the wire intact: the loss that
// makes tracebridge reject the format is on the receiving C++ side only.
TEST_F(NodeGrpcTraceBinTest, CppClientSendsTheHeader) {
  std::unique_ptr<testing::ChildProcess> peer;
  const int port = StartPeerServer(&peer);
  ASSERT_GT(port, 0);
  auto stub = testing::Echo::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  const SpanContext sent(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736"),
                         SpanId::FromHex("00f067aa0ba902b7"), TraceFlags(TraceFlags::kSampled),
                         /*is_remote=*/false);
  uint8_t bytes[GrpcTraceBinPropagator::kSize];
  ASSERT_TRUE(GrpcTraceBinPropagator::Format(sent, bytes));
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(20)));
  context.AddMetadata("grpc-trace-bin",
                      std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
  testing::EchoRequest request;
  request.set_message("report");
  testing::EchoResponse response;
  const grpc::Status status = stub->Unary(&context, request, &response);
  peer->CloseStdin();
  const testing::ProcessResult exit = peer->Wait(kNodeTimeout);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << exit.log;
  EXPECT_EQ(StringField(response.message(), "traceBin"),
            "00"
            "004bf92f3577b34da6a3ce929d0e0e4736"
            "0100f067aa0ba902b7"
            "0201")
      << response.message();
}

}  // namespace
}  // namespace tracebridge
