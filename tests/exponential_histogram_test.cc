// The collector-side operations on exponential histograms
// (core/metrics/exponential_histogram.h): validation, downscaling, merge,
// delta and quantiles, checked against histograms built from raw values.

#include "tracebridge/core/metrics/exponential_histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace tracebridge {
namespace {

// A histogram of `values` at `scale`, placed by the data model's formula
// (values here are far from bucket boundaries, so doubles decide).
ExponentialHistogram Build(const std::vector<double>& values, int32_t scale,
                           double zero_threshold = 0) {
  ExponentialHistogram h;
  h.scale = scale;
  h.zero_threshold = zero_threshold;
  std::vector<int32_t> indices;
  for (double v : values) {
    h.sum += v;
    ++h.count;
    h.min = h.min.has_value() ? std::min(*h.min, v) : v;
    h.max = h.max.has_value() ? std::max(*h.max, v) : v;
    if (v <= zero_threshold) {
      ++h.zero_count;
      continue;
    }
    indices.push_back(static_cast<int32_t>(std::ceil(std::ldexp(std::log2(v), scale))) - 1);
  }
  if (!indices.empty()) {
    const auto [lo, hi] = std::minmax_element(indices.begin(), indices.end());
    h.offset = *lo;
    h.bucket_counts.assign(static_cast<size_t>(*hi - *lo + 1), 0);
    for (int32_t i : indices) ++h.bucket_counts[static_cast<size_t>(i - *lo)];
  }
  return h;
}

// The nearest-rank quantile: the ceil(q·n)-th smallest value, at least the
// first, with q = numerator / 1000 so that the rank is exact.
double Exact(std::vector<double> values, int per_mille) {
  std::sort(values.begin(), values.end());
  const uint64_t n = values.size();
  uint64_t rank = (static_cast<uint64_t>(per_mille) * n + 999) / 1000;
  rank = std::max<uint64_t>(rank, 1);
  return values[rank - 1];
}

void ExpectSameBuckets(const ExponentialHistogram& a, const ExponentialHistogram& b) {
  EXPECT_EQ(a.scale, b.scale);
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.zero_count, b.zero_count);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.bucket_counts, b.bucket_counts);
}

std::vector<double> LogNormal(int n, unsigned seed, double median) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> dist(std::log(median), 1.0);
  std::vector<double> values(static_cast<size_t>(n));
  for (double& v : values) v = dist(rng);
  return values;
}

TEST(ExponentialHistogramTest, ValidateNamesWhatIsWrong) {
  ExponentialHistogram h = Build({1, 2, 3}, 5);
  EXPECT_TRUE(h.Validate().ok());
  ExponentialHistogram bad = h;
  bad.count = 4;
  EXPECT_EQ(bad.Validate().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.Validate().message().find("count"), absl::string_view::npos);
  bad = h;
  bad.scale = 21;
  EXPECT_FALSE(bad.Validate().ok());
  bad = h;
  bad.zero_threshold = -1;
  EXPECT_FALSE(bad.Validate().ok());
  bad = h;
  bad.zero_threshold = std::nan("");
  EXPECT_FALSE(bad.Validate().ok());
  bad = h;
  bad.min = 5;
  EXPECT_FALSE(bad.Validate().ok());
  bad = h;
  bad.sum = -1;
  EXPECT_FALSE(bad.Validate().ok());
  bad = h;
  bad.min = std::nan("");
  EXPECT_FALSE(bad.Validate().ok());
  bad = h;
  bad.offset = 2'147'483'647;
  EXPECT_FALSE(bad.Validate().ok());
}

TEST(ExponentialHistogramTest, DownscaleEqualsBuildingAtTheLowerScale) {
  std::vector<double> values = LogNormal(5000, 1, 0.003);
  values.push_back(1e-7);
  values.push_back(3e5);
  for (int change : {1, 2, 5, 9}) {
    ExponentialHistogram h = Build(values, 8);
    h.Downscale(change);
    ExpectSameBuckets(h, Build(values, 8 - change));
  }
  // Negative indices shift as a floor: -1 and -2 both become -1.
  ExponentialHistogram h;
  h.scale = 1;
  h.offset = -3;
  h.bucket_counts = {1, 2, 4, 8};  // indices -3, -2, -1, 0
  h.count = 15;
  h.Downscale(1);
  EXPECT_EQ(h.offset, -2);
  EXPECT_EQ(h.bucket_counts, (std::vector<uint64_t>{1, 6, 8}));
  h.Downscale(100);  // stops at the lowest scale
  EXPECT_EQ(h.scale, kMinHistogramScale);
  EXPECT_EQ(h.count, 15u);
}

