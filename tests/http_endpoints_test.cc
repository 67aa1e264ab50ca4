// Tests of the telemetry endpoints on a real Pistache endpoint: /metrics is
// accepted by promtool and python3-prometheus-client, /metrics.json by
// Python's JSON parser, /traces/{id} returns the spans of one trace.

#include "tracebridge/http/endpoints.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include <pistache/router.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/http_client.h"
#include "tests/testing/pistache_server.h"
#include "tracebridge/core/metrics/prometheus.h"
#include "tracebridge/http/traced_router.h"

namespace tracebridge {
namespace {

using ::tracebridge::testing::HttpGet;
using ::tracebridge::testing::HttpResponse;
using ::tracebridge::testing::PistacheServer;

// Runs a shell command over a file holding `content`; true when it exits 0.
bool CheckWith(const std::string& content, const std::string& name, const std::string& command) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
  std::ofstream(path) << content;
  const int rc = std::system(absl::StrCat(command, " < ", path).c_str());
  return rc == 0;
}

class EndpointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    telemetry_ = testing::MakeTestTelemetry("http-endpoints");
    traced_ = std::make_unique<TracedRouter>(router_, *telemetry_);
    ASSERT_TRUE(traced_
                    ->Get("/items/:id",
                          [](const Pistache::Rest::Request&, TracedResponse response) {
                            response.Send(Pistache::Http::Code::Ok, "item");
                          })
                    .ok());
    ASSERT_TRUE(MountTelemetryEndpoints(*traced_, *telemetry_).ok());
    server_ = std::make_unique<PistacheServer>(traced_->MakeHandler());
  }

  HttpResponse Get(const std::string& target) {
    absl::StatusOr<HttpResponse> response = HttpGet(server_->port(), target);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : HttpResponse();
  }

  std::unique_ptr<Telemetry> telemetry_;
  Pistache::Rest::Router router_;
  std::unique_ptr<TracedRouter> traced_;
  std::unique_ptr<PistacheServer> server_;
};

TEST_F(EndpointsTest, PrometheusExpositionParses) {
  for (int i = 0; i < 3; ++i) Get(absl::StrCat("/items/", i));
  Get("/nowhere");
  const HttpResponse metrics = Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.Header("content-type"), kPrometheusContentType);
  EXPECT_TRUE(absl::StrContains(
      metrics.body,
      "http_server_requests_handled_total{http_request_method=\"GET\",http_route=\"/items/:id\","
      "http_response_status_code=\"200\"} 3"))
      << metrics.body;
  EXPECT_TRUE(absl::StrContains(metrics.body, "http_route=\"unknown\""));
  EXPECT_FALSE(absl::StrContains(metrics.body, "/items/1"));
  EXPECT_TRUE(CheckWith(metrics.body, "metrics.txt", "/usr/bin/promtool check metrics"));
  EXPECT_TRUE(CheckWith(metrics.body, "metrics2.txt",
                        "/usr/bin/python3 -c 'import sys; from prometheus_client.parser import "
                        "text_string_to_metric_families as p; list(p(sys.stdin.read()))'"));
}

// Prometheus' Accept header gets OpenMetrics; each exemplar's trace id
// resolves at /traces/:id of the same endpoint, and the one of the request
// the test made is among them.
TEST_F(EndpointsTest, OpenMetricsExemplarsResolveToStoredTraces) {
  const HttpResponse item = Get("/items/7");
  const std::string trace_id = item.Header("x-trace-id");
  ASSERT_EQ(trace_id.size(), 32u);
  absl::StatusOr<HttpResponse> metrics = testing::HttpGet(
      server_->port(), "/metrics",
      {{"Accept",
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
        "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"}});
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  ASSERT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->Header("content-type"), kOpenMetricsContentType);
  EXPECT_TRUE(absl::EndsWith(metrics->body, "# EOF\n"));
  EXPECT_TRUE(absl::StrContains(metrics->body, absl::StrCat("http_route=\"/items/:id\",le=\"")))
      << metrics->body;
  EXPECT_TRUE(absl::StrContains(metrics->body, absl::StrCat("# {trace_id=\"", trace_id, "\"")))
      << metrics->body;
  int resolved = 0;
  for (size_t at = metrics->body.find("# {trace_id=\""); at != std::string::npos;
       at = metrics->body.find("# {trace_id=\"", at + 1)) {
    const std::string id = metrics->body.substr(at + std::strlen("# {trace_id=\""), 32);
    const HttpResponse trace = Get("/traces/" + id);
    EXPECT_EQ(trace.status, 200) << id;
    EXPECT_TRUE(absl::StrContains(trace.body, id));
    ++resolved;
  }
  EXPECT_GE(resolved, 1);
  EXPECT_TRUE(CheckWith(metrics->body, "openmetrics.txt",
                        "/usr/bin/python3 -c 'import sys; from prometheus_client.openmetrics."
                        "parser import text_string_to_metric_families as p; "
                        "assert any(s.exemplar for f in p(sys.stdin.read()) for s in f.samples)'"));
  // Without an Accept header: the text format, and no exemplars.
  const HttpResponse plain = Get("/metrics");
  EXPECT_EQ(plain.Header("content-type"), kPrometheusContentType);
  EXPECT_FALSE(absl::StrContains(plain.body, "# {"));
}

