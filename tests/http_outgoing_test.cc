// Tests of traced outgoing requests: a Pistache client sending through
// `TracedHttpClient` to a traced Pistache server on 127.0.0.1:0, including a
// server that never answers in time.

#include "tracebridge/http/outgoing.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <pistache/client.h>
#include <pistache/router.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tests/testing/pistache_server.h"
#include "tracebridge/core/trace/span.h"
#include "tracebridge/http/traced_router.h"

namespace tracebridge {
namespace {

using ::tracebridge::testing::AttributeText;
using ::tracebridge::testing::AwaitResponse;
using ::tracebridge::testing::FindHttpSeries;
using ::tracebridge::testing::HttpOutcome;
using ::tracebridge::testing::PistacheServer;
using ::tracebridge::testing::SpansOfTrace;
using ::tracebridge::testing::StatusCountOf;
using Client = Pistache::Http::Experimental::Client;

class OutgoingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_telemetry_ = testing::MakeTestTelemetry("http-outgoing-server");
    client_telemetry_ = testing::MakeTestTelemetry("http-outgoing-client");
    traced_ = std::make_unique<TracedRouter>(router_, *server_telemetry_);
    ASSERT_TRUE(traced_
                    ->Get("/items/:id",
                          [](const Pistache::Rest::Request& request, TracedResponse response) {
                            response.Send(Pistache::Http::Code::Ok,
                                          "item " + request.param(":id").as<std::string>());
                          })
                    .ok());
    ASSERT_TRUE(traced_
                    ->Get("/hold",
                          [this](const Pistache::Rest::Request&, TracedResponse response) {
                            absl::MutexLock lock(&held_mu_);
                            held_.push_back(std::move(response));
                          })
                    .ok());
    server_ = std::make_unique<PistacheServer>(traced_->MakeHandler());
    client_.init(Client::options().threads(1).maxConnectionsPerHost(4));
    http_ = std::make_unique<TracedHttpClient>(client_, *client_telemetry_);
  }

  void TearDown() override {
    {
      absl::MutexLock lock(&held_mu_);
      for (TracedResponse& response : held_) response.Send(Pistache::Http::Code::Ok, "late");
      held_.clear();
    }
    client_.shutdown();
    server_.reset();
  }

  std::string Url(const std::string& path) const {
    return absl::StrCat("http://127.0.0.1:", server_->port(), path);
  }

  std::unique_ptr<Telemetry> server_telemetry_;
  std::unique_ptr<Telemetry> client_telemetry_;
  Pistache::Rest::Router router_;
  std::unique_ptr<TracedRouter> traced_;
  std::unique_ptr<PistacheServer> server_;
  Client client_;
  std::unique_ptr<TracedHttpClient> http_;
  absl::Mutex held_mu_;
  std::vector<TracedResponse> held_ ABSL_GUARDED_BY(held_mu_);
};