TEST(ExponentialHistogramTest, RaiseZeroThresholdMovesWholeBucketsOnly) {
  ExponentialHistogram h = Build({0.5, 1.5, 3, 6}, 0);  // indices -2, 0, 1, 2
  h.RaiseZeroThreshold(2.0);                            // (1, 2] is at or below 2
  EXPECT_EQ(h.zero_count, 2u);
  EXPECT_EQ(h.offset, 1);
  EXPECT_EQ(h.bucket_counts, (std::vector<uint64_t>{1, 1}));
  h.RaiseZeroThreshold(3.0);  // (2, 4] straddles 3: stays
  EXPECT_EQ(h.zero_count, 2u);
  EXPECT_TRUE(h.Validate().ok());
}

// Nearest rank, geometric midpoint, clamped to [min, max]: within 1.09% at
// scale 5 for every q.
TEST(ExponentialHistogramTest, QuantileWithinBoundOfNearestRank) {
  const std::vector<double> values = LogNormal(20000, 2, 0.01);
  const ExponentialHistogram h = Build(values, 5);
  const double bound = std::exp2(std::ldexp(0.5, -5)) - 1;  // sqrt(2^(1/32)) − 1
  EXPECT_NEAR(bound, 0.0109, 0.0001);
  for (int per_mille = 0; per_mille <= 1000; per_mille += 7) {
    const double truth = Exact(values, per_mille);
    const double estimate = h.Quantile(per_mille / 1000.0);
    EXPECT_LE(std::abs(estimate - truth) / truth, bound) << per_mille;
  }
  EXPECT_EQ(h.Quantile(0), *h.min);
  EXPECT_EQ(h.Quantile(1), *h.max);
}

TEST(ExponentialHistogramTest, QuantileRankIsExactForRoundProducts) {
  // 0.9 × 10 is 9.000000000000002 in doubles; the rank must still be 9.
  std::vector<double> values;
  for (int i = 1; i <= 10; ++i) values.push_back(i);
  const ExponentialHistogram h = Build(values, 5);
  EXPECT_NEAR(h.Quantile(0.9), 9.0, 9.0 * 0.011);
  EXPECT_NEAR(h.Quantile(0.5), 5.0, 5.0 * 0.011);
  EXPECT_NEAR(h.Quantile(0.1), 1.0, 1.0 * 0.011);
}

TEST(ExponentialHistogramTest, QuantileEdges) {
  ExponentialHistogram empty;
  EXPECT_EQ(empty.Quantile(0.5), 0.0);
  EXPECT_EQ(empty.Mean(), 0.0);
  // One value: min and max pin the estimate to it.
  const ExponentialHistogram one = Build({0.0123}, 5);
  EXPECT_EQ(one.Quantile(0.5), 0.0123);
  EXPECT_EQ(one.Quantile(std::nan("")), 0.0123);
  EXPECT_EQ(one.Quantile(-3), 0.0123);
  EXPECT_EQ(one.Quantile(7), 0.0123);
  // Zero bucket: half the threshold, clamped by what is known.
  const ExponentialHistogram zero = Build({0, 0, 0, 2}, 5, /*zero_threshold=*/1e-6);
  EXPECT_EQ(zero.Quantile(0.5), 5e-7);
  const ExponentialHistogram tiny = Build({0, 1e-7}, 5, /*zero_threshold=*/1e-6);
  EXPECT_EQ(tiny.Quantile(1), 1e-7);  // the maximum is below the midpoint
  // Without min/max the estimate is the midpoint itself.
  ExponentialHistogram bare = Build({3.0}, 0);
  bare.min.reset();
  bare.max.reset();
  EXPECT_DOUBLE_EQ(bare.Quantile(0.5), std::sqrt(2.0) * 2);
}

