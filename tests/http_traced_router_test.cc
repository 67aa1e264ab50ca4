// Tests of the traced Pistache router with a real endpoint on 127.0.0.1:0 and
// a raw HTTP client: extraction for every propagation format, route-template
// labels, unmatched routes, status codes, response headers, deferred and
// failing handlers, and counts under concurrency.

#include "tracebridge/http/traced_router.h"

#include <atomic>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <pistache/router.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/http_client.h"
#include "tests/testing/pistache_server.h"
#include "tracebridge/core/trace/span.h"

namespace tracebridge {
namespace {

using ::tracebridge::testing::AttributeText;
using ::tracebridge::testing::FindHttpSeries;
using ::tracebridge::testing::HttpGet;
using ::tracebridge::testing::HttpRequest;
using ::tracebridge::testing::HttpResponse;
using ::tracebridge::testing::PistacheServer;
using ::tracebridge::testing::SendHttp;
using ::tracebridge::testing::SpansOfTrace;
using ::tracebridge::testing::StatusCountOf;
using Code = Pistache::Http::Code;

constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kSpanId[] = "00f067aa0ba902b7";

class TracedRouterTest : public ::testing::Test {
 protected:
  void SetUp() override { telemetry_ = testing::MakeTestTelemetry("http-router"); }

  void TearDown() override {
    server_.reset();
    {
      absl::MutexLock lock(&threads_mu_);
      for (std::thread& thread : threads_) thread.join();
      threads_.clear();
    }
  }

  // Builds the traced router with the standard test routes and serves it.
  void Serve(TracedRouterOptions options = TracedRouterOptions(), size_t max_request_size = 0) {
    traced_ = std::make_unique<TracedRouter>(router_, *telemetry_, std::move(options));
    ASSERT_TRUE(traced_
                    ->Get("/orders/:id",
                          [](const Pistache::Rest::Request& request, TracedResponse response) {
                            // Report what the handler sees as current.
                            const Baggage& baggage = CurrentBaggage();
                            std::string body =
                                absl::StrCat("order ", request.param(":id").as<std::string>(),
                                             " span ", CurrentSpan().context().span_id().ToHex(),
                                             " user ", baggage.Get("user").value_or("-"));
                            response.Send(Code::Ok, body);
                          })
                    .ok());
    ASSERT_TRUE(traced_
                    ->Post("/orders",
                           [](const Pistache::Rest::Request& request, TracedResponse response) {
                             response.Send(Code::Created, request.body());
                           })
                    .ok());
    ASSERT_TRUE(traced_
                    ->Get("/status/:code",
                          [](const Pistache::Rest::Request& request, TracedResponse response) {
                            response.Send(static_cast<Code>(request.param(":code").as<int>()),
                                          "status");
                          })
                    .ok());
    ASSERT_TRUE(
        traced_
            ->Get("/throw", [](const Pistache::Rest::Request&,
                               TracedResponse) { throw std::runtime_error("the handler failed"); })
            .ok());
    ASSERT_TRUE(
        traced_->Get("/throw-int", [](const Pistache::Rest::Request&, TracedResponse) { throw 42; })
            .ok());
    ASSERT_TRUE(
        traced_->Get("/silent", [](const Pistache::Rest::Request&, TracedResponse) {}).ok());
    ASSERT_TRUE(traced_
                    ->Get("/deferred/:id",
                          [this](const Pistache::Rest::Request& request, TracedResponse response) {
                            std::string id = request.param(":id").as<std::string>();
                            absl::MutexLock lock(&threads_mu_);
                            threads_.emplace_back([id, response = std::move(response)]() mutable {
                              Scope scope(response.span(), response.baggage());
                              CurrentSpan().SetAttribute("deferred.thread", true);
                              response.Send(Code::Accepted, "later " + id);
                            });
                          })
                    .ok());
    ASSERT_TRUE(traced_
                    ->Get("/child",
                          [this](const Pistache::Rest::Request&, TracedResponse response) {
                            Span child = telemetry_->tracer().StartSpan("child-work");
                            std::string body = child.context().span_id().ToHex();
                            child.End();
                            response.Send(Code::Ok, body);
                          })
                    .ok());
    server_ = std::make_unique<PistacheServer>(traced_->MakeHandler(), 2, max_request_size);
  }

