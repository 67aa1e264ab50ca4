#include "tracebridge/core/metrics/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace tracebridge {
namespace {

constexpr uint64_t kMaxU64 = ~uint64_t{0};

int ReferenceIndex(uint64_t value) {
  return static_cast<int>(
      std::lower_bound(kHistogramBoundsNs.begin(), kHistogramBoundsNs.end(), value) -
      kHistogramBoundsNs.begin());
}

TEST(HistogramTest, BoundsSpanFiveMicrosecondsToHundredSeconds) {
  EXPECT_EQ(kHistogramBoundsNs.front(), 5'000u);
  EXPECT_EQ(kHistogramBoundsNs.back(), 100'000'000'000u);
  for (int i = 1; i < kHistogramNumBounds; ++i) {
    EXPECT_LT(kHistogramBoundsNs[i - 1], kHistogramBoundsNs[i]);
    // The documented error bound relies on no bucket spanning more than 2x.
    EXPECT_LE(kHistogramBoundsNs[i], 2 * kHistogramBoundsNs[i - 1]) << i;
  }
}

TEST(HistogramTest, PlacementAtAndAroundEveryBoundary) {
  EXPECT_EQ(HistogramBucketIndex(0), 0);
  EXPECT_EQ(HistogramBucketIndex(1), 0);
  for (int i = 0; i < kHistogramNumBounds; ++i) {
    const uint64_t bound = kHistogramBoundsNs[i];
    EXPECT_EQ(HistogramBucketIndex(bound - 1), i) << bound;  // just below: same bucket
    EXPECT_EQ(HistogramBucketIndex(bound), i) << bound;      // le is inclusive
    EXPECT_EQ(HistogramBucketIndex(bound + 1), i + 1) << bound;
  }
  EXPECT_EQ(HistogramBucketIndex(100'000'000'001), kHistogramNumBuckets - 1);
  EXPECT_EQ(HistogramBucketIndex(kMaxU64), kHistogramNumBuckets - 1);
}

TEST(HistogramTest, PlacementMatchesReferenceSearch) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 200000; ++i) {
    // Spread over every magnitude, not just the top bits.
    const uint64_t value = rng() >> (rng() % 64);
    ASSERT_EQ(HistogramBucketIndex(value), ReferenceIndex(value)) << value;
  }
}

TEST(HistogramTest, EmptyHistogram) {
  HistogramData data;
  EXPECT_EQ(data.Count(), 0u);
  EXPECT_EQ(data.MeanNs(), 0.0);
  EXPECT_EQ(data.Percentile(0.5), 0.0);
  EXPECT_EQ(data.Percentile(1.0), 0.0);
}

TEST(HistogramTest, SumCountMaxAndMerge) {
  HistogramData a, b;
  a.Add(1'000);
  a.Add(3'000'000);
  b.Add(7'000);
  b.Add(200'000'000'000);
  a.Merge(b);
  EXPECT_EQ(a.Count(), 4u);
  EXPECT_EQ(a.sum_ns, 1'000u + 3'000'000u + 7'000u + 200'000'000'000u);
  EXPECT_EQ(a.max_ns, 200'000'000'000u);
  EXPECT_EQ(a.buckets[0], 1u);
  EXPECT_EQ(a.buckets[1], 1u);
  EXPECT_EQ(a.buckets[kHistogramNumBuckets - 1], 1u);
  EXPECT_DOUBLE_EQ(a.MeanNs(), static_cast<double>(a.sum_ns) / 4);
}

// Checks every documented percentile against the exact order statistic.
void ExpectPercentilesWithinBound(std::vector<uint64_t> values) {
  HistogramData data;
  for (uint64_t v : values) data.Add(v);
  std::sort(values.begin(), values.end());
  const uint64_t n = values.size();
  for (double q : {0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(n)));
    rank = std::min<uint64_t>(std::max<uint64_t>(rank, 1), n);
    const uint64_t truth = values[rank - 1];
    const double estimate = data.Percentile(q);
    const int bucket = HistogramBucketIndex(truth);
    if (bucket == kHistogramNumBuckets - 1) {
      EXPECT_EQ(estimate, static_cast<double>(values.back())) << q;
      continue;
    }
    const double lower = bucket == 0 ? 0.0 : static_cast<double>(kHistogramBoundsNs[bucket - 1]);
    const double upper = static_cast<double>(kHistogramBoundsNs[bucket]);
    // Same bucket as the truth, hence within the bucket's width of it.
    EXPECT_GT(estimate, lower) << "q=" << q << " truth=" << truth;
    EXPECT_LE(estimate, upper) << "q=" << q << " truth=" << truth;
    EXPECT_LE(std::abs(estimate - static_cast<double>(truth)), upper - lower) << q;
    EXPECT_LE(estimate, static_cast<double>(values.back())) << q;
  }
}

TEST(HistogramTest, PercentilesUniform) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<uint64_t> dist(0, 200'000'000);  // 0..200 ms
  std::vector<uint64_t> values(100000);
  for (auto& v : values) v = dist(rng);
  ExpectPercentilesWithinBound(values);
}

TEST(HistogramTest, PercentilesLogUniform) {
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<double> exponent(3.0, 11.3);  // 1 µs .. 200 s
  std::vector<uint64_t> values(100000);
  for (auto& v : values) v = static_cast<uint64_t>(std::pow(10.0, exponent(rng)));
  ExpectPercentilesWithinBound(values);
}

TEST(HistogramTest, PercentilesExponential) {
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> dist(1.0 / 2'000'000);  // mean 2 ms
  std::vector<uint64_t> values(100000);
  for (auto& v : values) v = static_cast<uint64_t>(dist(rng));
  ExpectPercentilesWithinBound(values);
}

TEST(HistogramTest, PercentilesConstantAndBimodal) {
  ExpectPercentilesWithinBound(std::vector<uint64_t>(1000, 3'000'000));
  std::vector<uint64_t> bimodal(9000, 1'000'000);
  bimodal.insert(bimodal.end(), 1000, 2'000'000'000);
  ExpectPercentilesWithinBound(bimodal);
  ExpectPercentilesWithinBound({7});
  ExpectPercentilesWithinBound({150'000'000'000, 300'000'000'000, 1});
}

TEST(HistogramTest, TopPercentileIsTheMaximum) {
  HistogramData data;
  for (int i = 0; i < 100; ++i) data.Add(7'000'000);
  // Interpolation alone would say 10 ms, the bucket's upper bound.
  EXPECT_EQ(data.Percentile(1.0), 7'000'000.0);
  EXPECT_LE(data.Percentile(0.99), 7'000'000.0);
  EXPECT_GT(data.Percentile(0.5), 5'000'000.0);
}

TEST(HistogramTest, PercentileClampsOutOfRangeQ) {
  HistogramData data;
  data.Add(1'000);
  data.Add(2'000'000);
  EXPECT_EQ(data.Percentile(-1), data.Percentile(0));
  EXPECT_EQ(data.Percentile(2), data.Percentile(1));
  EXPECT_EQ(data.Percentile(std::nan("")), data.Percentile(0));
}

}  // namespace
}  // namespace tracebridge
