// Sampling configured by name reaches both doors over real connections: a
// Pistache front-end on 127.0.0.1:0 and gRPC services on 127.0.0.1:0, with
// samplers built by SamplerFromName as OTEL_TRACES_SAMPLER would build them.
//
//   - per-route and per-method rules, each with its own sampler;
//   - "every error": spans the rules drop are record-only and exported only
//     when they end in error, counted either way;
//   - the W3C sampled flag of a record-only span stays 0 on the wire, and a
//     parent-based service behind it still exports its own failure;
//   - the shared route filter: telemetry endpoints untraced (and uncounted
//     unless asked).
//
// Every wait is a condition with a deadline (the span ends just after the
// response is written, so the test waits for the tracer's counts).

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <pistache/router.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/echo_service.h"
#include "tests/testing/http_client.h"
#include "tests/testing/pistache_server.h"
#include "tests/testing/traced_service.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/core/trace/clock.h"
#include "tracebridge/http/endpoints.h"
#include "tracebridge/http/traced_router.h"
#include "tracebridge/interceptors/install.h"

namespace tracebridge {
namespace {

using ::tracebridge::testing::AttributeText;
using ::tracebridge::testing::EchoRequest;
using ::tracebridge::testing::EchoResponse;
using ::tracebridge::testing::EchoServiceImpl;
using ::tracebridge::testing::HttpGet;
using ::tracebridge::testing::HttpResponse;
using ::tracebridge::testing::PistacheServer;
using ::tracebridge::testing::PollUntil;

std::unique_ptr<Telemetry> TelemetryWithSampler(const std::string& name, const std::string& sampler,
                                                const std::string& arg) {
  absl::StatusOr<std::shared_ptr<Sampler>> built = SamplerFromName(sampler, arg);
  EXPECT_TRUE(built.ok()) << built.status();
  return testing::MakeTestTelemetry(name, testing::kAllPropagators,
                                    [&](TelemetryBuilder& builder) { builder.SetSampler(*built); });
}

// Spans that have ended, whatever became of them.
uint64_t EndedSpans(Telemetry& telemetry) {
  const TracerStats stats = telemetry.Stats().tracer;
  return stats.spans_ended + stats.record_only_exported + stats.record_only_discarded;
}

bool WaitForEnded(Telemetry& telemetry, uint64_t count) {
  return PollUntil([&] { return EndedSpans(telemetry) >= count; }, absl::Seconds(10));
}

// The stored spans by name.
std::map<std::string, std::vector<SpanData>> StoredByName(Telemetry& telemetry) {
  std::map<std::string, std::vector<SpanData>> by_name;
  for (const StoredSpan& stored : telemetry.span_store()->MostRecent(10000)) {
    by_name[stored.span->name].push_back(*stored.span);
  }
  return by_name;
}

bool MarkedSampledAtEnd(const SpanData& span) {
  const AttributeValue* value = span.FindAttribute(kSampledAtEndAttribute);
  return value != nullptr && absl::holds_alternative<bool>(*value) && absl::get<bool>(*value);
}

// The sampled bit of a traceparent header value: "sampled", "not sampled",
// or the value itself when it is not a traceparent.
std::string SampledFlagOf(const std::string& traceparent) {
  int flags = 0;
  if (traceparent.size() != 55 || !absl::SimpleHexAtoi(traceparent.substr(53), &flags)) {
    return "<" + traceparent + ">";
  }
  return (flags & 1) != 0 ? "sampled" : "not sampled";
}

void Answer(TracedResponse& response, int code) {
  response.Send(static_cast<Pistache::Http::Code>(code), std::to_string(code));
}

TEST(HttpSamplingTest, RulesByRouteAndEveryErrorFromConfiguration) {
  std::unique_ptr<Telemetry> telemetry = TelemetryWithSampler(
      "rules-http", "tracebridge_rules",
      "route:/healthz=rate:1; route:/orders/*=always_on; error=always_on; default=always_off");
  Pistache::Rest::Router router;
  TracedRouterOptions options;
  // Health checks traced here, so that their rule has something to limit.
  options.filter.excluded = {"/metrics", "/metrics.json", "/traces/*"};
  TracedRouter traced(router, *telemetry, options);
  ASSERT_TRUE(traced
                  .Get("/healthz", [](const Pistache::Rest::Request&,
                                      TracedResponse response) { Answer(response, 200); })
                  .ok());
  for (const char* route : {"/orders/:id", "/carts/:id"}) {
    const int failure = absl::StartsWith(route, "/orders") ? 500 : 503;
    ASSERT_TRUE(
        traced
            .Get(route,
                 [failure](const Pistache::Rest::Request& request, TracedResponse response) {
                   const bool fail = request.param(":id").as<std::string>() == "fail";
                   Answer(response, fail ? failure : 200);
                 })
            .ok());
  }
  ASSERT_TRUE(MountTelemetryEndpoints(traced, *telemetry).ok());
  PistacheServer server(traced.MakeHandler());

  const int64_t start = MonotonicNanosNow();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(HttpGet(server.port(), "/healthz")->status, 200);
  const double elapsed_seconds = (MonotonicNanosNow() - start) / 1e9;
  std::map<std::string, std::string> flags;
  for (const char* target : {"/orders/1", "/orders/2", "/orders/fail", "/carts/1", "/carts/2",
                             "/carts/3", "/carts/fail", "/carts/fail"}) {
    absl::StatusOr<HttpResponse> response = HttpGet(server.port(), target);
    ASSERT_TRUE(response.ok()) << response.status();
    flags[target] = SampledFlagOf(response->Header("traceparent"));
  }
  for (int i = 0; i < 3; ++i) ASSERT_EQ(HttpGet(server.port(), "/metrics")->status, 200);
  ASSERT_TRUE(WaitForEnded(*telemetry, 28)) << EndedSpans(*telemetry);

  auto spans = StoredByName(*telemetry);
  // One per second at most: a burst of one, plus one per second elapsed.
  const size_t healthz = spans["GET /healthz"].size();
  EXPECT_GE(healthz, 1u);
  EXPECT_LE(healthz, 1u + static_cast<size_t>(std::ceil(elapsed_seconds)));
  // Orders: every one, failures included, sampled from the start.
  ASSERT_EQ(spans["GET /orders/:id"].size(), 3u);
  for (const SpanData& span : spans["GET /orders/:id"]) {
    EXPECT_TRUE(span.context.IsSampled());
    EXPECT_FALSE(MarkedSampledAtEnd(span));
  }
  EXPECT_EQ(flags["/orders/fail"], "sampled");
  // Carts: dropped by the default, except the two that failed, exported at
  // their end with the not-sampled flag they were answered with.
  ASSERT_EQ(spans["GET /carts/:id"].size(), 2u);
  for (const SpanData& span : spans["GET /carts/:id"]) {
    EXPECT_FALSE(span.context.IsSampled());
    EXPECT_TRUE(MarkedSampledAtEnd(span));
    EXPECT_EQ(span.status, StatusCode::kError);
    EXPECT_EQ(AttributeText(span, "http.response.status_code"), "503");
    EXPECT_EQ(AttributeText(span, "url.path"), "/carts/fail");
  }
  EXPECT_EQ(flags["/carts/fail"], "not sampled");
  EXPECT_EQ(flags["/carts/1"], "not sampled");
  // The telemetry endpoint is filtered out: no span, no series.
  EXPECT_EQ(spans.count("GET /metrics"), 0u);
  EXPECT_TRUE(testing::FindHttpSeries(*telemetry, Side::kServer, "GET", "/metrics").name.empty());

  // Counted honestly: every span that started is accounted for.
  const TracerStats stats = telemetry->Stats().tracer;
  EXPECT_EQ(stats.spans_started, healthz + 3);
  EXPECT_EQ(stats.record_only_started, (20 - healthz) + 5);
  EXPECT_EQ(stats.record_only_exported, 2u);
  EXPECT_EQ(stats.record_only_discarded, (20 - healthz) + 3);
  // The same figures in the Prometheus self-metrics.
  const std::string exposition = HttpGet(server.port(), "/metrics")->body;
  EXPECT_NE(exposition.find("tracebridge_spans_record_only_ended_total{outcome=\"exported\"} 2"),
            std::string::npos)
      << exposition;
}

TEST(HttpSamplingTest, FilteredRoutesAreCountedOnlyWhenAsked) {
  std::unique_ptr<Telemetry> telemetry = testing::MakeTestTelemetry("filter-http");
  Pistache::Rest::Router router;
  TracedRouter traced(router, *telemetry);  // the default filter
  TracedRouterOptions counting;
  counting.filter.count_excluded = true;
  Pistache::Rest::Router counted_router;
  TracedRouter counted(counted_router, *telemetry, counting);
  for (TracedRouter* r : {&traced, &counted}) {
    ASSERT_TRUE(r->Get("/healthz", [](const Pistache::Rest::Request&, TracedResponse response) {
                   Answer(response, 200);
                 }).ok());
  }
  ASSERT_TRUE(MountTelemetryEndpoints(counted, *telemetry).ok());
  ASSERT_TRUE(traced
                  .Get("/orders/:id", [](const Pistache::Rest::Request&,
                                         TracedResponse response) { Answer(response, 200); })
                  .ok());
  PistacheServer plain(traced.MakeHandler());
  PistacheServer with_counts(counted.MakeHandler());

  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<HttpResponse> health = HttpGet(plain.port(), "/healthz");
    ASSERT_TRUE(health.ok());
    EXPECT_EQ(health->Header("traceparent"), "");  // untraced: no trace headers
  }
  for (int i = 0; i < 2; ++i) ASSERT_EQ(HttpGet(with_counts.port(), "/metrics")->status, 200);
  ASSERT_EQ(HttpGet(plain.port(), "/orders/7")->status, 200);
  ASSERT_TRUE(WaitForEnded(*telemetry, 1));

