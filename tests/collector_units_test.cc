// The collector's pure parts: line-protocol escaping, target specs, and the
// cumulative → delta rules (restart = reset, never negative), and the merge
// of instances. InfluxDB reading the escaped lines back is in
// collector_influx_test.

#include <cstdio>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/test_telemetry.h"
#include "tracebridge/collector/line_protocol.h"
#include "tracebridge/collector/series_delta.h"
#include "tracebridge/collector/targets.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/v1/histogram_conversion.h"

namespace tracebridge {
namespace {

TEST(LineProtocol, EscapesEachPartByItsOwnRules) {
  LinePoint point;
  point.measurement = "rpc server,x";
  point.tags = {{"route", "/a b,c=d"}, {"empty", ""}, {"quote", "x\"y"}};
  point.fields = {{"count", int64_t{3}},
                  {"p99 s", 0.25},
                  {"ok", true},
                  {"error", std::string("say \"no\" \\ now\nplease")}};
  point.timestamp = 1700000000123;
  std::string line;
  ASSERT_TRUE(AppendLineProtocol(point, &line));
  EXPECT_EQ(line,
            "rpc\\ server\\,x,route=/a\\ b\\,c\\=d,quote=x\"y count=3i,p99\\ s=0.25,ok=true,"
            "error=\"say \\\"no\\\" \\\\ now\nplease\" 1700000000123\n");
}

TEST(LineProtocol, BackslashesThatInfluxCannotReadBackBecomeSlashes) {
  EXPECT_EQ(EscapeLineKey("a\\b"), "a\\b");         // literal in the middle
  EXPECT_EQ(EscapeLineKey("a\\"), "a/");            // at the end
  EXPECT_EQ(EscapeLineKey("a\\ b"), "a/\\ b");      // before an escaped space
  EXPECT_EQ(EscapeLineKey("a\\\\,b"), "a\\/\\,b");  // a run before a comma
  EXPECT_EQ(EscapeLineKey("line\nbreak"), "line\\ break");
  EXPECT_EQ(EscapeLineMeasurement("m=1"), "m=1");  // '=' needs no escape here
}

TEST(LineProtocol, LeavesOutWhatInfluxRefuses) {
  LinePoint point;
  point.measurement = "m";
  point.fields = {{"nan", std::nan("")}, {"", int64_t{1}}};
  std::string line;
  EXPECT_FALSE(AppendLineProtocol(point, &line));  // no writable field
  EXPECT_EQ(line, "");
  point.fields.emplace_back("x", -1.5e-7);
  ASSERT_TRUE(AppendLineProtocol(point, &line));
  EXPECT_EQ(line, "m x=-1.4999999999999999e-07 0\n");
}

TEST(Targets, ParsesNamesAndRefusesMalformedSpecs) {
  auto plain = ParseCollectorTarget("127.0.0.1:7001");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->service, "");
  EXPECT_EQ(plain->instance, "127.0.0.1:7001");
  auto named = ParseCollectorTarget(" orders/a=[::1]:7002 ");
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(named->service, "orders");
  EXPECT_EQ(named->instance, "a");
  EXPECT_EQ(named->address, "[::1]:7002");
  for (const char* bad : {"127.0.0.1", "host:0", "host:70000", "=h:1", "s/=h:1", "::1:80", ""}) {
    EXPECT_FALSE(ParseCollectorTarget(bad).ok()) << bad;
  }
}

TEST(Targets, ReadsAFileAndNamesTheBadLine) {
  const std::string path = testing::TestTempDir() + "/targets";
  {
    std::ofstream out(path);
    out << "# services\n\norders=127.0.0.1:1 # first\n  127.0.0.1:2\n";
  }
  auto targets = ReadTargetsFile(path);
  ASSERT_TRUE(targets.ok()) << targets.status();
  ASSERT_EQ(targets->size(), 2u);
  EXPECT_EQ((*targets)[0].service, "orders");
  EXPECT_EQ((*targets)[1].address, "127.0.0.1:2");
  {
    std::ofstream out(path);
    out << "127.0.0.1:1\nnot a target\n";
  }
  targets = ReadTargetsFile(path);
  ASSERT_FALSE(targets.ok());
  EXPECT_NE(targets.status().message().find(":2:"), std::string::npos) << targets.status();
  EXPECT_FALSE(ReadTargetsFile(path + ".missing").ok());
}

// A GetMetrics response with one gRPC server series recorded by a real
// registry: `ok` calls of `ok_ns` and `failed` UNAVAILABLE calls of 1 ms.
v1::GetMetricsResponse Snapshot(int ok, int64_t ok_ns, int failed) {
  Registry registry;
  Series* series = registry.RegisterGrpcMethod(Side::kServer, "pkg.S", "M");
  for (int i = 0; i < ok; ++i) {
    series->Start();
    series->Finish(0, ok_ns);
  }
  for (int i = 0; i < failed; ++i) {
    series->Start();
    series->Finish(14, 1'000'000);
  }
  v1::GetMetricsResponse response;
  for (const SeriesSnapshot& s : registry.Snapshot().series) {
    if (s.Handled() == 0) continue;
    v1::SeriesMetrics* out = response.add_series();
    out->set_protocol(v1::PROTOCOL_GRPC);
    out->set_side(v1::SIDE_SERVER);
    out->set_name("pkg.S/M");
    out->set_count(s.Handled());
    out->set_errors(s.Errors());
    for (const StatusCount& count : s.statuses) {
      v1::StatusCount* status = out->add_status_codes();
      status->set_code(count.code);
      status->set_count(count.count);
    }
    HistogramToProto(s.latency, out->mutable_latency());
  }
  return response;
}

const SeriesFigures& Only(const SeriesDeltas& deltas) {
  EXPECT_EQ(deltas.series.size(), 1u);
  return deltas.series.begin()->second;
}

TEST(CumulativeTracker, DeltasBetweenSnapshotsAndResetsOnRestart) {
  constexpr int64_t kCollectorStart = 1000;
  CumulativeTracker tracker(kCollectorStart);
  // Already running when first seen: a baseline, no interval.
  SeriesDeltas first = tracker.Update(500, SeriesFromResponse(Snapshot(10, 2'000'000, 1)));
  EXPECT_EQ(first.kind, SeriesDeltas::Kind::kBaseline);
  EXPECT_TRUE(first.series.empty());

  SeriesDeltas second = tracker.Update(500, SeriesFromResponse(Snapshot(15, 2'000'000, 3)));
  EXPECT_EQ(second.kind, SeriesDeltas::Kind::kDelta);
  const SeriesFigures& delta = Only(second);
  EXPECT_EQ(delta.count, 7u);
  EXPECT_EQ(delta.errors, 2u);
  EXPECT_EQ(delta.status_counts, (std::map<int32_t, uint64_t>{{0, 5}, {14, 2}}));
  ASSERT_TRUE(delta.latency_valid);
  EXPECT_EQ(delta.latency.count, 7u);
  EXPECT_NEAR(delta.latency.sum, 5 * 0.002 + 2 * 0.001, 1e-9);

  // No calls: nothing.
  EXPECT_TRUE(tracker.Update(500, SeriesFromResponse(Snapshot(15, 2'000'000, 3))).series.empty());

  // Restarted with more calls than before (counts alone cannot tell): the
  // start time does. The new totals are the interval.
  SeriesDeltas restarted = tracker.Update(2000, SeriesFromResponse(Snapshot(20, 4'000'000, 0)));
  EXPECT_EQ(restarted.kind, SeriesDeltas::Kind::kReset);
  EXPECT_TRUE(restarted.restarted);
  EXPECT_EQ(Only(restarted).count, 20u);
  EXPECT_EQ(Only(restarted).latency.count, 20u);

  // Same start time but fewer calls (a registry replaced in place): a reset,
  // never a negative or wrapped delta.
  SeriesDeltas fewer = tracker.Update(2000, SeriesFromResponse(Snapshot(4, 4'000'000, 0)));
  EXPECT_EQ(fewer.kind, SeriesDeltas::Kind::kReset);
  EXPECT_EQ(Only(fewer).count, 4u);
}

TEST(CumulativeTracker, AnInstanceStartedAfterTheCollectorCountsFromZero) {
  CumulativeTracker tracker(1000);
  SeriesDeltas first = tracker.Update(1500, SeriesFromResponse(Snapshot(3, 1'000'000, 0)));
  EXPECT_EQ(first.kind, SeriesDeltas::Kind::kReset);
  EXPECT_FALSE(first.restarted);
  EXPECT_EQ(Only(first).count, 3u);
}

TEST(CumulativeTracker, AnInvalidHistogramLosesTheDistributionNotTheCounts) {
  CumulativeTracker tracker(1000);
  tracker.Update(500, SeriesFromResponse(Snapshot(1, 1'000'000, 0)));
  v1::GetMetricsResponse broken = Snapshot(3, 1'000'000, 0);
  broken.mutable_series(0)->mutable_latency()->set_count(999);  // not the bucket total
  SeriesDeltas deltas = tracker.Update(500, SeriesFromResponse(broken));
  EXPECT_EQ(Only(deltas).count, 2u);
  EXPECT_FALSE(Only(deltas).latency_valid);
}

TEST(AddSeriesDelta, MergesInstancesCountsAndHistograms) {
  CumulativeTracker a(0), b(0);
  SeriesDeltas from_a = a.Update(1, SeriesFromResponse(Snapshot(99, 1'000'000, 0)));
  SeriesDeltas from_b = b.Update(1, SeriesFromResponse(Snapshot(1, 100'000'000, 1)));
  SeriesFigures total;
  AddSeriesDelta(Only(from_a), &total);
  AddSeriesDelta(Only(from_b), &total);
  EXPECT_EQ(total.count, 101u);
  EXPECT_EQ(total.errors, 1u);
  EXPECT_EQ(total.status_counts, (std::map<int32_t, uint64_t>{{0, 100}, {14, 1}}));
  ASSERT_TRUE(total.latency_valid);
  EXPECT_EQ(total.latency.count, 101u);
  // Ranks over the union: 100 calls of 1 ms (99 from a, b's failure), then
  // b's 100 ms call at rank 101 = ceil(0.995 * 101).
  EXPECT_NEAR(total.latency.Quantile(0.99), 0.001, 0.001 * 0.011);
  EXPECT_NEAR(total.latency.Quantile(0.995), 0.1, 0.1 * 0.011);
  EXPECT_NEAR(total.latency.Quantile(0.50), 0.001, 0.001 * 0.011);
}

}  // namespace
}  // namespace tracebridge