TEST(ExponentialHistogramTest, MergeOfTwoInstancesIsTheHistogramOfTheUnion) {
  const std::vector<double> a = LogNormal(3000, 3, 0.002);
  const std::vector<double> b = LogNormal(5000, 4, 0.02);
  std::vector<double> both = a;
  both.insert(both.end(), b.begin(), b.end());
  absl::StatusOr<ExponentialHistogram> merged = MergeHistograms(Build(a, 5), Build(b, 5));
  ASSERT_TRUE(merged.ok()) << merged.status();
  ExponentialHistogram expected = Build(both, 5);
  expected.Trim();
  ExpectSameBuckets(*merged, expected);
  EXPECT_NEAR(merged->sum, expected.sum, 1e-12 * expected.sum);
  EXPECT_EQ(merged->min, expected.min);
  EXPECT_EQ(merged->max, expected.max);
  EXPECT_TRUE(merged->Validate().ok());
  for (int per_mille : {500, 900, 990}) {
    const double truth = Exact(both, per_mille);
    EXPECT_LE(std::abs(merged->Quantile(per_mille / 1000.0) - truth) / truth, 0.0109);
  }
}

TEST(ExponentialHistogramTest, MergeAcrossScalesUsesTheLowerOne) {
  const std::vector<double> a = LogNormal(1000, 5, 0.01);
  const std::vector<double> b = LogNormal(1000, 6, 0.01);
  std::vector<double> both = a;
  both.insert(both.end(), b.begin(), b.end());
  absl::StatusOr<ExponentialHistogram> merged = MergeHistograms(Build(a, 5), Build(b, 3));
  ASSERT_TRUE(merged.ok());
  ExponentialHistogram expected = Build(both, 3);
  expected.Trim();
  ExpectSameBuckets(*merged, expected);
}

TEST(ExponentialHistogramTest, MergeWithinABucketLimitDownscales) {
  const ExponentialHistogram a = Build({1e-6, 1e-3}, 5);
  const ExponentialHistogram b = Build({1.0, 1e3}, 5);
  absl::StatusOr<ExponentialHistogram> merged = MergeHistograms(a, b, /*max_buckets=*/20);
  ASSERT_TRUE(merged.ok());
  EXPECT_LE(merged->bucket_counts.size(), 20u);
  EXPECT_EQ(merged->scale, -1);  // 30 octaves: scale 0 needs 30 buckets, -1 needs 15
  EXPECT_EQ(merged->count, 4u);
  ExponentialHistogram expected = Build({1e-6, 1e-3, 1.0, 1e3}, merged->scale);
  ExpectSameBuckets(*merged, expected);
}

TEST(ExponentialHistogramTest, MergeExtremesAndZeroThresholds) {
  ExponentialHistogram a = Build({0.5, 2}, 2, /*zero_threshold=*/0.0);
  ExponentialHistogram b = Build({3}, 2, /*zero_threshold=*/1.0);
  absl::StatusOr<ExponentialHistogram> merged = MergeHistograms(a, b);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->zero_threshold, 1.0);
  EXPECT_EQ(merged->zero_count, 1u);  // 0.5 is in a bucket wholly at or below 1
  EXPECT_EQ(merged->min, 0.5);
  EXPECT_EQ(merged->max, 3.0);
  b.max.reset();
  merged = MergeHistograms(a, b);
  ASSERT_TRUE(merged.ok());
  EXPECT_FALSE(merged->max.has_value());
  EXPECT_EQ(merged->min, 0.5);
  // An empty side contributes nothing: not "unknown", not its scale.
  merged = MergeHistograms(ExponentialHistogram(), a);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->max, 2.0);
  EXPECT_EQ(merged->scale, 2);
  EXPECT_EQ(merged->bucket_counts, a.bucket_counts);
  ExponentialHistogram invalid = a;
  invalid.count = 0;
  EXPECT_EQ(MergeHistograms(a, invalid).status().code(), absl::StatusCode::kInvalidArgument);
}