  HttpResponse Get(const std::string& target,
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
    absl::StatusOr<HttpResponse> response = HttpGet(server_->port(), target, std::move(headers));
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : HttpResponse();
  }

  // The one server span of the response's trace (by its X-Trace-ID).
  std::shared_ptr<const SpanData> ServerSpanOf(const HttpResponse& response) {
    for (const StoredSpan& stored : SpansOfTrace(*telemetry_, response.Header("x-trace-id"))) {
      if (stored.span->kind == SpanKind::kServer) return stored.span;
    }
    return nullptr;
  }

  std::unique_ptr<Telemetry> telemetry_;
  Pistache::Rest::Router router_;
  std::unique_ptr<TracedRouter> traced_;
  std::unique_ptr<PistacheServer> server_;
  absl::Mutex threads_mu_;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(threads_mu_);
};

TEST_F(TracedRouterTest, TraceContextAndBaggageAreExtractedAndCurrent) {
  Serve();
  const HttpResponse response =
      Get("/orders/42", {{"traceparent", absl::StrCat("00-", kTraceId, "-", kSpanId, "-01")},
                         {"tracestate", "vendor=abc"},
                         {"baggage", "user=alice"}});
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("x-trace-id"), kTraceId);
  std::shared_ptr<const SpanData> span = ServerSpanOf(response);
  ASSERT_NE(span, nullptr);
  EXPECT_EQ(span->name, "GET /orders/:id");
  EXPECT_EQ(span->context.trace_id().ToHex(), kTraceId);
  EXPECT_EQ(span->parent_span_id.ToHex(), kSpanId);
  EXPECT_TRUE(span->parent_is_remote);
  EXPECT_EQ(span->context.trace_state().ToHeader(), "vendor=abc");
  // The handler saw the server span and the baggage as current.
  EXPECT_EQ(response.body,
            absl::StrCat("order 42 span ", span->context.span_id().ToHex(), " user alice"));
  // The response names the server span.
  EXPECT_EQ(response.Header("traceparent"),
            absl::StrCat("00-", kTraceId, "-", span->context.span_id().ToHex(), "-01"));
}

struct FormatCase {
  std::string name;
  std::vector<std::pair<std::string, std::string>> headers;
};

class ExtractionTest : public TracedRouterTest, public ::testing::WithParamInterface<FormatCase> {};

TEST_P(ExtractionTest, ParentComesFromTheFormat) {
  Serve();
  const HttpResponse response = Get("/orders/1", GetParam().headers);
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("x-trace-id"), kTraceId);
  std::shared_ptr<const SpanData> span = ServerSpanOf(response);
  ASSERT_NE(span, nullptr);
  EXPECT_EQ(span->context.trace_id().ToHex(), kTraceId);
  EXPECT_EQ(span->parent_span_id.ToHex(), kSpanId);
  EXPECT_TRUE(span->context.IsSampled());
}

INSTANTIATE_TEST_SUITE_P(
    Formats, ExtractionTest,
    ::testing::Values(
        FormatCase{"tracecontext",
                   {{"traceparent", absl::StrCat("00-", kTraceId, "-", kSpanId, "-01")}}},
        FormatCase{"b3single", {{"b3", absl::StrCat(kTraceId, "-", kSpanId, "-1")}}},
        FormatCase{"b3multi",
                   {{"X-B3-TraceId", kTraceId}, {"X-B3-SpanId", kSpanId}, {"X-B3-Sampled", "1"}}},
        FormatCase{"jaeger", {{"uber-trace-id", absl::StrCat(kTraceId, ":", kSpanId, ":0:1")}}},
        FormatCase{"xtrace", {{"X-Trace-ID", kTraceId}, {"X-Span-ID", kSpanId}}}),
    [](const ::testing::TestParamInfo<FormatCase>& info) { return info.param.name; });

