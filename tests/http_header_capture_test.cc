// Allow-listed HTTP headers as span attributes over real Pistache
// connections on 127.0.0.1:0: request headers on the traced route's server
// span (repeated lines all kept, from the raw head), response headers the
// handler set, and both on a `TracedHttpClient`'s client span; case folding,
// the byte bound, redaction, and nothing by default.

#include <pistache/client.h>
#include <pistache/router.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/http_client.h"
#include "tests/testing/pistache_server.h"
#include "tracebridge/core/header_capture.h"
#include "tracebridge/http/header_carrier.h"
#include "tracebridge/http/outgoing.h"
#include "tracebridge/http/traced_router.h"

namespace tracebridge {
namespace {

using ::tracebridge::testing::AttributeText;
using ::tracebridge::testing::AwaitResponse;
using ::tracebridge::testing::PistacheServer;
using ::tracebridge::testing::SpansOfTrace;
using Client = Pistache::Http::Experimental::Client;

constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

class HttpHeaderCaptureTest : public ::testing::Test {
 protected:
  void Start(const HeaderCaptureOptions& capture) {
    auto configure = [capture](TelemetryBuilder& builder) { builder.SetHeaderCapture(capture); };
    server_telemetry_ =
        testing::MakeTestTelemetry("http-capture-server", testing::kAllPropagators, configure);
    client_telemetry_ =
        testing::MakeTestTelemetry("http-capture-client", testing::kAllPropagators, configure);
    traced_ = std::make_unique<TracedRouter>(router_, *server_telemetry_);
    ASSERT_TRUE(
        traced_
            ->Get("/items/:id",
                  [](const Pistache::Rest::Request&, TracedResponse response) {
                    response.headers().add(std::make_shared<NamedHeader>("X-Served-By", "node-7"));
                    response.headers().add(std::make_shared<NamedHeader>("Set-Cookie", "sid=42"));
                    response.headers().add(
                        std::make_shared<NamedHeader>("X-Long", std::string(300, 'v')));
                    response.Send(Pistache::Http::Code::Ok, "item");
                  })
            .ok());
    server_ = std::make_unique<PistacheServer>(traced_->MakeHandler());
    client_.init(Client::options().threads(1).maxConnectionsPerHost(2));
    http_ = std::make_unique<TracedHttpClient>(client_, *client_telemetry_);
  }
  void TearDown() override {
    client_.shutdown();
    server_.reset();
  }

  // The server span of one raw request with `headers`.
  std::shared_ptr<const SpanData> ServerSpan(
      std::vector<std::pair<std::string, std::string>> headers) {
    headers.emplace_back("traceparent", kTraceparent);
    absl::StatusOr<testing::HttpResponse> response =
        testing::HttpGet(server_->port(), "/items/1", headers);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return nullptr;
    EXPECT_EQ(response->status, 200);
    std::vector<StoredSpan> spans = SpansOfTrace(*server_telemetry_, kTraceId);
    EXPECT_EQ(spans.size(), 1u);
    return spans.empty() ? nullptr : spans[0].span;
  }

