// The bridge: an HTTP request carrying a `traceparent` enters a traced
// Pistache gateway, whose handler calls gRPC service A through a traced
// channel; A's handler calls service B the same way. The five spans (gateway
// server, gateway→A client, A server, A→B client, B server), read back from
// each service's own span store, must form one trace with the id the HTTP
// caller sent and a parent chain with no gap.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <pistache/router.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/echo_service.h"
#include "tests/testing/http_client.h"
#include "tests/testing/pistache_server.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/http/traced_router.h"
#include "tracebridge/interceptors/install.h"

namespace tracebridge {
namespace {

using ::tracebridge::testing::EchoRequest;
using ::tracebridge::testing::EchoResponse;
using ::tracebridge::testing::EchoServiceImpl;
using ::tracebridge::testing::HttpGet;
using ::tracebridge::testing::HttpResponse;
using ::tracebridge::testing::PistacheServer;
using ::tracebridge::testing::SpansOfTrace;

constexpr char kTraceId[] = "0af7651916cd43dd8448eb211c80319c";
constexpr char kCallerSpanId[] = "b7ad6b7169203331";
constexpr char kEchoMethod[] = "tracebridge.testing.Echo/Unary";

// A gRPC Echo server on 127.0.0.1:<free port> with tracebridge installed.
struct GrpcService {
  GrpcService(Telemetry& telemetry, std::shared_ptr<testing::Echo::Stub> downstream)
      : service(std::move(downstream)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    InstallOptions options;
    options.admin_listener = false;  // not what this test is about; cannot fail without it
    installation = *InstallOn(builder, telemetry, std::move(options));
    server = builder.BuildAndStart();
  }
  ~GrpcService() {
    if (server != nullptr) server->Shutdown(std::chrono::system_clock::now());
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port); }

  EchoServiceImpl service;
  int port = 0;
  Installation installation;
  std::unique_ptr<grpc::Server> server;
};

class BridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gateway_telemetry_ = testing::MakeTestTelemetry("bridge-gateway");
    a_telemetry_ = testing::MakeTestTelemetry("bridge-a");
    b_telemetry_ = testing::MakeTestTelemetry("bridge-b");
    b_ = std::make_unique<GrpcService>(*b_telemetry_, nullptr);
    ASSERT_GT(b_->port, 0);
    a_ = std::make_unique<GrpcService>(
        *a_telemetry_, testing::Echo::NewStub(CreateTracedChannel(
                           b_->address(), grpc::InsecureChannelCredentials(), *a_telemetry_)));
    ASSERT_GT(a_->port, 0);
    std::shared_ptr<testing::Echo::Stub> stub_a = testing::Echo::NewStub(CreateTracedChannel(
        a_->address(), grpc::InsecureChannelCredentials(), *gateway_telemetry_));

    traced_ = std::make_unique<TracedRouter>(router_, *gateway_telemetry_);
    ASSERT_TRUE(
        traced_
            ->Get("/echo/:message",
                  [stub_a](const Pistache::Rest::Request& request, TracedResponse response) {
                    grpc::ClientContext context;
                    context.set_deadline(std::chrono::system_clock::now() +
                                         std::chrono::seconds(10));
                    EchoRequest echo;
                    echo.set_message(request.param(":message").as<std::string>());
                    if (request.query().has("fail")) echo.set_status_code(13);
                    EchoResponse reply;
                    grpc::Status status = stub_a->Unary(&context, echo, &reply);
                    if (status.ok()) {
                      response.Send(Pistache::Http::Code::Ok, reply.message());
                    } else {
                      response.Send(Pistache::Http::Code::Bad_Gateway, status.error_message());
                    }
                  })
            .ok());
    gateway_ = std::make_unique<PistacheServer>(traced_->MakeHandler());
  }

  void TearDown() override {
    gateway_.reset();
    a_.reset();
    b_.reset();
  }

  // Waits (bounded) until `telemetry` stores `count` spans of kTraceId.
  std::vector<StoredSpan> WaitForSpans(Telemetry& telemetry, size_t count) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    std::vector<StoredSpan> spans;
    while (true) {
      spans = SpansOfTrace(telemetry, kTraceId);
      if (spans.size() >= count || absl::Now() > deadline) return spans;
      absl::SleepFor(absl::Milliseconds(1));
    }
  }

  static std::shared_ptr<const SpanData> OfKind(const std::vector<StoredSpan>& spans,
                                                SpanKind kind) {
    for (const StoredSpan& stored : spans) {
      if (stored.span->kind == kind) return stored.span;
    }
    return nullptr;
  }

  std::unique_ptr<Telemetry> gateway_telemetry_;
  std::unique_ptr<Telemetry> a_telemetry_;
  std::unique_ptr<Telemetry> b_telemetry_;
  std::unique_ptr<GrpcService> b_;
  std::unique_ptr<GrpcService> a_;
  Pistache::Rest::Router router_;
  std::unique_ptr<TracedRouter> traced_;
  std::unique_ptr<PistacheServer> gateway_;
};