TEST_F(TracedRouterTest, MalformedHeadersStartANewTrace) {
  Serve();
  const std::vector<std::vector<std::pair<std::string, std::string>>> cases = {
      {{"traceparent", "00-not-a-trace-01"}},
      {{"traceparent", absl::StrCat("00-", std::string(32, '0'), "-", kSpanId, "-01")}},
      {{"traceparent",
        absl::StrCat("00-", "4BF92F3577B34DA6A3CE929D0E0E4736", "-", kSpanId, "-01")}},
      {{"b3", "garbage"}, {"uber-trace-id", ":::"}, {"baggage", "=;=,,"}},
      {{"traceparent", std::string(3000, 'x')}},
      {{"tracestate", "a=b"}, {"X-B3-SpanId", kSpanId}},
  };
  for (const auto& headers : cases) {
    const HttpResponse response = Get("/orders/9", headers);
    ASSERT_EQ(response.status, 200) << headers.front().first;
    std::shared_ptr<const SpanData> span = ServerSpanOf(response);
    ASSERT_NE(span, nullptr);
    EXPECT_FALSE(span->parent_span_id.IsValid()) << headers.front().second;
    EXPECT_NE(span->context.trace_id().ToHex(), kTraceId);
    EXPECT_TRUE(absl::EndsWith(response.body, " user -"));
  }
}

TEST_F(TracedRouterTest, RouteTemplateIsTheOnlyLabel) {
  Serve();
  for (int id : {1, 2, 3, 500, 123456}) {
    EXPECT_EQ(Get(absl::StrCat("/orders/", id)).status, 200);
  }
  const SeriesSnapshot series = FindHttpSeries(*telemetry_, Side::kServer, "GET", "/orders/:id");
  EXPECT_EQ(series.started, 5u);
  EXPECT_EQ(StatusCountOf(series, 200), 5u);
  for (const SeriesSnapshot& any : telemetry_->metrics().Snapshot().series) {
    EXPECT_FALSE(absl::StrContains(any.name, "/orders/1")) << any.name;
  }
  const HttpResponse response =
      Get("/orders/77?a=1&password=hunter2&token=t0k", {{"User-Agent", "tracebridge-test/1.0"}});
  std::shared_ptr<const SpanData> span = ServerSpanOf(response);
  ASSERT_NE(span, nullptr);
  EXPECT_EQ(AttributeText(*span, "http.route"), "/orders/:id");
  EXPECT_EQ(AttributeText(*span, "http.request.method"), "GET");
  EXPECT_EQ(AttributeText(*span, "url.path"), "/orders/77");
  EXPECT_EQ(AttributeText(*span, "url.query"), "a=1&password=REDACTED&token=REDACTED");
  EXPECT_EQ(AttributeText(*span, "client.address"), "127.0.0.1");
  EXPECT_EQ(AttributeText(*span, "user_agent.original"), "tracebridge-test/1.0");
  EXPECT_EQ(AttributeText(*span, "http.response.status_code"), "200");
  EXPECT_EQ(span->kind, SpanKind::kServer);
}

// Each route's attributes are prepared once and copied into every span of
// the route (span records are recycled between requests): spans of
// alternating routes, and of requests no route matched, each carry their
// own, once.
TEST_F(TracedRouterTest, EachSpanCarriesItsOwnRoutesAttributes) {
  Serve();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/orders/7", "/orders/:id"}, {"/status/204", "/status/:code"}, {"/nope", ""}};
  for (int round = 0; round < 3; ++round) {
    for (const auto& [target, route] : cases) {
      const HttpResponse response = Get(target);
      std::shared_ptr<const SpanData> span = ServerSpanOf(response);
      ASSERT_NE(span, nullptr) << target;
      EXPECT_EQ(AttributeText(*span, "http.request.method"), "GET") << target;
      EXPECT_EQ(AttributeText(*span, "url.scheme"), "http") << target;
      EXPECT_EQ(AttributeText(*span, "url.path"), target) << target;
      if (route.empty()) {
        EXPECT_EQ(span->FindAttribute("http.route"), nullptr) << target;
      } else {
        EXPECT_EQ(AttributeText(*span, "http.route"), route) << target;
      }
      std::set<std::string> keys;
      for (const Attribute& attribute : span->attributes) {
        EXPECT_TRUE(keys.insert(attribute.key).second) << target << ": " << attribute.key;
      }
    }
  }
}