TEST_F(OutgoingTest, ClientSpanIsChildOfCurrentAndParentOfServerSpan) {
  Span operation = client_telemetry_->tracer().StartSpan("operation");
  const std::string trace_id = operation.context().trace_id().ToHex();
  HttpOutcome outcome;
  {
    Scope scope(operation);
    outcome =
        AwaitResponse(http_->Get(Url("/items/5?api_key=secret&x=1")).SetRoute("/items/:id").Send());
  }
  operation.End();
  ASSERT_TRUE(outcome.done);
  ASSERT_EQ(outcome.status, 200) << outcome.error;
  EXPECT_EQ(outcome.body, "item 5");

  std::vector<StoredSpan> client_spans = SpansOfTrace(*client_telemetry_, trace_id);
  ASSERT_EQ(client_spans.size(), 2u);
  std::shared_ptr<const SpanData> client_span;
  for (const StoredSpan& stored : client_spans) {
    if (stored.span->kind == SpanKind::kClient) client_span = stored.span;
  }
  ASSERT_NE(client_span, nullptr);
  EXPECT_EQ(client_span->name, "GET /items/:id");
  EXPECT_EQ(client_span->parent_span_id, operation.context().span_id());
  EXPECT_EQ(AttributeText(*client_span, "http.response.status_code"), "200");
  EXPECT_EQ(AttributeText(*client_span, "server.address"), "127.0.0.1");
  EXPECT_EQ(AttributeText(*client_span, "server.port"), std::to_string(server_->port()));
  EXPECT_EQ(AttributeText(*client_span, "url.full"), Url("/items/5?api_key=REDACTED&x=1"));
  EXPECT_EQ(client_span->status, StatusCode::kUnset);

  std::vector<StoredSpan> server_spans = SpansOfTrace(*server_telemetry_, trace_id);
  ASSERT_EQ(server_spans.size(), 1u);
  EXPECT_EQ(server_spans[0].span->parent_span_id, client_span->context.span_id());
  EXPECT_TRUE(server_spans[0].span->parent_is_remote);

  const SeriesSnapshot series =
      FindHttpSeries(*client_telemetry_, Side::kClient, "GET", "/items/:id");
  EXPECT_EQ(StatusCountOf(series, 200), 1u);
  EXPECT_EQ(series.response_bytes, outcome.body.size());
}

TEST_F(OutgoingTest, ClientErrorsAndExplicitParent) {
  const SpanContext parent(TraceId::Generate(), SpanId::Generate(), TraceFlags::Sampled(),
                           /*is_remote=*/true);
  const HttpOutcome outcome =
      AwaitResponse(http_->Get(Url("/no/such/route")).SetParent(parent).Send());
  ASSERT_EQ(outcome.status, 404) << outcome.error;
  std::vector<StoredSpan> spans = SpansOfTrace(*client_telemetry_, parent.trace_id().ToHex());
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].span->name, "GET");
  EXPECT_EQ(spans[0].span->parent_span_id, parent.span_id());
  // A 404 is an error for a client.
  EXPECT_EQ(spans[0].span->status, StatusCode::kError);
  EXPECT_EQ(AttributeText(*spans[0].span, "error.type"), "404");
  // No route template: the method's overflow series.
  const SeriesSnapshot other =
      FindHttpSeries(*client_telemetry_, Side::kClient, "GET", std::string(kOtherName));
  EXPECT_EQ(StatusCountOf(other, 404), 1u);
}

TEST_F(OutgoingTest, TimeoutEndsTheSpanWithAnError) {
  const HttpOutcome outcome = AwaitResponse(
      http_->Get(Url("/hold")).SetRoute("/hold").SetTimeout(std::chrono::milliseconds(200)).Send());
  ASSERT_TRUE(outcome.done);
  EXPECT_EQ(outcome.status, 0);
  EXPECT_FALSE(outcome.error.empty());
  const SeriesSnapshot series = FindHttpSeries(*client_telemetry_, Side::kClient, "GET", "/hold");
  EXPECT_EQ(series.Handled(), 1u);
  EXPECT_EQ(series.Errors(), 1u);
  EXPECT_EQ(client_telemetry_->Stats().tracer.spans_ended, 1u);
  std::vector<StoredSpan> recent = client_telemetry_->span_store()->MostRecent(1);
  ASSERT_EQ(recent.size(), 1u);
  EXPECT_EQ(recent[0].span->status, StatusCode::kError);
  EXPECT_EQ(recent[0].span->events.size(), 1u);
}

// No connection-refused case: Pistache 0.0.5's client reactor can throw
// std::runtime_error("epoll_ctl ... Bad file descriptor") on its own thread
// when a connect fails, which terminates the process (seen under ASan), so
// such a test would be flaky through no fault of tracebridge. Failures are
// covered by the timeout case above; both go through the same reject path.

}  // namespace
}  // namespace tracebridge
