// The per-message size histograms of a series: bucket placement on and
// around every power of two, the request/response direction of each side,
// sharded recording from several threads, and the switch that turns them off.

#include "tracebridge/core/metrics/size_histogram.h"

#include <cstdint>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tracebridge/core/metrics/registry.h"

namespace tracebridge {
namespace {

const SeriesSnapshot* Find(const MetricsSnapshot& snapshot, Protocol protocol, Side side) {
  for (const SeriesSnapshot& series : snapshot.series) {
    if (series.protocol == protocol && series.side == side && !series.is_other) return &series;
  }
  return nullptr;
}

TEST(SizeHistogramTest, BucketsArePowersOfTwoWithTheBoundInside) {
  EXPECT_EQ(SizeBucket(0), 0);
  EXPECT_EQ(SizeBucket(1), 1);
  EXPECT_EQ(SizeBucket(2), 2);
  EXPECT_EQ(SizeBucket(3), 3);
  EXPECT_EQ(SizeBucket(4), 3);
  EXPECT_EQ(SizeBucket(5), 4);
  for (int k = 1; k <= 32; ++k) {
    const uint64_t power = uint64_t{1} << k;
    EXPECT_EQ(SizeBucket(power), k + 1) << power;
    EXPECT_EQ(SizeBucketBound(k + 1), power);
    EXPECT_EQ(SizeBucket(power - 1), k == 1 ? 1 : k + 1) << power - 1;
    EXPECT_EQ(SizeBucket(power + 1), k + 2) << power + 1;
  }
  EXPECT_EQ(SizeBucket((uint64_t{1} << 32) + 1), kSizeNumBounds);  // +Inf
  EXPECT_EQ(SizeBucket(UINT64_MAX), kSizeNumBounds);
  EXPECT_EQ(SizeBucketBound(0), 0u);
  EXPECT_EQ(SizeBucketBound(kSizeNumBounds - 1), uint64_t{1} << 32);
}

TEST(SizeHistogramTest, EachSideRecordsItsDirections) {
  Registry registry;
  Series* server = registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Get");
  Series* client = registry.RegisterGrpcMethod(Side::kClient, "pkg.Svc", "Get");
  EXPECT_TRUE(server->has_size_histograms());
  server->RecordMessageReceived(0);     // request, bucket le=0
  server->RecordMessageReceived(1024);  // request, le=1024
  server->RecordMessageSent(1025);      // response, le=2048
  client->RecordMessageSent(7);         // request, le=8
  client->RecordMessageReceived(8);     // response, le=8
  client->RecordMessageReceived(9);     // response, le=16
  client->AddMessagesReceived();        // size unknown: counted, not observed

  const MetricsSnapshot snapshot = registry.Snapshot();
  const SeriesSnapshot* s = Find(snapshot, Protocol::kGrpc, Side::kServer);
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->request_size.has_value());
  ASSERT_TRUE(s->response_size.has_value());
  EXPECT_EQ(s->messages_received, 2u);
  EXPECT_EQ(s->messages_sent, 1u);
  EXPECT_EQ(s->request_bytes, 1024u);
  EXPECT_EQ(s->response_bytes, 1025u);
  EXPECT_EQ(s->request_size->Count(), 2u);
  EXPECT_EQ(s->request_size->sum, 1024u);
  EXPECT_EQ(s->request_size->counts[0], 1u);
  EXPECT_EQ(s->request_size->counts[SizeBucket(1024)], 1u);
  EXPECT_EQ(SizeBucketBound(SizeBucket(1024)), 1024u);
  EXPECT_EQ(s->response_size->Count(), 1u);
  EXPECT_EQ(s->response_size->counts[12], 1u);  // (1024, 2048]
  EXPECT_EQ(s->response_size->sum, 1025u);

  const SeriesSnapshot* c = Find(snapshot, Protocol::kGrpc, Side::kClient);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->messages_sent, 1u);
  EXPECT_EQ(c->messages_received, 3u);
  EXPECT_EQ(c->request_size->Count(), 1u);
  EXPECT_EQ(c->request_size->counts[4], 1u);  // (4, 8]
  EXPECT_EQ(c->request_size->sum, 7u);
  EXPECT_EQ(c->response_size->Count(), 2u);
  EXPECT_EQ(c->response_size->counts[4], 1u);
  EXPECT_EQ(c->response_size->counts[5], 1u);  // (8, 16]
  EXPECT_EQ(c->response_size->sum, 17u);
}

TEST(SizeHistogramTest, HttpSeriesAndTheSwitchKeepNone) {
  RegistryOptions options;
  options.message_size_histograms = false;
  Registry off(options);
  Series* grpc = off.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Get");
  EXPECT_FALSE(grpc->has_size_histograms());
  grpc->RecordMessageReceived(100);
  grpc->RecordMessageSent(200);
  const MetricsSnapshot snapshot = off.Snapshot();
  const SeriesSnapshot* s = Find(snapshot, Protocol::kGrpc, Side::kServer);
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->request_size.has_value());
  EXPECT_FALSE(s->response_size.has_value());
  EXPECT_EQ(s->request_bytes, 100u);  // the counters stay
  EXPECT_EQ(s->response_bytes, 200u);
  EXPECT_EQ(s->messages_received, 1u);
  EXPECT_EQ(s->messages_sent, 1u);

  Registry on;
  Series* http = on.RegisterHttpRoute(Side::kServer, "GET", "/x");
  EXPECT_FALSE(http->has_size_histograms());
  http->RecordMessageReceived(10);
  const MetricsSnapshot http_snapshot = on.Snapshot();
  const SeriesSnapshot* h = Find(http_snapshot, Protocol::kHttp, Side::kServer);
  ASSERT_NE(h, nullptr);
  EXPECT_FALSE(h->request_size.has_value());
  EXPECT_EQ(h->request_bytes, 10u);
}

TEST(SizeHistogramTest, ThreadsOnEveryShardConserveCountsAndSums) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200'000;
  RegistryOptions options;
  options.shards = 4;
  Registry registry(options);
  Series* series = registry.RegisterGrpcMethod(Side::kClient, "pkg.Svc", "Hot");
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([series] {
      for (int i = 0; i < kPerThread; ++i) {
        series->RecordMessageSent(static_cast<uint64_t>(i % 4));  // 0, 1, 2, 3
        series->RecordMessageReceived(4096);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const MetricsSnapshot snapshot = registry.Snapshot();
  const SeriesSnapshot* s = Find(snapshot, Protocol::kGrpc, Side::kClient);
  ASSERT_NE(s, nullptr);
  const uint64_t total = uint64_t{kThreads} * kPerThread;
  EXPECT_EQ(s->request_size->Count(), total);
  EXPECT_EQ(s->request_size->counts[0], total / 4);
  EXPECT_EQ(s->request_size->counts[1], total / 4);
  EXPECT_EQ(s->request_size->counts[2], total / 4);
  EXPECT_EQ(s->request_size->counts[3], total / 4);
  EXPECT_EQ(s->request_size->sum, total / 4 * 6);
  EXPECT_EQ(s->response_size->counts[SizeBucket(4096)], total);
  EXPECT_EQ(s->response_size->sum, total * 4096);
  EXPECT_EQ(s->messages_sent, total);
  EXPECT_EQ(s->messages_received, total);
}

}  // namespace
}  // namespace tracebridge