TEST_F(TracedRouterTest, UnmatchedRequestsShareOneSeries) {
  Serve();
  for (const char* target : {"/nope", "/nope/1", "/a/b/c", "/ordersx", "/orders/1/extra"}) {
    const HttpResponse response = Get(target);
    EXPECT_EQ(response.status, 404) << target;
    EXPECT_EQ(response.Header("x-trace-id").size(), 32u) << target;
    std::shared_ptr<const SpanData> span = ServerSpanOf(response);
    ASSERT_NE(span, nullptr);
    EXPECT_EQ(span->name, "GET");
    EXPECT_EQ(span->FindAttribute("http.route"), nullptr);
    EXPECT_EQ(span->status, StatusCode::kUnset);
  }
  const SeriesSnapshot unknown =
      FindHttpSeries(*telemetry_, Side::kServer, "GET", std::string(kUnknownRoute));
  EXPECT_EQ(unknown.started, 5u);
  EXPECT_EQ(StatusCountOf(unknown, 404), 5u);
  size_t http_server_series = 0;
  for (const SeriesSnapshot& series : telemetry_->metrics().Snapshot().series) {
    if (series.protocol == Protocol::kHttp && series.side == Side::kServer) ++http_server_series;
  }
  // The routes registered in Serve() plus one `unknown`.
  EXPECT_EQ(http_server_series, 9u);
}

TEST_F(TracedRouterTest, MethodNotAllowedIsCountedUnderUnknown) {
  Serve();
  HttpRequest request;
  request.method = "DELETE";
  request.target = "/orders/5";
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<HttpResponse> response = SendHttp(server_->port(), request);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 405);
  }
  // Pistache answers 405 before tracebridge records it: wait for the count.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  SeriesSnapshot unknown;
  do {
    unknown = FindHttpSeries(*telemetry_, Side::kServer, "DELETE", std::string(kUnknownRoute));
    if (unknown.Handled() == 3) break;
    absl::SleepFor(absl::Milliseconds(1));
  } while (absl::Now() < deadline);
  EXPECT_EQ(StatusCountOf(unknown, 405), 3u);
}

TEST_F(TracedRouterTest, StatusCodesAndErrorStatus) {
  Serve();
  HttpRequest post;
  post.method = "POST";
  post.target = "/orders";
  post.body = "{\"item\":1}";
  absl::StatusOr<HttpResponse> created = SendHttp(server_->port(), post);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->status, 201);
  EXPECT_EQ(created->body, post.body);

  for (int code : {200, 204, 302, 400, 404, 418, 500, 503}) {
    const HttpResponse response = Get(absl::StrCat("/status/", code));
    EXPECT_EQ(response.status, code);
    std::shared_ptr<const SpanData> span = ServerSpanOf(response);
    ASSERT_NE(span, nullptr) << code;
    EXPECT_EQ(AttributeText(*span, "http.response.status_code"), std::to_string(code));
    EXPECT_EQ(span->status, code >= 500 ? StatusCode::kError : StatusCode::kUnset) << code;
    EXPECT_EQ(AttributeText(*span, "error.type"), code >= 500 ? std::to_string(code) : "");
  }
  const SeriesSnapshot status = FindHttpSeries(*telemetry_, Side::kServer, "GET", "/status/:code");
  EXPECT_EQ(status.Handled(), 8u);
  EXPECT_EQ(status.Errors(), 2u);
  EXPECT_EQ(StatusCountOf(status, 418), 1u);
  const SeriesSnapshot orders = FindHttpSeries(*telemetry_, Side::kServer, "POST", "/orders");
  EXPECT_EQ(StatusCountOf(orders, 201), 1u);
  EXPECT_EQ(orders.request_bytes, post.body.size());
  EXPECT_EQ(orders.response_bytes, post.body.size());
}

TEST_F(TracedRouterTest, ChildSpansOfTheHandlerNestUnderTheServerSpan) {
  Serve();
  const HttpResponse response = Get("/child");
  ASSERT_EQ(response.status, 200);
  std::vector<StoredSpan> spans = SpansOfTrace(*telemetry_, response.Header("x-trace-id"));
  ASSERT_EQ(spans.size(), 2u);
  std::shared_ptr<const SpanData> server = ServerSpanOf(response);
  ASSERT_NE(server, nullptr);
  for (const StoredSpan& stored : spans) {
    if (stored.span->name != "child-work") continue;
    EXPECT_EQ(stored.span->context.span_id().ToHex(), response.body);
    EXPECT_EQ(stored.span->parent_span_id, server->context.span_id());
  }
}