  // Only the order was traced.
  EXPECT_EQ(telemetry->Stats().tracer.spans_started, 1u);
  auto spans = StoredByName(*telemetry);
  EXPECT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans.count("GET /orders/:id"), 1u);
  // /metrics was counted where asked; the health checks of the counting
  // router were never called, so it has a series with nothing in it.
  EXPECT_TRUE(PollUntil(
      [&] {
        return testing::FindHttpSeries(*telemetry, Side::kServer, "GET", "/metrics").Handled() == 2;
      },
      absl::Seconds(10)));
  EXPECT_EQ(testing::FindHttpSeries(*telemetry, Side::kServer, "GET", "/healthz").Handled(), 0u);
}

TEST(GrpcSamplingTest, RulesByMethodAndEveryError) {
  std::unique_ptr<Telemetry> telemetry =
      TelemetryWithSampler("rules-grpc", "tracebridge_rules",
                           "method:/tracebridge.testing.Echo/Unary=always_off;error=always_on");
  EchoServiceImpl echo;
  testing::TracedServer server = testing::StartTracedServer(*telemetry, {&echo});
  ASSERT_NE(server.server, nullptr);
  auto stub = testing::Echo::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));

  for (int code : {0, 0, 0, 13}) {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    EchoRequest request;
    request.set_status_code(code);
    EchoResponse response;
    EXPECT_EQ(stub->Unary(&context, request, &response).error_code(), code);
  }
  {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    EchoRequest request;
    request.set_count(2);
    std::unique_ptr<grpc::ClientReader<EchoResponse>> reader =
        stub->ServerStream(&context, request);
    EchoResponse response;
    while (reader->Read(&response)) {
    }
    EXPECT_TRUE(reader->Finish().ok());
  }
  ASSERT_TRUE(WaitForEnded(*telemetry, 5));

  auto spans = StoredByName(*telemetry);
  // Unary: only the failed call, exported at its end.
  ASSERT_EQ(spans["tracebridge.testing.Echo/Unary"].size(), 1u);
  const SpanData& failed = spans["tracebridge.testing.Echo/Unary"][0];
  EXPECT_EQ(AttributeText(failed, "rpc.grpc.status_code"), "13");
  EXPECT_FALSE(failed.context.IsSampled());
  EXPECT_TRUE(MarkedSampledAtEnd(failed));
  // The other method follows the default (always_on when none is written).
  ASSERT_EQ(spans["tracebridge.testing.Echo/ServerStream"].size(), 1u);
  EXPECT_TRUE(spans["tracebridge.testing.Echo/ServerStream"][0].context.IsSampled());
  const TracerStats stats = telemetry->Stats().tracer;
  EXPECT_EQ(stats.record_only_started, 4u);
  EXPECT_EQ(stats.record_only_exported, 1u);
  EXPECT_EQ(stats.record_only_discarded, 3u);
  server.server->Shutdown(testing::DeadlineIn(absl::Seconds(2)));
}

