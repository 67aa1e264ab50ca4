#include "tracebridge/core/metrics/metrics_json.h"

#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tracebridge/core/metrics/registry.h"

namespace tracebridge {
namespace {

TEST(MetricsJsonTest, GinMonitorShape) {
  Registry registry;
  Series* ping = registry.RegisterHttpRoute(Side::kServer, "GET", "/ping");
  ping->Start();
  ping->Finish(200, 1'000'000);
  ping->Start();
  ping->Finish(200, 3'000'000);
  ping->Start();
  ping->Finish(503, 2'000'000);
  MetricsSnapshot snapshot = registry.Snapshot();
  snapshot.uptime_seconds = 12.5;  // fixed, for an exact comparison
  const SeriesSnapshot& s = snapshot.series[0];
  std::string expected =
      "{\"service_name\":\"orders\",\"uptime_seconds\":12.5,\"metrics\":{"
      "\"GET/ping\":{\"count\":3,\"avg_duration\":0.002,"
      "\"status_codes\":{\"200\":2,\"503\":1},\"errors\":1,\"p50\":";
  const std::string text = EncodeJson(snapshot, "orders");
  ASSERT_TRUE(absl::StartsWith(text, expected)) << text;
  EXPECT_TRUE(absl::StrContains(text, ",\"max\":0.003,\"in_flight\":0}},\"client_metrics\":{}}"))
      << text;
  EXPECT_GT(s.PercentileSeconds(0.5), 0.001);
}

TEST(MetricsJsonTest, MessageSizesOfGrpcSeries) {
  Registry registry;
  Series* get = registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Get");
  get->RecordMessageReceived(0);
  get->RecordMessageReceived(1024);
  get->RecordMessageReceived(6);
  get->RecordMessageSent(uint64_t{1} << 33);
  registry.RegisterHttpRoute(Side::kServer, "GET", "/ping")->Finish(200, 1);
  const std::string text = EncodeJson(registry.Snapshot(), "orders");
  EXPECT_TRUE(absl::StrContains(text,
                                "\"in_flight\":0,\"request_size\":{\"count\":3,\"sum\":1030,"
                                "\"buckets\":{\"0\":1,\"8\":1,\"1024\":1}},\"response_size\":{"
                                "\"count\":1,\"sum\":8589934592,\"buckets\":{\"+Inf\":1}}}"))
      << text;
  // HTTP series keep no size histograms.
  EXPECT_TRUE(absl::StrContains(text, "\"in_flight\":0}}")) << text;
}

TEST(MetricsJsonTest, KeysPerProtocolAndSide) {
  Registry registry;
  registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Get")->Finish(0, 1);
  registry.RegisterGrpcMethod(Side::kClient, "pkg.Svc", "Get")->Finish(0, 1);
  registry.FindHttpRoute(Side::kServer, "GET", "/unregistered")->Finish(404, 1);
  registry.FindGrpcMethod(Side::kServer, "x", "y")->Finish(12, 1);
  const std::string text = EncodeJson(registry.Snapshot(), "svc");
  EXPECT_TRUE(absl::StrContains(text, "\"metrics\":{\"/pkg.Svc/Get\":{"));
  EXPECT_TRUE(absl::StrContains(text, "\"/_OTHER/_OTHER\":{"));
  EXPECT_TRUE(absl::StrContains(text, "\"GET_OTHER\":{"));
  EXPECT_TRUE(absl::StrContains(text, "\"client_metrics\":{\"/pkg.Svc/Get\":{"));
}

TEST(MetricsJsonTest, EscapesNamesAndServiceName) {
  Registry registry;
  registry.RegisterHttpRoute(Side::kServer, "GET", "/q\"\\\n\x02\xff")->Finish(200, 1);
  const std::string text = EncodeJson(registry.Snapshot(), "svc\"\n");
  EXPECT_TRUE(absl::StartsWith(text, "{\"service_name\":\"svc\\\"\\n\""));
  // The invalid byte becomes U+FFFD itself (UTF-8), as the JSON writer repairs text.
  EXPECT_TRUE(absl::StrContains(text, "\"GET/q\\\"\\\\\\n\\u0002\xEF\xBF\xBD\":{")) << text;
}

TEST(MetricsJsonTest, EmptyRegistry) {
  Registry registry;
  MetricsSnapshot snapshot = registry.Snapshot();
  snapshot.uptime_seconds = 0;
  EXPECT_EQ(EncodeJson(snapshot, "s"),
            "{\"service_name\":\"s\",\"uptime_seconds\":0,\"metrics\":{},\"client_metrics\":{}}");
  EXPECT_EQ(kJsonContentType, "application/json; charset=utf-8");
}

}  // namespace
}  // namespace tracebridge