TEST_F(TracedRouterTest, DeferredResponseFromAnotherThread) {
  Serve();
  const HttpResponse response = Get("/deferred/8");
  ASSERT_EQ(response.status, 202);
  EXPECT_EQ(response.body, "later 8");
  std::shared_ptr<const SpanData> span = ServerSpanOf(response);
  ASSERT_NE(span, nullptr);
  EXPECT_EQ(AttributeText(*span, "deferred.thread"), "true");
  EXPECT_EQ(AttributeText(*span, "http.response.status_code"), "202");
  // A new root: flags are sampled, plus W3C's random bit.
  EXPECT_TRUE(absl::StartsWith(response.Header("traceparent"),
                               absl::StrCat("00-", span->context.trace_id().ToHex(), "-",
                                            span->context.span_id().ToHex(), "-")));
  const SeriesSnapshot series = FindHttpSeries(*telemetry_, Side::kServer, "GET", "/deferred/:id");
  EXPECT_EQ(StatusCountOf(series, 202), 1u);
  EXPECT_EQ(series.InFlight(), 0u);
}

TEST_F(TracedRouterTest, ThrowingHandlerAnswers500AndRecordsTheError) {
  Serve();
  for (const char* target : {"/throw", "/throw-int"}) {
    const HttpResponse response = Get(target);
    EXPECT_EQ(response.status, 500) << target;
    std::shared_ptr<const SpanData> span = ServerSpanOf(response);
    ASSERT_NE(span, nullptr);
    EXPECT_EQ(span->status, StatusCode::kError);
    ASSERT_EQ(span->events.size(), 1u);
    EXPECT_EQ(span->events[0].name, "exception");
    EXPECT_EQ(AttributeText(*span, "http.response.status_code"), "500");
  }
  std::shared_ptr<const SpanData> span = ServerSpanOf(Get("/throw"));
  ASSERT_NE(span, nullptr);
  EXPECT_EQ(span->status_description, "the handler failed");
  EXPECT_EQ(StatusCountOf(FindHttpSeries(*telemetry_, Side::kServer, "GET", "/throw"), 500), 2u);
}

TEST_F(TracedRouterTest, SilentHandlerIsAnsweredAndItsSpanEnds) {
  Serve();
  const HttpResponse response = Get("/silent");
  EXPECT_EQ(response.status, 500);
  std::shared_ptr<const SpanData> span = ServerSpanOf(response);
  ASSERT_NE(span, nullptr);
  EXPECT_EQ(span->status, StatusCode::kError);
  EXPECT_EQ(span->status_description, "handler did not respond");
  EXPECT_EQ(StatusCountOf(FindHttpSeries(*telemetry_, Side::kServer, "GET", "/silent"), 500), 1u);
}

TEST_F(TracedRouterTest, ManyParallelRequestsAreCountedExactly) {
  Serve();
  constexpr int kThreads = 8;
  constexpr int kRequests = 200;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < kRequests; ++i) {
        const std::string target =
            i % 4 == 3 ? absl::StrCat("/missing/", t, "/", i) : absl::StrCat("/orders/", t, i);
        absl::StatusOr<HttpResponse> response = HttpGet(server_->port(), target);
        if (response.ok() && (response->status == 200 || response->status == 404)) ++ok;
      }
    });
  }
  for (std::thread& client : clients) client.join();
  ASSERT_EQ(ok.load(), kThreads * kRequests);
  const SeriesSnapshot orders = FindHttpSeries(*telemetry_, Side::kServer, "GET", "/orders/:id");
  const SeriesSnapshot unknown =
      FindHttpSeries(*telemetry_, Side::kServer, "GET", std::string(kUnknownRoute));
  EXPECT_EQ(orders.started, 1200u);
  EXPECT_EQ(StatusCountOf(orders, 200), 1200u);
  EXPECT_EQ(orders.Count(), 1200u);
  EXPECT_EQ(unknown.started, 400u);
  EXPECT_EQ(StatusCountOf(unknown, 404), 400u);
  EXPECT_EQ(orders.InFlight() + unknown.InFlight(), 0u);
  const TelemetryStats stats = telemetry_->Stats();
  EXPECT_EQ(stats.tracer.spans_started, 1600u);
  EXPECT_EQ(stats.tracer.spans_ended, 1600u);
}