// HTTP gateway -> gRPC backend, both parent-based with an error rule and a
// default that drops. The gateway's decision goes downstream as "not
// sampled" and stays so; each service still exports its own failing span.
class RecordOnlyAcrossServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gateway_telemetry_ = TelemetryWithSampler("gateway", "parentbased_tracebridge_rules",
                                              "error=always_on;default=always_off");
    backend_telemetry_ = TelemetryWithSampler("backend", "parentbased_tracebridge_rules",
                                              "error=always_on;default=always_off");
    backend_ = testing::StartTracedServer(*backend_telemetry_, {&echo_});
    ASSERT_NE(backend_.server, nullptr);
    std::shared_ptr<testing::Echo::Stub> stub = testing::Echo::NewStub(CreateTracedChannel(
        backend_.address(), grpc::InsecureChannelCredentials(), *gateway_telemetry_));
    traced_ = std::make_unique<TracedRouter>(router_, *gateway_telemetry_);
    ASSERT_TRUE(traced_
                    ->Get("/echo/:message",
                          [stub](const Pistache::Rest::Request& request, TracedResponse response) {
                            grpc::ClientContext context;
                            context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
                            EchoRequest echo;
                            echo.set_message(request.param(":message").as<std::string>());
                            if (echo.message() == "fail") echo.set_status_code(13);
                            EchoResponse reply;
                            const grpc::Status status = stub->Unary(&context, echo, &reply);
                            Answer(response, status.ok() ? 200 : 502);
                          })
                    .ok());
    gateway_ = std::make_unique<PistacheServer>(traced_->MakeHandler());
  }

  void TearDown() override {
    gateway_.reset();
    if (backend_.server != nullptr)
      backend_.server->Shutdown(testing::DeadlineIn(absl::Seconds(2)));
  }

  EchoServiceImpl echo_;
  std::unique_ptr<Telemetry> gateway_telemetry_;
  std::unique_ptr<Telemetry> backend_telemetry_;
  testing::TracedServer backend_;
  Pistache::Rest::Router router_;
  std::unique_ptr<TracedRouter> traced_;
  std::unique_ptr<PistacheServer> gateway_;
};

