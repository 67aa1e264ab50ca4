// Trace propagation over gRPC between tracebridge and an independent
// OpenTelemetry implementation: @grpc/grpc-js traced by the OpenTelemetry JS
// SDK's gRPC instrumentation (tests/interop/node_grpc/peer.js), with W3C
// Trace Context and with B3 (single header) on both sides.
//
//   1. A Node client calls our traced Echo server: our server span's parent
//      is the Node client span, in the same trace.
//   2. Our traced client calls a Node Echo server: the Node server span's
//      parent is our client span, in the same trace.
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
#include "tests/testing/echo_service.h"
#include "tests/testing/npm_package.h"
#include "tests/testing/traced_service.h"
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
};

class NodeGrpcInteropTest : public ::testing::TestWithParam<Format> {
 protected:
  static void SetUpTestSuite() {
    auto package = testing::PrepareNpmPackage(
        "tests/interop/node_grpc",
        {"package.json", "package-lock.json", "peer.js", "../../echo/echo.proto"});
    if (!package.ok()) {
      install_error_ = new std::string(package.status().ToString());
      return;
    }
    package_ = new testing::NodePackage(*std::move(package));
  }
  static void TearDownTestSuite() {
    delete package_;
    package_ = nullptr;
    delete install_error_;
    install_error_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(package_, nullptr) << *install_error_;
    // The test's name without its "/<format>" suffix, to make a file name.
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    test = test.substr(0, test.find('/'));
    spans_path_ = absl::StrCat(package_->dir, "/", GetParam().node, "-", test, ".jsonl");
    std::remove(spans_path_.c_str());
  }

  // Starts peer.js in `mode` with this format's propagator.
  std::unique_ptr<testing::ChildProcess> StartPeer(const std::string& mode,
                                                   const std::string& port = "") {
    std::vector<std::string> argv = {package_->node, "peer.js", mode, GetParam().node, spans_path_};
    if (!port.empty()) argv.push_back(port);
    auto child = testing::ChildProcess::Start(argv, package_->env, package_->dir,
                                              absl::StrCat(spans_path_, ".", mode, ".log"));
    EXPECT_TRUE(child.ok()) << child.status();
    return child.ok() ? *std::move(child) : nullptr;
  }

  static testing::NodePackage* package_;
  static std::string* install_error_;
  std::string spans_path_;
};

testing::NodePackage* NodeGrpcInteropTest::package_ = nullptr;
std::string* NodeGrpcInteropTest::install_error_ = nullptr;

TEST_P(NodeGrpcInteropTest, NodeClientIsTheParentOfOurServerSpan) {
  auto telemetry = testing::MakeTestTelemetry("interop-server", GetParam().propagators);
  testing::EchoServiceImpl service;
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

  SeriesSnapshot series =
      testing::WaitForSeries(*telemetry, Side::kServer, "tracebridge.testing.Echo", "Unary", 1);
  EXPECT_EQ(series.Handled(), 1u);
  EXPECT_EQ(testing::StatusCountOf(series, 0), 1u);
  EXPECT_EQ(series.InFlight(), 0u);
  server.server->Shutdown();
}

TEST_P(NodeGrpcInteropTest, OurClientIsTheParentOfTheNodeServerSpan) {
  auto telemetry = testing::MakeTestTelemetry("interop-client", GetParam().propagators);

  std::unique_ptr<testing::ChildProcess> peer = StartPeer("server");
  ASSERT_NE(peer, nullptr);
  absl::StatusOr<std::string> line = peer->ReadLine(kNodeTimeout);
  ASSERT_TRUE(line.ok()) << line.status() << "\n" << peer->Wait(absl::Seconds(5)).log;
  int port = 0;
  ASSERT_TRUE(absl::StartsWith(*line, "port ") && absl::SimpleAtoi(line->substr(5), &port))
      << *line;

  auto stub = testing::Echo::NewStub(CreateTracedChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials(), *telemetry));
  TraceId trace_id;
  SpanId root_id;
  {
    Span root = telemetry->tracer().StartSpan("cpp-root");
    Scope scope(root);
    trace_id = root.context().trace_id();
    root_id = root.context().span_id();
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(20)));
    testing::EchoRequest request;
    request.set_message("from c++");
    testing::EchoResponse response;
    grpc::Status status = stub->Unary(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.message(), "from c++");
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
                         ::testing::Values(Format{"tracecontext", "tracecontext,baggage"},
                                           Format{"b3", "b3"}),
                         [](const ::testing::TestParamInfo<Format>& info) {
                           return std::string(info.param.node);
                         });

}  // namespace
}  // namespace tracebridge