TEST_F(TracedRouterTest, TrustBoundaryRestartsTheTraceAndDropsBaggage) {
  TracedRouterOptions options;
  options.trust_incoming_context = false;
  Serve(options);
  const HttpResponse response =
      Get("/orders/3", {{"traceparent", absl::StrCat("00-", kTraceId, "-", kSpanId, "-01")},
                        {"baggage", "user=mallory"}});
  ASSERT_EQ(response.status, 200);
  EXPECT_NE(response.Header("x-trace-id"), kTraceId);
  EXPECT_TRUE(absl::EndsWith(response.body, " user -"));
  std::shared_ptr<const SpanData> span = ServerSpanOf(response);
  ASSERT_NE(span, nullptr);
  EXPECT_FALSE(span->parent_span_id.IsValid());
  ASSERT_EQ(span->links.size(), 1u);
  EXPECT_EQ(span->links[0].context.trace_id().ToHex(), kTraceId);
  EXPECT_EQ(span->links[0].context.span_id().ToHex(), kSpanId);
}

TEST_F(TracedRouterTest, ResponseHeadersCanBeTurnedOff) {
  TracedRouterOptions options;
  options.trace_response_headers = false;
  Serve(options);
  const HttpResponse response = Get("/orders/3");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("traceparent"), "");
  EXPECT_EQ(response.Header("x-trace-id"), "");
}

TEST_F(TracedRouterTest, MetricsOnlyWhenTracingIsOff) {
  TracedRouterOptions options;
  options.tracing = false;
  Serve(options);
  EXPECT_EQ(Get("/orders/3").status, 200);
  EXPECT_EQ(Get("/throw").status, 500);
  EXPECT_EQ(telemetry_->Stats().tracer.spans_started, 0u);
  EXPECT_EQ(StatusCountOf(FindHttpSeries(*telemetry_, Side::kServer, "GET", "/orders/:id"), 200),
            1u);
}

TEST_F(TracedRouterTest, CustomNotFoundHandler) {
  traced_ = std::make_unique<TracedRouter>(router_, *telemetry_);
  traced_->SetNotFoundHandler([](const Pistache::Rest::Request& request, TracedResponse response) {
    response.Send(Code::Not_Found, "no " + request.resource());
  });
  server_ = std::make_unique<PistacheServer>(traced_->MakeHandler());
  const HttpResponse response = Get("/where");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, "no /where");
  EXPECT_EQ(StatusCountOf(
                FindHttpSeries(*telemetry_, Side::kServer, "GET", std::string(kUnknownRoute)), 404),
            1u);
}

TEST_F(TracedRouterTest, SecondSendIsRejected) {
  traced_ = std::make_unique<TracedRouter>(router_, *telemetry_);
  std::atomic<bool> second_rejected{false};
  ASSERT_TRUE(traced_
                  ->Get("/twice",
                        [&](const Pistache::Rest::Request&, TracedResponse response) {
                          response.Send(Code::Ok, "first");
                          EXPECT_TRUE(response.responded());
                          response.Send(Code::Bad_Request, "second")
                              .then([](ssize_t) {},
                                    [&](std::exception_ptr) { second_rejected = true; });
                        })
                  .ok());
  server_ = std::make_unique<PistacheServer>(traced_->MakeHandler());
  const HttpResponse response = Get("/twice");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "first");
  EXPECT_TRUE(second_rejected.load());
  const SeriesSnapshot series = FindHttpSeries(*telemetry_, Side::kServer, "GET", "/twice");
  EXPECT_EQ(series.Handled(), 1u);
}

