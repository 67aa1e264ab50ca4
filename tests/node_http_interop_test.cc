// One trace across two independent OpenTelemetry implementations and both of
// our doors, with W3C Trace Context and with B3 (single header):
//
//   Node HTTP client (OpenTelemetry JS, instrumentation-http)
//     -> our Pistache gateway (TracedRouter)
//       -> our gRPC service (traced Echo, in this process)
//         -> a Node gRPC server (OpenTelemetry JS, instrumentation-grpc)
//
// The Node side's spans come from the JSON lines its two processes export
// (tests/interop/node_http/client.js and tests/interop/node_grpc/peer.js);
// ours from the span stores of the gateway's and the gRPC service's own
// Telemetry. Together they must form one chain with no gap: Node client span
// -> gateway server span -> gateway client span -> our gRPC server span ->
// our gRPC client span -> Node gRPC server span, all in the trace the Node
// client started.
//
// The npm packages are installed by the test (`npm ci` from the committed
// package-lock.json into $TEST_TMPDIR, with a persistent cache; see
// tests/testing/npm_package.h), so a cold cache needs the npm registry.

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <pistache/endpoint.h>
#include <pistache/router.h>

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
#include "tracebridge/http/traced_router.h"
#include "tracebridge/interceptors/install.h"

namespace tracebridge {
namespace {

constexpr char kEchoMethod[] = "tracebridge.testing.Echo/Unary";
constexpr char kRoute[] = "/echo/:message";
// A generous bound on one node run (start-up dominates: about a second).
constexpr absl::Duration kNodeTimeout = absl::Minutes(1);

// One span as client.js or peer.js wrote it.
struct NodeSpan {
  std::string trace_id;
  std::string span_id;
  std::string parent_span_id;
  std::string name;
  std::string kind;
  std::string status;  // httpStatus (client.js) or grpcStatus (peer.js)
};

// The string value of "key" in one of the peers' flat JSON objects. Their
// values are hex ids, span names, kind names and status numbers: no escapes
// to undo.
std::string StringField(absl::string_view line, absl::string_view key) {
  const std::string needle = absl::StrCat("\"", key, "\":\"");
  const size_t start = line.find(needle);
  if (start == absl::string_view::npos) return "";
  const size_t begin = start + needle.size();
  const size_t end = line.find('"', begin);
  return end == absl::string_view::npos ? "" : std::string(line.substr(begin, end - begin));
}

std::vector<NodeSpan> ReadNodeSpans(const std::string& path, absl::string_view status_key) {
  std::vector<NodeSpan> spans;
  for (absl::string_view line :
       absl::StrSplit(testing::ReadFileOrEmpty(path), '\n', absl::SkipEmpty())) {
    spans.push_back({StringField(line, "traceId"), StringField(line, "spanId"),
                     StringField(line, "parentSpanId"), StringField(line, "name"),
                     StringField(line, "kind"), StringField(line, status_key)});
  }
  return spans;
}

const NodeSpan* FindNodeSpan(const std::vector<NodeSpan>& spans, absl::string_view kind) {
  for (const NodeSpan& span : spans) {
    if (span.kind == kind) return &span;
  }
  return nullptr;
}

// The HTTP series of (method, route) on `side`; `started == 0` when absent.
SeriesSnapshot HttpSeries(Telemetry& telemetry, Side side, const std::string& method,
                          const std::string& route) {
  for (SeriesSnapshot& series : telemetry.metrics().Snapshot().series) {
    if (series.protocol == Protocol::kHttp && series.side == side && series.scope == method &&
        series.name == route) {
      return series;
    }
  }
  return SeriesSnapshot();
}

// The gateway: a traced Pistache endpoint on 127.0.0.1:<free port> whose one
// route answers with what our gRPC service echoes back.
class Gateway {
 public:
  Gateway(Telemetry& telemetry, const std::string& backend)
      : endpoint_(Pistache::Address(Pistache::IP::loopback(), Pistache::Port(0))) {
    std::shared_ptr<testing::Echo::Stub> stub = testing::Echo::NewStub(
        CreateTracedChannel(backend, grpc::InsecureChannelCredentials(), telemetry));
    TracedRouter traced(router_, telemetry);
    status_ =
        traced.Get(kRoute, [stub](const Pistache::Rest::Request& request, TracedResponse response) {
          grpc::ClientContext context;
          context.set_deadline(testing::DeadlineIn(absl::Seconds(20)));
          testing::EchoRequest echo;
          echo.set_message(request.param(":message").as<std::string>());
          testing::EchoResponse reply;
          const grpc::Status status = stub->Unary(&context, echo, &reply);
          if (status.ok()) {
            response.Send(Pistache::Http::Code::Ok, reply.message());
          } else {
            response.Send(Pistache::Http::Code::Bad_Gateway, status.error_message());
          }
        });
    if (!status_.ok()) return;
    endpoint_.init(Pistache::Http::Endpoint::options().threads(2));
    endpoint_.setHandler(traced.MakeHandler());
    endpoint_.serveThreaded();
    port_ = static_cast<uint16_t>(endpoint_.getPort());
  }
  ~Gateway() {
    if (port_ != 0) endpoint_.shutdown();
  }
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  const absl::Status& status() const { return status_; }
  int port() const { return port_; }