// Two valid histograms whose indices lie at both ends of int32: the merge
// stays within its bucket bound instead of allocating billions of buckets.
TEST(ExponentialHistogramTest, MergeOfFarApartHistogramsIsBounded) {
  ExponentialHistogram low, high;
  low.scale = high.scale = 20;
  low.offset = -2'000'000'000;
  high.offset = 2'000'000'000;
  low.bucket_counts = high.bucket_counts = {1};
  low.count = high.count = 1;
  absl::StatusOr<ExponentialHistogram> merged = MergeHistograms(low, high);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_LE(merged->bucket_counts.size(), kDefaultMaxMergedBuckets);
  EXPECT_EQ(merged->count, 2u);
  EXPECT_TRUE(merged->Validate().ok());
  // One bucket cannot hold both ends even at the lowest scale.
  EXPECT_EQ(MergeHistograms(low, high, 1).status().code(), absl::StatusCode::kInvalidArgument);
  // Downscaling an out-of-range (unvalidated) histogram does not overflow.
  ExponentialHistogram wild = high;
  wild.offset = 2'147'483'647;
  wild.bucket_counts = {1, 2, 3};
  wild.Downscale(4);  // indices 2^31 - 1, 2^31, 2^31 + 1
  EXPECT_EQ(wild.offset, (1 << 27) - 1);
  EXPECT_EQ(wild.bucket_counts, (std::vector<uint64_t>{1, 5}));
}

TEST(ExponentialHistogramTest, SubtractGivesTheInterval) {
  const std::vector<double> first = LogNormal(4000, 7, 0.005);
  std::vector<double> interval = LogNormal(1500, 8, 0.05);
  interval.push_back(1234.0);  // a new maximum inside the interval
  std::vector<double> all = first;
  all.insert(all.end(), interval.begin(), interval.end());
  absl::StatusOr<ExponentialHistogram> delta = SubtractHistograms(Build(all, 5), Build(first, 5));
  ASSERT_TRUE(delta.ok()) << delta.status();
  ExponentialHistogram expected = Build(interval, 5);
  expected.Trim();
  ExpectSameBuckets(*delta, expected);
  EXPECT_NEAR(delta->sum, expected.sum, 1e-9 * expected.sum);
  EXPECT_EQ(delta->max, 1234.0);         // moved in the interval: known
  EXPECT_FALSE(delta->min.has_value());  // did not move: unknown
  for (int per_mille : {500, 900, 990}) {
    const double truth = Exact(interval, per_mille);
    EXPECT_LE(std::abs(delta->Quantile(per_mille / 1000.0) - truth) / truth, 0.0109) << per_mille;
  }
  // Nothing happened in between: an empty interval.
  delta = SubtractHistograms(Build(first, 5), Build(first, 5));
  ASSERT_TRUE(delta.ok());
  EXPECT_EQ(delta->count, 0u);
  EXPECT_TRUE(delta->bucket_counts.empty());
  EXPECT_EQ(delta->sum, 0.0);
  // Against an empty earlier snapshot: the later one.
  delta = SubtractHistograms(Build(first, 5), ExponentialHistogram());
  ASSERT_TRUE(delta.ok());
  EXPECT_EQ(delta->min, *std::min_element(first.begin(), first.end()));
}

TEST(ExponentialHistogramTest, SubtractAcrossScales) {
  const std::vector<double> first = LogNormal(1000, 9, 0.01);
  std::vector<double> all = first;
  const std::vector<double> more = LogNormal(1000, 10, 0.01);
  all.insert(all.end(), more.begin(), more.end());
  absl::StatusOr<ExponentialHistogram> delta = SubtractHistograms(Build(all, 3), Build(first, 6));
  ASSERT_TRUE(delta.ok());
  ExponentialHistogram expected = Build(more, 3);
  expected.Trim();
  ExpectSameBuckets(*delta, expected);
}

TEST(ExponentialHistogramTest, SubtractDetectsARestart) {
  const ExponentialHistogram before = Build(LogNormal(100, 11, 0.01), 5);
  const ExponentialHistogram after_restart = Build(LogNormal(50, 12, 0.01), 5);
  EXPECT_EQ(SubtractHistograms(after_restart, before).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Same count, different buckets: still a restart, not a silent negative.
  const ExponentialHistogram a = Build({1, 1, 1}, 5);
  const ExponentialHistogram b = Build({2, 2, 2}, 5);
  EXPECT_EQ(SubtractHistograms(a, b).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tracebridge