TEST_F(TracedRouterTest, SetupErrorsAreStatuses) {
  TracedRouter traced(router_, *telemetry_);
  EXPECT_EQ(traced.Get("/x", nullptr).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(traced
                .Get("no-slash", [](const Pistache::Rest::Request&,
                                    TracedResponse response) { response.Send(Code::Ok); })
                .code(),
            absl::StatusCode::kInvalidArgument);
  TracedResponse empty;
  EXPECT_FALSE(empty);
  EXPECT_FALSE(empty.responded());
  bool rejected = false;
  empty.Send(Code::Ok).then([](ssize_t) {}, [&](std::exception_ptr) { rejected = true; });
  EXPECT_TRUE(rejected);
}

// Pistache 0.0.5 keeps the first of repeated header lines; the traced
// handler reads the raw head and applies RFC 9110 section 5.3: list-valued
// `tracestate` and `baggage` lines combine in order.
TEST_F(TracedRouterTest, RepeatedTracestateAndBaggageLinesAreCombined) {
  Serve();
  const HttpResponse response =
      Get("/orders/1", {{"traceparent", absl::StrCat("00-", kTraceId, "-", kSpanId, "-01")},
                        {"tracestate", "first=1"},
                        {"X-Between", "x"},
                        {"TraceState", " second=2,third=3"},
                        {"baggage", "extra=1"},
                        {"Baggage", "user=bob"}});
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("x-trace-id"), kTraceId);
  // Only the second baggage line names the user.
  EXPECT_TRUE(absl::EndsWith(response.body, " user bob")) << response.body;
  std::shared_ptr<const SpanData> span = ServerSpanOf(response);
  ASSERT_NE(span, nullptr);
  EXPECT_EQ(span->parent_span_id.ToHex(), kSpanId);
  EXPECT_EQ(span->context.trace_state().ToHeader(), "first=1,second=2,third=3");
}

// Trace Context Level 2 keys over a real connection: a digit first, several
// '@', a 242-character tenant; a repeated key is dropped alone.
TEST_F(TracedRouterTest, LevelTwoTracestateKeysCrossTheConnection) {
  Serve();
  const std::string tenant = std::string(242, 't') + "@sys";
  const HttpResponse response = Get(
      "/orders/1", {{"traceparent", absl::StrCat("00-", kTraceId, "-", kSpanId, "-01")},
                    {"tracestate", absl::StrCat("1foo=1,foo@bar@baz=2,1foo=3,", tenant, "=4")}});
  ASSERT_EQ(response.status, 200);
  std::shared_ptr<const SpanData> span = ServerSpanOf(response);
  ASSERT_NE(span, nullptr);
  EXPECT_EQ(span->context.trace_state().ToHeader(),
            absl::StrCat("1foo=1,foo@bar@baz=2,", tenant, "=4"));
}

// `traceparent` is not a list: two lines make it invalid (W3C test suite,
// test_traceparent_duplicated), so the request starts a new trace and its
// tracestate is dropped with it.
TEST_F(TracedRouterTest, RepeatedTraceparentStartsANewTrace) {
  Serve();
  const std::string first = "00-12345678901234567890123456789011-1234567890123456-01";
  const std::string second = "00-12345678901234567890123456789012-1234567890123456-01";
  for (const auto& pair : {std::make_pair(first, second), std::make_pair(first, first)}) {
    const HttpResponse response =
        Get("/orders/1",
            {{"traceparent", pair.first}, {"tracestate", "foo=1"}, {"Traceparent", pair.second}});
    ASSERT_EQ(response.status, 200);
    const std::string trace_id = response.Header("x-trace-id");
    EXPECT_NE(trace_id, "12345678901234567890123456789011");
    EXPECT_NE(trace_id, "12345678901234567890123456789012");
    std::shared_ptr<const SpanData> span = ServerSpanOf(response);
    ASSERT_NE(span, nullptr);
    EXPECT_FALSE(span->parent_span_id.IsValid());
    EXPECT_TRUE(span->context.trace_state().empty());
  }
}