TEST_F(BridgeTest, OneTraceFromHttpThroughTwoGrpcHops) {
  absl::StatusOr<HttpResponse> response =
      HttpGet(gateway_->port(), "/echo/hello",
              {{"traceparent", absl::StrCat("00-", kTraceId, "-", kCallerSpanId, "-01")}});
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(response->Header("x-trace-id"), kTraceId);

  const std::vector<StoredSpan> gateway = WaitForSpans(*gateway_telemetry_, 2);
  const std::vector<StoredSpan> a = WaitForSpans(*a_telemetry_, 2);
  const std::vector<StoredSpan> b = WaitForSpans(*b_telemetry_, 1);
  ASSERT_EQ(gateway.size(), 2u);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 1u);

  const std::shared_ptr<const SpanData> chain[] = {
      OfKind(gateway, SpanKind::kServer), OfKind(gateway, SpanKind::kClient),
      OfKind(a, SpanKind::kServer), OfKind(a, SpanKind::kClient), OfKind(b, SpanKind::kServer)};
  const SpanKind kinds[] = {SpanKind::kServer, SpanKind::kClient, SpanKind::kServer,
                            SpanKind::kClient, SpanKind::kServer};
  const char* names[] = {"GET /echo/:message", kEchoMethod, kEchoMethod, kEchoMethod, kEchoMethod};
  SpanId parent = SpanId::FromHex(kCallerSpanId);
  for (size_t i = 0; i < 5; ++i) {
    ASSERT_NE(chain[i], nullptr) << i;
    EXPECT_EQ(chain[i]->context.trace_id().ToHex(), kTraceId) << i;
    EXPECT_EQ(chain[i]->parent_span_id, parent) << i;
    EXPECT_EQ(chain[i]->kind, kinds[i]) << i;
    EXPECT_EQ(chain[i]->name, names[i]) << i;
    EXPECT_NE(chain[i]->status, StatusCode::kError) << i;
    // Only server spans have a parent in another process.
    EXPECT_EQ(chain[i]->parent_is_remote, kinds[i] == SpanKind::kServer) << i;
    parent = chain[i]->context.span_id();
  }
  EXPECT_EQ(response->Header("traceparent"),
            absl::StrCat("00-", kTraceId, "-", chain[0]->context.span_id().ToHex(), "-01"));
}

TEST_F(BridgeTest, AFailureDownstreamIsAnErrorAtEveryHop) {
  absl::StatusOr<HttpResponse> response =
      HttpGet(gateway_->port(), "/echo/boom?fail=1",
              {{"traceparent", absl::StrCat("00-", kTraceId, "-", kCallerSpanId, "-01")}});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 502);

  const std::vector<StoredSpan> gateway = WaitForSpans(*gateway_telemetry_, 2);
  const std::vector<StoredSpan> a = WaitForSpans(*a_telemetry_, 2);
  const std::vector<StoredSpan> b = WaitForSpans(*b_telemetry_, 1);
  ASSERT_EQ(gateway.size(), 2u);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 1u);
  for (const auto* spans : {&gateway, &a, &b}) {
    for (const StoredSpan& stored : *spans) {
      EXPECT_EQ(stored.span->status, StatusCode::kError) << stored.span->name;
    }
  }
}

}  // namespace
}  // namespace tracebridge