  std::unique_ptr<Telemetry> server_telemetry_;
  std::unique_ptr<Telemetry> client_telemetry_;
  Pistache::Rest::Router router_;
  std::unique_ptr<TracedRouter> traced_;
  std::unique_ptr<PistacheServer> server_;
  Client client_;
  std::unique_ptr<TracedHttpClient> http_;
};

TEST_F(HttpHeaderCaptureTest, ServerRecordsRequestAndResponseHeaders) {
  HeaderCaptureOptions capture;
  capture.http_request_headers = {"X-Forwarded-For", "user-agent", "Cookie", "x-absent"};
  capture.http_response_headers = {"x-served-by", "set-cookie", "X-Long"};
  ASSERT_NO_FATAL_FAILURE(Start(capture));
  std::shared_ptr<const SpanData> span = ServerSpan({{"x-forwarded-for", "10.0.0.1"},
                                                     {"X-FORWARDED-FOR", "10.0.0.2"},
                                                     {"User-Agent", "probe/1"},
                                                     {"Cookie", "sid=41"},
                                                     {"X-Other", "unlisted"}});
  ASSERT_NE(span, nullptr);
  // Both lines of the repeated header, in order, under the lowercase name.
  EXPECT_EQ(AttributeText(*span, "http.request.header.x-forwarded-for"), "10.0.0.1,10.0.0.2");
  EXPECT_EQ(AttributeText(*span, "http.request.header.user-agent"), "probe/1");
  EXPECT_EQ(AttributeText(*span, "http.request.header.cookie"), "REDACTED");
  EXPECT_EQ(span->FindAttribute("http.request.header.x-absent"), nullptr);
  EXPECT_EQ(span->FindAttribute("http.request.header.x-other"), nullptr);
  EXPECT_EQ(AttributeText(*span, "http.response.header.x-served-by"), "node-7");
  EXPECT_EQ(AttributeText(*span, "http.response.header.set-cookie"), "REDACTED");
  EXPECT_EQ(AttributeText(*span, "http.response.header.x-long"), std::string(256, 'v'));
  EXPECT_EQ(server_telemetry_->Stats().captured_values_truncated, 1u);
}

TEST_F(HttpHeaderCaptureTest, ClientRecordsRequestAndResponseHeaders) {
  HeaderCaptureOptions capture;
  capture.http_request_headers = {"x-request-id", "Authorization"};
  capture.http_response_headers = {"X-Served-By", "set-cookie"};
  capture.unredacted_keys = {"set-cookie"};
  capture.max_value_bytes = 5;
  ASSERT_NO_FATAL_FAILURE(Start(capture));
  Span root = client_telemetry_->tracer().StartSpan("root");
  const std::string trace_id = root.context().trace_id().ToHex();
  testing::HttpOutcome outcome;
  {
    Scope scope(root);
    outcome =
        AwaitResponse(http_->Get(absl::StrCat("http://127.0.0.1:", server_->port(), "/items/1"))
                          .SetRoute("/items/:id")
                          .AddHeader(std::make_shared<NamedHeader>("X-Request-ID", "req-123456"))
                          .AddHeader(std::make_shared<NamedHeader>("Authorization", "Bearer abc"))
                          .Send());
  }
  root.End();
  ASSERT_EQ(outcome.status, 200) << outcome.error;
  std::shared_ptr<const SpanData> client_span;
  for (const StoredSpan& stored : SpansOfTrace(*client_telemetry_, trace_id)) {
    if (stored.span->kind == SpanKind::kClient) client_span = stored.span;
  }
  ASSERT_NE(client_span, nullptr);
  EXPECT_EQ(AttributeText(*client_span, "http.request.header.x-request-id"), "req-1");
  EXPECT_EQ(AttributeText(*client_span, "http.request.header.authorization"), "REDACTED");
  EXPECT_EQ(AttributeText(*client_span, "http.response.header.x-served-by"), "node-");
  EXPECT_EQ(AttributeText(*client_span, "http.response.header.set-cookie"), "sid=4");
  // The server span saw the same request headers.
  std::vector<StoredSpan> server_spans = SpansOfTrace(*server_telemetry_, trace_id);
  ASSERT_EQ(server_spans.size(), 1u);
  EXPECT_EQ(AttributeText(*server_spans[0].span, "http.request.header.x-request-id"), "req-1");
  EXPECT_EQ(AttributeText(*server_spans[0].span, "http.request.header.authorization"), "REDACTED");
}

TEST_F(HttpHeaderCaptureTest, NothingByDefault) {
  ASSERT_NO_FATAL_FAILURE(Start(HeaderCaptureOptions()));
  std::shared_ptr<const SpanData> span = ServerSpan({{"x-forwarded-for", "10.0.0.1"}});
  ASSERT_NE(span, nullptr);
  for (const Attribute& attribute : span->attributes) {
    EXPECT_FALSE(absl::StartsWith(attribute.key, "http.request.header.")) << attribute.key;
    EXPECT_FALSE(absl::StartsWith(attribute.key, "http.response.header.")) << attribute.key;
  }
}

}  // namespace
}  // namespace tracebridge