// The W3C test suite's member-count case, sent as it sends it: 32 members
// over four header lines are kept, 33 drop the tracestate (not the trace).
TEST_F(TracedRouterTest, TracestateSplitOverLinesKeepsAllMembers) {
  Serve();
  auto members = [](int from, int to) {
    std::string list;
    for (int i = from; i <= to; ++i) {
      absl::StrAppend(&list, i == from ? "" : ",", "bar", i < 10 ? "0" : "", i, "=", i);
    }
    return list;
  };
  for (int last : {32, 33}) {
    // One trace per request, so each finds its own span.
    const std::string trace_id = absl::StrCat("4bf92f3577b34da6a3ce929d0e0e47", last);
    const std::string traceparent = absl::StrCat("00-", trace_id, "-", kSpanId, "-01");
    const HttpResponse response = Get("/orders/1", {{"traceparent", traceparent},
                                                    {"tracestate", members(1, 10)},
                                                    {"tracestate", members(11, 20)},
                                                    {"tracestate", members(21, 30)},
                                                    {"tracestate", members(31, last)}});
    ASSERT_EQ(response.status, 200);
    EXPECT_EQ(response.Header("x-trace-id"), trace_id);
    std::shared_ptr<const SpanData> span = ServerSpanOf(response);
    ASSERT_NE(span, nullptr);
    EXPECT_EQ(span->context.trace_state().size(), last == 32 ? 32u : 0u);
  }
}

// Pistache's parser answers some requests itself before any routing; they
// are counted under the `unknown` route of their method as received
// (`_OTHER` for one Pistache does not know), without a span.
TEST_F(TracedRouterTest, RequestsThePistacheParserRejectsAreCounted) {
  Serve();
  HttpRequest unknown_method;
  unknown_method.method = "FOO";
  unknown_method.target = "/orders/1";
  absl::StatusOr<HttpResponse> refused = SendHttp(server_->port(), unknown_method);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->status, 400);
  EXPECT_TRUE(absl::EqualsIgnoreCase(refused->Header("connection"), "close"));

  HttpRequest bad_version;
  bad_version.target = "/orders/1 HTTP/9.9";  // the client appends " HTTP/1.1"
  refused = SendHttp(server_->port(), bad_version);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->status, 400);

  // Over Pistache's 4096-byte limit: 413 (or a reset once the server closed).
  refused = HttpGet(server_->port(), "/orders/1", {{"X-Padding", std::string(6000, 'p')}});
  if (refused.ok()) {
    EXPECT_EQ(refused->status, 413);
  }

  EXPECT_EQ(Get("/orders/2").status, 200);  // and the server carries on
  const SeriesSnapshot other =
      FindHttpSeries(*telemetry_, Side::kServer, "_OTHER", std::string(kUnknownRoute));
  EXPECT_EQ(other.started, 1u);
  EXPECT_EQ(StatusCountOf(other, 400), 1u);
  EXPECT_EQ(other.InFlight(), 0u);
  const SeriesSnapshot get =
      FindHttpSeries(*telemetry_, Side::kServer, "GET", std::string(kUnknownRoute));
  EXPECT_EQ(get.started, 2u);
  EXPECT_EQ(StatusCountOf(get, 400), 1u);
  EXPECT_EQ(StatusCountOf(get, 413), 1u);
  EXPECT_EQ(telemetry_->Stats().tracer.spans_ended, 1u);  // only /orders/2
}

// A full-size (8192-byte) baggage header is over Pistache's default request
// size; raising `maxRequestSize` lets it through.
TEST_F(TracedRouterTest, LargeBaggageNeedsALargerMaxRequestSize) {
  const std::string baggage = absl::StrCat("user=carol,pad=", std::string(8192 - 15, 'x'));
  ASSERT_EQ(baggage.size(), 8192u);
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"traceparent", absl::StrCat("00-", kTraceId, "-", kSpanId, "-01")}, {"baggage", baggage}};
  Serve();
  absl::StatusOr<HttpResponse> rejected = HttpGet(server_->port(), "/orders/1", headers);
  EXPECT_TRUE(!rejected.ok() || rejected->status >= 400);
  TearDown();
  router_ = Pistache::Rest::Router();
  Serve(TracedRouterOptions(), 16384);
  const HttpResponse accepted = Get("/orders/1", headers);
  EXPECT_EQ(accepted.status, 200);
  EXPECT_TRUE(absl::EndsWith(accepted.body, " user carol"));
}

}  // namespace
}  // namespace tracebridge