 private:
  Pistache::Rest::Router router_;
  Pistache::Http::Endpoint endpoint_;
  absl::Status status_;
  int port_ = 0;
};

// One propagation format, used alone by every process of the chain so each
// hop carries the context in that format's header only.
struct Format {
  const char* node;         // the peers' name for it
  const char* propagators;  // ours, as OTEL_PROPAGATORS spells it
};

class NodeHttpInteropTest : public ::testing::TestWithParam<Format> {
 protected:
  static void SetUpTestSuite() {
    auto package = testing::PrepareNpmPackage("tests/interop/node_http",
                                              {"package.json", "package-lock.json", "client.js",
                                               "../node_grpc/peer.js", "../../echo/echo.proto"});
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

  void SetUp() override { ASSERT_NE(package_, nullptr) << *install_error_; }

  // The path of a file in the package directory, named after this format.
  std::string FileFor(const std::string& what) const {
    return absl::StrCat(package_->dir, "/", GetParam().node, "-", what);
  }

  static testing::NodePackage* package_;
  static std::string* install_error_;
};

testing::NodePackage* NodeHttpInteropTest::package_ = nullptr;
std::string* NodeHttpInteropTest::install_error_ = nullptr;

TEST_P(NodeHttpInteropTest, OneTraceFromNodeHttpClientToNodeGrpcServer) {
  const std::string client_spans = FileFor("client.jsonl");
  const std::string server_spans = FileFor("server.jsonl");
  std::remove(client_spans.c_str());
  std::remove(server_spans.c_str());

  // The far end: peer.js serving Echo.
  auto started = testing::ChildProcess::Start(
      {package_->node, "peer.js", "server", GetParam().node, server_spans}, package_->env,
      package_->dir, server_spans + ".log");
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<testing::ChildProcess> node_server = *std::move(started);
  absl::StatusOr<std::string> line = node_server->ReadLine(kNodeTimeout);
  ASSERT_TRUE(line.ok()) << line.status() << "\n" << node_server->Wait(absl::Seconds(5)).log;
  int node_port = 0;
  ASSERT_TRUE(absl::StartsWith(*line, "port ") && absl::SimpleAtoi(line->substr(5), &node_port))
      << *line;

  // Our gRPC service, calling the Node server; then our gateway, calling it.
  auto middle = testing::MakeTestTelemetry("interop-middle", GetParam().propagators, nullptr);
  testing::EchoServiceImpl middle_service(testing::Echo::NewStub(CreateTracedChannel(
      absl::StrCat("127.0.0.1:", node_port), grpc::InsecureChannelCredentials(), *middle)));
  testing::TracedServer middle_server = testing::StartTracedServer(*middle, {&middle_service});
  ASSERT_GT(middle_server.port, 0);
  auto gateway_telemetry =
      testing::MakeTestTelemetry("interop-gateway", GetParam().propagators, nullptr);
  Gateway gateway(*gateway_telemetry, middle_server.address());
  ASSERT_TRUE(gateway.status().ok()) << gateway.status();

  // The near end: client.js, one GET inside its root span.
  testing::ProcessResult client =
      testing::RunProgram({package_->node, "client.js", GetParam().node, client_spans,
                           std::to_string(gateway.port()), "/echo/hello"},
                          package_->env, package_->dir, client_spans + ".log", kNodeTimeout);
  ASSERT_FALSE(client.timed_out) << client.log;
  ASSERT_EQ(client.exit_code, 0) << client.log;
  EXPECT_TRUE(absl::StrContains(client.log, "\"status\":200")) << client.log;
  EXPECT_TRUE(absl::StrContains(client.log, "\"body\":\"hello\"")) << client.log;

  // End of input tells peer.js to shut down, flush and exit.
  node_server->CloseStdin();
  const testing::ProcessResult server_exit = node_server->Wait(kNodeTimeout);
  ASSERT_FALSE(server_exit.timed_out) << server_exit.log;
  ASSERT_EQ(server_exit.exit_code, 0) << server_exit.log;

  // The trace the Node client started.
  const std::vector<NodeSpan> client_side = ReadNodeSpans(client_spans, "httpStatus");
  const NodeSpan* node_client = FindNodeSpan(client_side, "CLIENT");
  ASSERT_NE(node_client, nullptr) << testing::ReadFileOrEmpty(client_spans);
  EXPECT_EQ(node_client->status, "200");
  const TraceId trace_id = TraceId::FromHex(node_client->trace_id);
  ASSERT_TRUE(trace_id.IsValid()) << node_client->trace_id;
  // Our X-Trace-ID response header names that trace.
  EXPECT_TRUE(
      absl::StrContains(client.log, absl::StrCat("\"xTraceId\":\"", node_client->trace_id, "\"")))
      << client.log;

  // Our four spans, from the two span stores.
  const std::vector<SpanData> gateway_spans =
      testing::WaitForTrace(*gateway_telemetry, trace_id, 2);
  const std::vector<SpanData> middle_spans = testing::WaitForTrace(*middle, trace_id, 2);
  ASSERT_EQ(gateway_spans.size(), 2u) << "gateway spans in Node's trace " << node_client->trace_id;
  ASSERT_EQ(middle_spans.size(), 2u)
      << "gRPC service spans in Node's trace " << node_client->trace_id;
  const SpanData* chain[] = {
      testing::FindSpan(gateway_spans, absl::StrCat("GET ", kRoute), SpanKind::kServer),
      testing::FindSpan(gateway_spans, kEchoMethod, SpanKind::kClient),
      testing::FindSpan(middle_spans, kEchoMethod, SpanKind::kServer),
      testing::FindSpan(middle_spans, kEchoMethod, SpanKind::kClient),
  };
  const char* hops[] = {"gateway server", "gateway client", "gRPC server", "gRPC client"};
  std::string parent = node_client->span_id;
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_NE(chain[i], nullptr) << hops[i];
    EXPECT_EQ(chain[i]->context.trace_id(), trace_id) << hops[i];
    EXPECT_EQ(chain[i]->parent_span_id.ToHex(), parent) << hops[i];
    // Only server spans have their parent in another process.
    EXPECT_EQ(chain[i]->parent_is_remote, chain[i]->kind == SpanKind::kServer) << hops[i];
    EXPECT_TRUE(chain[i]->context.trace_flags().IsSampled()) << hops[i];
    EXPECT_NE(chain[i]->status, StatusCode::kError) << hops[i];
    parent = chain[i]->context.span_id().ToHex();
  }
  const AttributeValue* code = chain[0]->FindAttribute("http.response.status_code");
  ASSERT_NE(code, nullptr);
  EXPECT_EQ(absl::get<int64_t>(*code), 200);