TEST_F(RecordOnlyAcrossServicesTest, FailuresAreExportedWithTheFlagTheyWereSentWith) {
  absl::StatusOr<HttpResponse> ok = HttpGet(gateway_->port(), "/echo/hello");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 200);
  absl::StatusOr<HttpResponse> failed = HttpGet(gateway_->port(), "/echo/fail");
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(failed->status, 502);
  EXPECT_EQ(SampledFlagOf(failed->Header("traceparent")), "not sampled");
  // Two requests: a server and a client span each in the gateway, a server
  // span each in the backend.
  ASSERT_TRUE(WaitForEnded(*gateway_telemetry_, 4));
  ASSERT_TRUE(WaitForEnded(*backend_telemetry_, 2));

  const TraceId trace_id = TraceId::FromHex(failed->Header("x-trace-id"));
  ASSERT_TRUE(trace_id.IsValid());
  std::vector<StoredSpan> gateway = gateway_telemetry_->span_store()->MostRecent(100);
  std::vector<StoredSpan> backend = backend_telemetry_->span_store()->MostRecent(100);
  // Only the failing request's spans: gateway server (502) and client
  // (INTERNAL), backend server (INTERNAL).
  ASSERT_EQ(gateway.size(), 2u);
  ASSERT_EQ(backend.size(), 1u);
  const SpanData* client = nullptr;
  const SpanData* server = nullptr;
  for (const StoredSpan& stored : gateway) {
    (stored.span->kind == SpanKind::kClient ? client : server) = stored.span.get();
  }
  ASSERT_NE(client, nullptr);
  ASSERT_NE(server, nullptr);
  const SpanData& downstream = *backend[0].span;
  for (const SpanData* span : {server, client, &downstream}) {
    EXPECT_EQ(span->context.trace_id(), trace_id) << span->name;
    EXPECT_FALSE(span->context.IsSampled()) << span->name;
    EXPECT_TRUE(MarkedSampledAtEnd(*span)) << span->name;
    EXPECT_EQ(span->status, StatusCode::kError) << span->name;
  }
  EXPECT_EQ(client->parent_span_id, server->context.span_id());
  EXPECT_EQ(downstream.parent_span_id, client->context.span_id());
  EXPECT_TRUE(downstream.parent_is_remote);
  EXPECT_EQ(gateway_telemetry_->Stats().tracer.record_only_discarded, 2u);
  EXPECT_EQ(backend_telemetry_->Stats().tracer.record_only_discarded, 1u);
}

TEST_F(RecordOnlyAcrossServicesTest, ASampledCallerIsFollowedThroughout) {
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  absl::StatusOr<HttpResponse> response =
      HttpGet(gateway_->port(), "/echo/hello",
              {{"traceparent", absl::StrCat("00-", trace, "-00f067aa0ba902b7-01")}});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(SampledFlagOf(response->Header("traceparent")), "sampled");
  ASSERT_TRUE(WaitForEnded(*gateway_telemetry_, 2));
  ASSERT_TRUE(WaitForEnded(*backend_telemetry_, 1));
  EXPECT_EQ(testing::SpansOfTrace(*gateway_telemetry_, trace).size(), 2u);
  EXPECT_EQ(testing::SpansOfTrace(*backend_telemetry_, trace).size(), 1u);
  EXPECT_EQ(gateway_telemetry_->Stats().tracer.record_only_started, 0u);
}

}  // namespace
}  // namespace tracebridge
