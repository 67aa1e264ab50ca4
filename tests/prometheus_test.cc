#include "tracebridge/core/metrics/prometheus.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/testing/metrics_fixture.h"
#include "tracebridge/core/metrics/registry.h"

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
  series->Finish(0, 5'000);  // exactly the first bound
  series->Start();
  series->Finish(13, 1'500'000);  // 1.5 ms
  series->Start();
  const std::string text = EncodePrometheus(registry.Snapshot());
  const std::string labels = R"(rpc_system="grpc",rpc_service="pkg.Svc",rpc_method="Get")";
  EXPECT_TRUE(absl::StrContains(text, "# TYPE rpc_server_call_duration_seconds histogram\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "rpc_server_call_duration_seconds_bucket{" + labels + ",le=\"0.000005\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "rpc_server_call_duration_seconds_bucket{" + labels + ",le=\"0.001\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "rpc_server_call_duration_seconds_bucket{" + labels + ",le=\"0.002\"} 2\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "rpc_server_call_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} 2\n"));
  EXPECT_TRUE(
      absl::StrContains(text, "rpc_server_call_duration_seconds_sum{" + labels + "} 0.001505\n"));
  EXPECT_TRUE(
      absl::StrContains(text, "rpc_server_call_duration_seconds_count{" + labels + "} 2\n"));
  EXPECT_TRUE(absl::StrContains(text, "rpc_server_calls_started_total{" + labels + "} 3\n"));
  EXPECT_TRUE(absl::StrContains(
      text, "rpc_server_calls_handled_total{" + labels + ",rpc_grpc_status_code=\"13\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(text, "rpc_server_calls_in_flight{" + labels + "} 1\n"));
  // No client series and no HTTP series: no such families at all.
  EXPECT_FALSE(absl::StrContains(text, "rpc_client_"));
  EXPECT_FALSE(absl::StrContains(text, "http_"));
  EXPECT_TRUE(absl::StrContains(text, "# TYPE tracebridge_uptime_seconds gauge\n"));
}

TEST(PrometheusTest, HttpLabelsAndEscaping) {
  Registry registry;
  registry.RegisterHttpRoute(Side::kServer, "GET", "/a\"b\\c\nd\xff")->Finish(503, 1);
  const std::string text = EncodePrometheus(registry.Snapshot());
  EXPECT_TRUE(absl::StrContains(
      text,
      "http_server_requests_handled_total{http_request_method=\"GET\","
      "http_route=\"/a\\\"b\\\\c\\nd\xEF\xBF\xBD\",http_response_status_code=\"503\"} 1\n"))
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
    EXPECT_EQ(entry.second.size(), static_cast<size_t>(kHistogramNumBuckets)) << entry.first;
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

}  // namespace
}  // namespace tracebridge