TEST_F(EndpointsTest, MetricsJsonIsValidJson) {
  Get("/items/1");
  const HttpResponse json = Get("/metrics.json");
  ASSERT_EQ(json.status, 200);
  EXPECT_EQ(json.Header("content-type"), "application/json; charset=utf-8");
  EXPECT_TRUE(CheckWith(json.body, "metrics.json",
                        "/usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); "
                        "assert d[\"service_name\"] == \"http-endpoints\"; "
                        "assert d[\"metrics\"][\"GET/items/:id\"][\"count\"] == 1'"))
      << json.body;
}

TEST_F(EndpointsTest, TraceEndpointReturnsTheSpansOfOneTrace) {
  const HttpResponse item = Get("/items/7");
  const std::string trace_id = item.Header("x-trace-id");
  ASSERT_EQ(trace_id.size(), 32u);
  Get("/items/8");  // another trace, which must not show up
  const HttpResponse trace = Get("/traces/" + trace_id);
  ASSERT_EQ(trace.status, 200) << trace.body;
  EXPECT_EQ(trace.Header("content-type"), "application/json; charset=utf-8");
  EXPECT_TRUE(CheckWith(trace.body, "trace.json",
                        absl::StrCat("/usr/bin/python3 -c 'import json, sys; d = json.load("
                                     "sys.stdin); assert d[\"trace_id\"] == \"",
                                     trace_id,
                                     "\"; s = d[\"spans\"]; assert len(s) == 1; "
                                     "assert s[0][\"trace_id\"] == d[\"trace_id\"]; "
                                     "assert s[0][\"name\"] == \"GET /items/:id\"; "
                                     "assert s[0][\"kind\"] == \"server\"'")))
      << trace.body;
}

TEST_F(EndpointsTest, TraceEndpointRejectsBadIdsAndUnknownTraces) {
  EXPECT_EQ(Get("/traces/xyz").status, 400);
  EXPECT_EQ(Get("/traces/4BF92F3577B34DA6A3CE929D0E0E4736").status, 400);
  EXPECT_EQ(Get("/traces/" + std::string(32, '0')).status, 400);
  EXPECT_EQ(Get("/traces/" + std::string(33, 'a')).status, 400);
  EXPECT_EQ(Get("/traces/4bf92f3577b34da6a3ce929d0e0e4736").status, 404);
}

TEST(EndpointsPlainRouterTest, UntracedOnAPlainRouter) {
  std::unique_ptr<Telemetry> telemetry = testing::MakeTestTelemetry("http-endpoints-plain");
  Pistache::Rest::Router router;
  ASSERT_TRUE(MountTelemetryEndpoints(router, *telemetry).ok());
  PistacheServer server(router.handler());
  absl::StatusOr<HttpResponse> metrics = HttpGet(server.port(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->Header("content-type"), kPrometheusContentType);
  EXPECT_EQ(metrics->Header("x-trace-id"), "");
  EXPECT_EQ(telemetry->Stats().tracer.spans_started, 0u);
  absl::StatusOr<HttpResponse> bad = HttpGet(server.port(), "/traces/nope");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400);
}

TEST(EndpointsPlainRouterTest, OptionsAreValidated) {
  std::unique_ptr<Telemetry> telemetry = testing::MakeTestTelemetry("http-endpoints-options");
  Pistache::Rest::Router router;
  TelemetryEndpointOptions options;
  options.traces_path = "/traces/:id";
  EXPECT_EQ(MountTelemetryEndpoints(router, *telemetry, options).code(),
            absl::StatusCode::kInvalidArgument);
  options.traces_path = "";
  options.metrics_json_path = "";
  options.metrics_path = "/custom-metrics";
  EXPECT_TRUE(MountTelemetryEndpoints(router, *telemetry, options).ok());
}

}  // namespace
}  // namespace tracebridge
