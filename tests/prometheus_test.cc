#include "tracebridge/core/metrics/prometheus.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/testing/metrics_fixture.h"
#include "tracebridge/core/metrics/naming.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/metrics/size_histogram.h"

namespace tracebridge {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TEST(PrometheusTest, ContentType) {
  EXPECT_EQ(kPrometheusContentType, "text/plain; version=0.0.4; charset=utf-8");
}

TEST(PrometheusTest, HistogramAndCountersForOneSeries) {
  Registry registry;
  Series* series = registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Get");
  series->Start();
  series->Finish(0, 5'000);  // 5 µs: in (2^-18 s, 2^-17 s]
  series->Start();
  series->Finish(13, 1'953'125);  // exactly 2^-9 s, a bound
  series->Start();
  const std::string text = EncodePrometheus(registry.Snapshot());
  const std::string labels = R"(rpc_system_name="grpc",rpc_method="pkg.Svc/Get")";
  EXPECT_TRUE(absl::StrContains(text, "# TYPE rpc_server_call_duration_seconds histogram\n"));
  EXPECT_TRUE(absl::StrContains(text, "rpc_server_call_duration_seconds_bucket{" + labels +
                                          ",le=\"3.814697265625e-06\"} 0\n"));
  EXPECT_TRUE(absl::StrContains(text, "rpc_server_call_duration_seconds_bucket{" + labels +
                                          ",le=\"7.62939453125e-06\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "rpc_server_call_duration_seconds_bucket{" + labels + ",le=\"0.0009765625\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "rpc_server_call_duration_seconds_bucket{" + labels + ",le=\"0.001953125\"} 2\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "rpc_server_call_duration_seconds_bucket{" + labels + ",le=\"256\"} 2\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "rpc_server_call_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} 2\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "rpc_server_call_duration_seconds_sum{" + labels + "} 0.001958125\n"));
  EXPECT_TRUE(
      absl::StrContains(text, "rpc_server_call_duration_seconds_count{" + labels + "} 2\n"));
  EXPECT_TRUE(absl::StrContains(text, "rpc_server_calls_started_total{" + labels + "} 3\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "rpc_server_calls_handled_total{" + labels +
                ",rpc_response_status_code=\"INTERNAL\",error_type=\"INTERNAL\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(text, "rpc_server_calls_in_flight{" + labels + "} 1\n"));
  // No client series and no HTTP series: no such families at all.
  EXPECT_FALSE(absl::StrContains(text, "rpc_client_"));
  EXPECT_FALSE(absl::StrContains(text, "http_"));
  EXPECT_TRUE(absl::StrContains(text, "# TYPE tracebridge_uptime_seconds gauge\n"));
  // Text format 0.0.4: no OpenMetrics-only lines.
  EXPECT_FALSE(absl::StrContains(text, "# UNIT"));
  EXPECT_FALSE(absl::StrContains(text, "# EOF"));
  EXPECT_FALSE(absl::StrContains(text, "trace_id"));
}

// Above 256 s a call is in +Inf only, though the exponential histogram keeps
// it in its top bucket.
TEST(PrometheusTest, OverflowCountsInInfOnly) {
  Registry registry;
  Series* series = registry.RegisterGrpcMethod(Side::kClient, "pkg.Svc", "Watch");
  series->Finish(0, 256'000'000'000);
  series->Finish(0, 3'600'000'000'000);  // an hour-long stream
  const std::string text = EncodePrometheus(registry.Snapshot());
  const std::string labels = R"(rpc_system_name="grpc",rpc_method="pkg.Svc/Watch")";
  EXPECT_TRUE(absl::StrContains(
      text, "rpc_client_call_duration_seconds_bucket{" + labels + ",le=\"128\"} 0\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "rpc_client_call_duration_seconds_bucket{" + labels + ",le=\"256\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "rpc_client_call_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} 2\n"));
  EXPECT_TRUE(
      absl::StrContains(text, "rpc_client_call_duration_seconds_sum{" + labels + "} 3856\n"));
}

TEST(PrometheusTest, NegotiatesTheFormatFromAccept) {
  const auto om = ExpositionFormat::kOpenMetrics;
  const auto text = ExpositionFormat::kPrometheusText;
  // What Prometheus 2.42 sends.
  EXPECT_EQ(NegotiateExpositionFormat(
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
            om);
  EXPECT_EQ(NegotiateExpositionFormat("application/openmetrics-text"), om);
  EXPECT_EQ(NegotiateExpositionFormat("Application/OpenMetrics-Text; Version=1.0.0"), om);
  EXPECT_EQ(NegotiateExpositionFormat("text/plain;q=0.3, application/openmetrics-text;q=0.4"), om);
  EXPECT_EQ(NegotiateExpositionFormat(""), text);
  EXPECT_EQ(NegotiateExpositionFormat("*/*"), text);  // curl
  EXPECT_EQ(NegotiateExpositionFormat("text/html,application/xhtml+xml,*/*;q=0.8"), text);
  EXPECT_EQ(NegotiateExpositionFormat("text/plain;version=0.0.4"), text);
  EXPECT_EQ(NegotiateExpositionFormat("application/openmetrics-text;q=0"), text);
  EXPECT_EQ(NegotiateExpositionFormat("application/openmetrics-text;q=0.5,*/*"), text);
  EXPECT_EQ(NegotiateExpositionFormat("application/openmetrics-text;q=banana"), text);
  EXPECT_EQ(NegotiateExpositionFormat(",;;=,q=1"), text);
  EXPECT_EQ(ExpositionContentType(om),
            "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_EQ(ExpositionContentType(text), kPrometheusContentType);
}

std::string Repeat(absl::string_view text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) absl::StrAppend(&out, text);
  return out;
}

using testing::SampledCall;

TEST(PrometheusTest, OpenMetricsCountersUnitsExemplarsAndEof) {
  Registry registry;
  Series* series = registry.RegisterHttpRoute(Side::kServer, "GET", "/items/:id");
  series->Start();
  const Exemplar first = SampledCall(0xab, 1'700'000'000'123'000'000);
  series->Finish(200, 1'410'000, &first);
  series->Start();
  const Exemplar later = SampledCall(0xcd, 1'700'000'001'000'000'000);
  series->Finish(200, 1'500'000, &later);  // same bucket: replaces the first
  series->Start();
  series->Finish(500, 3'000'000);  // unsampled: no exemplar in its bucket
  series->AddRequestBytes(10);
  const std::string text = EncodeOpenMetrics(registry.Snapshot());
  const std::string labels = R"(http_request_method="GET",http_route="/items/:id")";

  EXPECT_TRUE(absl::EndsWith(text, "# EOF\n"));
  EXPECT_EQ(text.find("# EOF"), text.size() - 6);
  EXPECT_TRUE(absl::StrContains(text,
                                "# TYPE http_server_request_duration_seconds histogram\n"
                                "# UNIT http_server_request_duration_seconds seconds\n"));
  // Counters: the family without _total, the sample with it.
  EXPECT_TRUE(absl::StrContains(text, "# TYPE http_server_requests_started counter\n"));
  EXPECT_TRUE(absl::StrContains(text, "http_server_requests_started_total{" + labels + "} 3\n"));
  EXPECT_TRUE(absl::StrContains(text,
                                "# TYPE http_server_request_body_bytes counter\n"
                                "# UNIT http_server_request_body_bytes bytes\n"));
  EXPECT_TRUE(absl::StrContains(text, "# UNIT tracebridge_uptime_seconds seconds\n"));
  EXPECT_FALSE(absl::StrContains(text, "# TYPE http_server_requests_started_total"));
  // The exemplar: the latest sampled call of the bucket, value and time in seconds.
  EXPECT_TRUE(absl::StrContains(text, "http_server_request_duration_seconds_bucket{" + labels +
                                          ",le=\"0.001953125\"} 2 # {trace_id=\"" +
                                          Repeat("cd", 16) + "\",span_id=\"" + Repeat("ce", 8) +
                                          "\"} 0.0015 1700000001\n"))
      << text;
  EXPECT_FALSE(absl::StrContains(text, Repeat("ab", 16)));
  EXPECT_TRUE(absl::StrContains(
      text, "http_server_request_duration_seconds_bucket{" + labels + ",le=\"0.00390625\"} 3\n"));
}

TEST(PrometheusTest, OpenMetricsHelpEscapesQuotes) {
  Registry registry;
  registry.AddCollector([](std::vector<MetricFamily>* out) {
    out->push_back({"quoted", "say \"hi\"\\ now\n", MetricType::kCounter, {{{}, 2}}});
  });
  EXPECT_TRUE(absl::StrContains(EncodeOpenMetrics(registry.Snapshot()),
                                "# HELP quoted say \\\"hi\\\"\\\\ now\\n\n# TYPE quoted counter\n"
                                "quoted_total 2\n"));
  EXPECT_TRUE(absl::StrContains(EncodePrometheus(registry.Snapshot()),
                                "# HELP quoted_total say \"hi\"\\\\ now\\n\n"));
}

TEST(PrometheusTest, HttpLabelsAndEscaping) {
  Registry registry;
  registry.RegisterHttpRoute(Side::kServer, "GET", "/a\"b\\c\nd\xff")->Finish(503, 1);
  const std::string text = EncodePrometheus(registry.Snapshot());
  EXPECT_TRUE(absl::StrContains(
      text,
      "http_server_requests_handled_total{http_request_method=\"GET\","
      "http_route=\"/a\\\"b\\\\c\\nd\xEF\xBF\xBD\",http_response_status_code=\"503\","
      "error_type=\"503\"} 1\n"))
      << text;
}

// Every sample line belongs to the family announced by the # HELP/# TYPE pair
// before it, every family is announced once, and every histogram series has
// cumulative buckets ending in +Inf == _count.
TEST(PrometheusTest, RealisticMixIsWellFormed) {
  Registry registry;
  testing::RecordRealisticMix(&registry);
  const std::string text = EncodePrometheus(registry.Snapshot());
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');

  std::map<std::string, std::string> types;
  std::string family, help_for;
  std::map<std::string, std::vector<uint64_t>> buckets;  // series → cumulative
  std::map<std::string, std::string> inf_bucket, count;
  for (const std::string& line : Lines(text)) {
    if (absl::StartsWith(line, "# HELP ")) {
      help_for = std::string(absl::StripPrefix(line, "# HELP ")).substr(0, line.find(' ', 7) - 7);
      continue;
    }
    if (absl::StartsWith(line, "# TYPE ")) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      ASSERT_EQ(parts.size(), 4u) << line;
      family = parts[2];
      EXPECT_EQ(help_for, family) << "HELP must precede TYPE";
      EXPECT_TRUE(types.emplace(family, parts[3]).second) << "announced twice: " << family;
      continue;
    }
    ASSERT_FALSE(family.empty()) << line;
    const std::string name = line.substr(0, line.find_first_of("{ "));
    if (types[family] == "histogram") {
      ASSERT_TRUE(name == family + "_bucket" || name == family + "_sum" ||
                  name == family + "_count")
          << line;
    } else {
      ASSERT_EQ(name, family) << line;
    }
    if (!absl::EndsWith(name, "_bucket") && !absl::EndsWith(name, "_count")) continue;
    const size_t value_at = line.rfind(' ');
    const std::string value = line.substr(value_at + 1);
    if (absl::EndsWith(name, "_count")) {
      count[family + line.substr(name.size(), value_at - name.size())] = value;
      continue;
    }
    const size_t le_at = line.find(",le=\"");
    ASSERT_NE(le_at, std::string::npos) << line;
    const std::string key = family + line.substr(name.size(), le_at - name.size()) + "}";
    uint64_t v = 0;
    ASSERT_TRUE(absl::SimpleAtoi(value, &v)) << line;
    if (!buckets[key].empty()) {
      EXPECT_GE(v, buckets[key].back()) << "not cumulative: " << line;
    }
    buckets[key].push_back(v);
    if (absl::StrContains(line, "le=\"+Inf\"")) inf_bucket[key] = value;
  }
  ASSERT_FALSE(buckets.empty());
  for (const auto& entry : buckets) {
    const bool size = absl::StrContains(entry.first, "_size_bytes{");
    EXPECT_EQ(entry.second.size(),
              static_cast<size_t>(size ? kSizeNumBuckets : kClassicLatencyNumBuckets))
        << entry.first;
    ASSERT_TRUE(inf_bucket.count(entry.first)) << entry.first;
    EXPECT_EQ(inf_bucket[entry.first], count[entry.first]) << entry.first;
  }
  EXPECT_EQ(types["tracebridge_spans_dropped_total"], "counter");  // suffix added
  EXPECT_EQ(types["tracebridge_span_queue_length"], "gauge");
  EXPECT_TRUE(absl::StrContains(
      text, "# HELP tracebridge_span_queue_length Spans waiting in the export queue.\\nSampled"));
}

TEST(PrometheusTest, CollectorNamesAreMadeValidAndCannotShadow) {
  Registry registry;
  registry.RegisterGrpcMethod(Side::kServer, "a", "b");
  registry.AddCollector([](std::vector<MetricFamily>* out) {
    out->push_back({"9bad-name", "", MetricType::kGauge, {{{{"bad label", "v"}}, 1.5}}});
    out->push_back({"rpc_server_calls_in_flight", "shadow", MetricType::kGauge, {{{}, 1}}});
    out->push_back({"weird_values", "w", MetricType::kGauge, {{{}, 1e300}}});
  });
  const std::string text = EncodePrometheus(registry.Snapshot());
  EXPECT_TRUE(absl::StrContains(text, "# TYPE _9bad_name gauge\n"));
  EXPECT_TRUE(absl::StrContains(text, "_9bad_name{bad_label=\"v\"} 1.5\n"));
  EXPECT_FALSE(absl::StrContains(text, "shadow"));
  EXPECT_TRUE(absl::StrContains(text, "weird_values 1e+300\n"));
}

// The semantic conventions' labels: status codes as names, error.type only
// where the call failed (on a server, NOT_FOUND is the client's problem).
TEST(PrometheusTest, OtelStatusLabels) {
  Registry registry;
  Series* server = registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Get", RpcType::kUnary);
  server->Finish(0, 1000);
  server->Finish(5, 1000);
  server->Finish(14, 1000);
  server->Finish(42, 1000);  // not a gRPC code
  Series* client = registry.RegisterGrpcMethod(Side::kClient, "pkg.Svc", "Get");
  client->Finish(5, 1000);
  Series* route = registry.RegisterHttpRoute(Side::kClient, "GET", "/x");
  route->Finish(404, 1000);
  route->Finish(200, 1000);
  route->Finish(599, 1000);  // an uncommon 5xx
  route->Finish(0, 1000);    // no response
  const std::string text = EncodePrometheus(registry.Snapshot());
  const std::string server_handled =
      R"(rpc_server_calls_handled_total{rpc_system_name="grpc",rpc_method="pkg.Svc/Get",)";
  EXPECT_TRUE(absl::StrContains(text, server_handled + R"(rpc_response_status_code="OK"} 1)"));
  EXPECT_TRUE(
      absl::StrContains(text, server_handled + R"(rpc_response_status_code="NOT_FOUND"} 1)"));
  EXPECT_TRUE(absl::StrContains(
      text,
      server_handled + R"(rpc_response_status_code="UNAVAILABLE",error_type="UNAVAILABLE"} 1)"));
  EXPECT_TRUE(absl::StrContains(
      text, server_handled + R"(rpc_response_status_code="_OTHER",error_type="_OTHER"} 1)"));
  EXPECT_TRUE(absl::StrContains(
      text, R"(rpc_client_calls_handled_total{rpc_system_name="grpc",rpc_method="pkg.Svc/Get",)"
            R"(rpc_response_status_code="NOT_FOUND",error_type="NOT_FOUND"} 1)"));
  const std::string http = R"(http_client_requests_handled_total{http_request_method="GET",)"
                           R"(http_route="/x",http_response_status_code=)";
  EXPECT_TRUE(absl::StrContains(text, http + R"("200"} 1)"));
  EXPECT_TRUE(absl::StrContains(text, http + R"("404",error_type="404"} 1)"));
  EXPECT_TRUE(absl::StrContains(text, http + R"("5xx",error_type="5xx"} 1)"));
  EXPECT_TRUE(absl::StrContains(text, http + R"("other",error_type="_OTHER"} 1)"));
  // The duration histogram is one per series: no status or error label.
  EXPECT_FALSE(absl::StrContains(text,
                                 "_bucket{rpc_system_name=\"grpc\",rpc_method=\"pkg.Svc/"
                                 "Get\",rpc_response_status_code"));
}

// Per-message sizes: a histogram per direction with powers-of-two `le`
// bounds, a size on a bound counted in that bucket, the byte counter as sum.
TEST(PrometheusTest, MessageSizeHistograms) {
  Registry registry;
  Series* server = registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Get");
  server->RecordMessageReceived(0);
  server->RecordMessageReceived(1024);
  server->RecordMessageSent(1025);
  registry.RegisterHttpRoute(Side::kServer, "GET", "/a")->Finish(200, 1000);
  const std::string text = EncodePrometheus(registry.Snapshot());
  const std::string labels = R"(rpc_system_name="grpc",rpc_method="pkg.Svc/Get")";
  EXPECT_TRUE(absl::StrContains(text, "# TYPE rpc_server_request_size_bytes histogram\n"));
  for (const auto& [le, count] : std::vector<std::pair<std::string, int>>{
           {"0", 1}, {"1", 1}, {"512", 1}, {"1024", 2}, {"4294967296", 2}, {"+Inf", 2}}) {
    EXPECT_TRUE(absl::StrContains(text, absl::StrCat("rpc_server_request_size_bytes_bucket{",
                                                     labels, ",le=\"", le, "\"} ", count, "\n")))
        << le;
  }
  EXPECT_TRUE(absl::StrContains(text, "rpc_server_request_size_bytes_sum{" + labels + "} 1024\n"));
  EXPECT_TRUE(absl::StrContains(text, "rpc_server_request_size_bytes_count{" + labels + "} 2\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "rpc_server_response_size_bytes_bucket{" + labels + ",le=\"1024\"} 0\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "rpc_server_response_size_bytes_bucket{" + labels + ",le=\"2048\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(text, "rpc_server_response_size_bytes_sum{" + labels + "} 1025\n"));
  EXPECT_TRUE(absl::StrContains(text, "rpc_server_request_bytes_total{" + labels + "} 1024\n"));
  // 35 buckets per histogram; none for the client side or HTTP.
  int buckets = 0;
  for (const std::string& line : Lines(text)) {
    buckets += absl::StartsWith(line, "rpc_server_request_size_bytes_bucket{") ? 1 : 0;
  }
  EXPECT_EQ(buckets, 35);
  EXPECT_FALSE(absl::StrContains(text, "rpc_client_request_size"));
  EXPECT_FALSE(absl::StrContains(text, "http_server_request_size"));

  const std::string open_metrics = EncodeOpenMetrics(registry.Snapshot());
  EXPECT_TRUE(absl::StrContains(open_metrics,
                                "# TYPE rpc_server_request_size_bytes histogram\n"
                                "# UNIT rpc_server_request_size_bytes bytes\n"));

  RegistryOptions options;
  options.naming = MetricsNaming::kGrpcPrometheus;
  Registry prom(options);
  Series* get = prom.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Get", RpcType::kUnary);
  get->RecordMessageReceived(3);
  get->RecordMessageSent(4);
  Series* call = prom.RegisterGrpcMethod(Side::kClient, "pkg.Svc", "Get", RpcType::kUnary);
  call->RecordMessageSent(3);
  call->RecordMessageReceived(5);
  const std::string go = EncodePrometheus(prom.Snapshot());
  const std::string go_labels = R"({grpc_type="unary",grpc_service="pkg.Svc",grpc_method="Get")";
  EXPECT_TRUE(absl::StrContains(go, "# TYPE grpc_server_msg_received_bytes histogram\n"));
  EXPECT_TRUE(absl::StrContains(
      go, "grpc_server_msg_received_bytes_bucket" + go_labels + ",le=\"4\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(go, "grpc_server_msg_sent_bytes_sum" + go_labels + "} 4\n"));
  EXPECT_TRUE(absl::StrContains(go, "grpc_client_msg_sent_bytes_count" + go_labels + "} 1\n"));
  EXPECT_TRUE(absl::StrContains(
      go, "grpc_client_msg_received_bytes_bucket" + go_labels + ",le=\"4\"} 0\n"));
  EXPECT_TRUE(absl::StrContains(
      go, "grpc_client_msg_received_bytes_bucket" + go_labels + ",le=\"8\"} 1\n"));
  EXPECT_FALSE(absl::StrContains(go, "_size_bytes"));

  RegistryOptions off_options;
  off_options.message_size_histograms = false;
  Registry off(off_options);
  off.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Get")->RecordMessageReceived(3);
  const std::string off_text = EncodePrometheus(off.Snapshot());
  EXPECT_FALSE(absl::StrContains(off_text, "_size_bytes"));
  EXPECT_TRUE(absl::StrContains(off_text, "rpc_server_request_bytes_total{" + labels + "} 3\n"));
}

// go-grpc-prometheus' names and labels for gRPC; HTTP keeps its own.
TEST(PrometheusTest, GrpcPrometheusNaming) {
  RegistryOptions options;
  options.naming = MetricsNaming::kGrpcPrometheus;
  Registry registry(options);
  Series* unary = registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Get", RpcType::kUnary);
  unary->Start();
  unary->AddMessagesReceived();
  unary->Finish(0, 3'000'000);
  unary->Start();
  unary->AddMessagesReceived();
  unary->Finish(5, 1'000'000);
  unary->AddRequestBytes(7);
  Series* stream =
      registry.RegisterGrpcMethod(Side::kClient, "pkg.Svc", "Watch", RpcType::kServerStreaming);
  stream->Start();
  stream->AddMessagesSent();
  stream->AddMessagesReceived(3);
  stream->Finish(4, 2'000'000);
  registry.RegisterHttpRoute(Side::kServer, "GET", "/a")->Finish(200, 1000);
  Series* other = registry.GrpcOther(Side::kServer);
  other->Start();
  other->Finish(12, 1000);

  const std::string text = EncodePrometheus(registry.Snapshot());
  const std::string get = R"({grpc_type="unary",grpc_service="pkg.Svc",grpc_method="Get")";
  const std::string watch =
      R"({grpc_type="server_stream",grpc_service="pkg.Svc",grpc_method="Watch")";
  EXPECT_TRUE(absl::StrContains(text, "# TYPE grpc_server_handling_seconds histogram\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "grpc_server_handling_seconds_bucket" + get + ",le=\"0.00390625\"} 2\n"));
  EXPECT_TRUE(absl::StrContains(text, "grpc_server_handling_seconds_count" + get + "} 2\n"));
  EXPECT_TRUE(absl::StrContains(text, "# TYPE grpc_server_started_total counter\n"));
  EXPECT_TRUE(absl::StrContains(text, "grpc_server_started_total" + get + "} 2\n"));
  EXPECT_TRUE(
      absl::StrContains(text, "grpc_server_handled_total" + get + ",grpc_code=\"OK\"} 1\n"));
  EXPECT_TRUE(
      absl::StrContains(text, "grpc_server_handled_total" + get + ",grpc_code=\"NotFound\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(text, "grpc_server_msg_received_total" + get + "} 2\n"));
  EXPECT_TRUE(absl::StrContains(text, "grpc_server_msg_sent_total" + get + "} 0\n"));
  EXPECT_TRUE(absl::StrContains(text, "grpc_client_handling_seconds_count" + watch + "} 1\n"));
  EXPECT_TRUE(absl::StrContains(text, "grpc_client_started_total" + watch + "} 1\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "grpc_client_handled_total" + watch + ",grpc_code=\"DeadlineExceeded\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(text, "grpc_client_msg_received_total" + watch + "} 3\n"));
  EXPECT_TRUE(absl::StrContains(text, "grpc_client_msg_sent_total" + watch + "} 1\n"));
  EXPECT_TRUE(absl::StrContains(
      text, R"(grpc_server_handled_total{grpc_type="unknown",grpc_service="_OTHER",)"
            R"(grpc_method="_OTHER",grpc_code="Unimplemented"} 1)"));
  // What go-grpc-prometheus has no family for keeps the otel names.
  EXPECT_TRUE(absl::StrContains(
      text,
      R"(rpc_server_request_bytes_total{rpc_system_name="grpc",rpc_method="pkg.Svc/Get"} 7)"));
  EXPECT_TRUE(absl::StrContains(
      text, R"(rpc_server_calls_in_flight{rpc_system_name="grpc",rpc_method="pkg.Svc/Get"} 0)"));
  EXPECT_FALSE(absl::StrContains(text, "rpc_server_call_duration"));
  EXPECT_FALSE(absl::StrContains(text, "rpc_server_calls_handled_total"));
  EXPECT_TRUE(absl::StrContains(text, "http_server_request_duration_seconds_count{"));
  // OpenMetrics: the histogram's unit is its suffix, as the format requires.
  EXPECT_TRUE(absl::StrContains(EncodeOpenMetrics(registry.Snapshot()),
                                "# TYPE grpc_server_handling_seconds histogram\n"
                                "# UNIT grpc_server_handling_seconds seconds\n"));
}

TEST(PrometheusTest, NamingNamesParse) {
  EXPECT_EQ(*ParseMetricsNaming("otel"), MetricsNaming::kOtel);
  EXPECT_EQ(*ParseMetricsNaming(" GRPC_Prometheus "), MetricsNaming::kGrpcPrometheus);
  EXPECT_FALSE(ParseMetricsNaming("prometheus").ok());
  EXPECT_FALSE(ParseMetricsNaming("").ok());
  EXPECT_EQ(MetricsNamingName(MetricsNaming::kGrpcPrometheus), "grpc_prometheus");
  EXPECT_EQ(GoGrpcStatusName(1), "Canceled");
  EXPECT_EQ(GrpcStatusName(1), "CANCELLED");
  EXPECT_EQ(GoGrpcStatusName(16), "Unauthenticated");
  EXPECT_EQ(GrpcStatusName(17), "");
}

// A later registration that knows the type fills in an unknown one, never
// replaces a known one.
TEST(PrometheusTest, RpcTypeComesFromRegistration) {
  Registry registry;
  Series* series = registry.RegisterGrpcMethod(Side::kServer, "s", "m");
  EXPECT_EQ(series->rpc_type(), RpcType::kUnknown);
  EXPECT_EQ(registry.RegisterGrpcMethod(Side::kServer, "s", "m", RpcType::kBidiStreaming), series);
  EXPECT_EQ(series->rpc_type(), RpcType::kBidiStreaming);
  registry.RegisterGrpcMethod(Side::kServer, "s", "m", RpcType::kUnary);
  EXPECT_EQ(series->rpc_type(), RpcType::kBidiStreaming);
  EXPECT_EQ(GrpcTypeName(RpcType::kClientStreaming), "client_stream");
}

}  // namespace
}  // namespace tracebridge