  // The Node gRPC server's span closes the chain.
  const std::vector<NodeSpan> server_side = ReadNodeSpans(server_spans, "grpcStatus");
  const NodeSpan* node_server_span = FindNodeSpan(server_side, "SERVER");
  ASSERT_NE(node_server_span, nullptr) << testing::ReadFileOrEmpty(server_spans);
  EXPECT_TRUE(absl::EndsWith(node_server_span->name, "Echo/Unary")) << node_server_span->name;
  EXPECT_EQ(node_server_span->trace_id, node_client->trace_id);
  EXPECT_EQ(node_server_span->parent_span_id, parent);
  EXPECT_EQ(node_server_span->status, "0");

  // Each hop counted exactly once.
  const SeriesSnapshot http = HttpSeries(*gateway_telemetry, Side::kServer, "GET", kRoute);
  EXPECT_EQ(http.Handled(), 1u);
  EXPECT_EQ(testing::StatusCountOf(http, 200), 1u);
  EXPECT_EQ(http.InFlight(), 0u);
  for (Telemetry* telemetry : {gateway_telemetry.get(), middle.get()}) {
    const SeriesSnapshot calls =
        testing::WaitForSeries(*telemetry, Side::kClient, "tracebridge.testing.Echo", "Unary", 1);
    EXPECT_EQ(calls.Handled(), 1u);
    EXPECT_EQ(testing::StatusCountOf(calls, 0), 1u);
    EXPECT_EQ(calls.InFlight(), 0u);
  }
  const SeriesSnapshot served =
      testing::WaitForSeries(*middle, Side::kServer, "tracebridge.testing.Echo", "Unary", 1);
  EXPECT_EQ(served.Handled(), 1u);
  EXPECT_EQ(testing::StatusCountOf(served, 0), 1u);
  middle_server.server->Shutdown(testing::DeadlineIn(absl::Seconds(5)));
}

INSTANTIATE_TEST_SUITE_P(Formats, NodeHttpInteropTest,
                         ::testing::Values(Format{"tracecontext", "tracecontext,baggage"},
                                           Format{"b3", "b3"}),
                         [](const ::testing::TestParamInfo<Format>& info) {
                           return std::string(info.param.node);
                         });

}  // namespace
}  // namespace tracebridge
