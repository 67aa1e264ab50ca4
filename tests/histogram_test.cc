// The latency layout (core/metrics/histogram.h): exact bucket placement from
// integer nanoseconds, the recorded range, and the classic buckets.

#include "tracebridge/core/metrics/histogram.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace tracebridge {
namespace {

constexpr uint64_t kMaxU64 = ~uint64_t{0};

// A non-negative integer as 64-bit limbs, least significant first: enough
// arithmetic to check the thresholds exactly.
class Natural {
 public:
  explicit Natural(uint64_t value) : limbs_{value} {}

  Natural& operator*=(uint64_t factor) {
    unsigned __int128 carry = 0;
    for (uint64_t& limb : limbs_) {
      const unsigned __int128 product = static_cast<unsigned __int128>(limb) * factor + carry;
      limb = static_cast<uint64_t>(product);
      carry = product >> 64;
    }
    if (carry != 0) limbs_.push_back(static_cast<uint64_t>(carry));
    return *this;
  }

  Natural& ShiftLeft(int bits) {
    limbs_.insert(limbs_.begin(), static_cast<size_t>(bits / 64), 0);
    if (bits % 64 != 0) *this *= uint64_t{1} << (bits % 64);
    return *this;
  }

  // -1, 0 or 1.
  friend int Compare(Natural a, Natural b) {
    a.Normalize();
    b.Normalize();
    if (a.limbs_.size() != b.limbs_.size()) return a.limbs_.size() < b.limbs_.size() ? -1 : 1;
    for (size_t i = a.limbs_.size(); i-- > 0;) {
      if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] < b.limbs_[i] ? -1 : 1;
    }
    return 0;
  }

 private:
  void Normalize() {
    while (limbs_.size() > 1 && limbs_.back() == 0) limbs_.pop_back();
  }
  std::vector<uint64_t> limbs_;
};

Natural Power(uint64_t base, int exponent) {
  Natural result(1);
  for (int i = 0; i < exponent; ++i) result *= base;
  return result;
}

// Each threshold T_j is floor(1e9 · 2^(34 + (j − 28)/32)), i.e. the largest
// integer with T_j^32 <= 1e9^32 · 2^(32·34 + j − 28).
TEST(HistogramTest, ThresholdsAreExactIntegerRoots) {
  const Natural billion_32 = Power(1'000'000'000, 32);
  for (int j = 0; j < 32; ++j) {
    Natural target = billion_32;
    target.ShiftLeft(32 * 34 + j - 28);
    const uint64_t t = internal::kLatencyThresholds[j];
    EXPECT_LE(Compare(Power(t, 32), target), 0) << j;
    EXPECT_GT(Compare(Power(t + 1, 32), target), 0) << j;
  }
  // The boundary at whole powers of two of seconds is exact.
  EXPECT_EQ(internal::kLatencyThresholds[28], uint64_t{1'000'000'000} << 34);
}

// The data model's index, computed in long double: ceil(32·log2(v/1e9)) − 1.
int ReferenceIndex(uint64_t value_ns) {
  return static_cast<int>(
             std::ceil(32.0L * (std::log2(static_cast<long double>(value_ns)) - std::log2(1e9L)))) -
         1;
}

TEST(HistogramTest, IndexAroundEveryBoundaryInRange) {
  for (int i = kLatencyMinIndex - 1; i <= kLatencyMaxIndex; ++i) {
    // The upper bound of bucket i, in nanoseconds.
    const long double bound = 1e9L * std::exp2(static_cast<long double>(i + 1) / 32.0L);
    const long double below = std::floor(bound);
    const uint64_t v = static_cast<uint64_t>(below);
    if ((i + 1) % 32 == 0 && i >= -32 * 9 - 1) {
      // 2^n s with n >= -9 is a whole number of nanoseconds: on the boundary.
      ASSERT_EQ(static_cast<long double>(v), bound) << i;
    } else {
      // Otherwise far enough from an integer that long double decides.
      ASSERT_GT(bound - below, 1e-6L) << i;
      ASSERT_GT(below + 1 - bound, 1e-6L) << i;
    }
    if (v == 0) continue;
    EXPECT_EQ(LatencyIndex(v), i) << "v=" << v;  // at or just below the bound: bucket i
    EXPECT_EQ(LatencyIndex(v + 1), i + 1) << "v=" << v + 1;
  }
}

TEST(HistogramTest, IndexMatchesReferenceOverEveryMagnitude) {
  std::mt19937_64 rng(42);
  for (int n = 0; n < 300000; ++n) {
    const uint64_t value = (rng() >> (rng() % 64)) | 1;
    ASSERT_EQ(LatencyIndex(value), ReferenceIndex(value)) << value;
  }
  for (uint64_t value = 1; value < 5000; ++value) {
    ASSERT_EQ(LatencyIndex(value), ReferenceIndex(value)) << value;
  }
  EXPECT_EQ(LatencyIndex(1'000'000'000), -1);  // 1 s = 2^0: top of bucket -1
  EXPECT_EQ(LatencyIndex(1'000'000'001), 0);
  EXPECT_EQ(LatencyIndex(kMaxU64), ReferenceIndex(kMaxU64));
}

TEST(HistogramTest, SlotsCoverTheRangeAndItsEdges) {
  EXPECT_EQ(LatencySlot(0), 0);
  EXPECT_EQ(LatencySlot(1), 0);
  EXPECT_EQ(LatencySlot(kLatencyZeroThresholdNs), 0);
  EXPECT_EQ(LatencySlot(kLatencyZeroThresholdNs + 1), 1);
  EXPECT_EQ(LatencyIndex(kLatencyZeroThresholdNs + 1), kLatencyMinIndex);
  EXPECT_LT(LatencyIndex(kLatencyZeroThresholdNs), kLatencyMinIndex);
  EXPECT_EQ(LatencySlot(kLatencyMaxNs), kLatencyNumBuckets);
  EXPECT_EQ(LatencyIndex(kLatencyMaxNs), kLatencyMaxIndex);
  EXPECT_EQ(LatencySlot(kLatencyMaxNs + 1), kLatencyOverflowSlot);
  EXPECT_EQ(LatencySlot(kMaxU64), kLatencyOverflowSlot);
  EXPECT_DOUBLE_EQ(kLatencyZeroThresholdSeconds * 1e9, 953.67431640625);
  EXPECT_EQ(ExponentialBucketLowerBound(kLatencyMinIndex, kLatencyScale),
            kLatencyZeroThresholdSeconds);
  EXPECT_EQ(ExponentialBucketLowerBound(kLatencyMaxIndex + 1, kLatencyScale), kLatencyMaxSeconds);
}

// Classic bound b holds exactly the durations at or below 2^(b−20) s.
TEST(HistogramTest, ClassicBucketsAreExact) {
  EXPECT_EQ(ClassicLatencyBoundSeconds(0), 0x1p-20);
  EXPECT_EQ(ClassicLatencyBoundSeconds(kClassicLatencyNumBounds - 1), 256.0);
  for (int b = 0; b < kClassicLatencyNumBounds; ++b) {
    const long double bound_ns = 1e9L * ClassicLatencyBoundSeconds(b);
    const uint64_t at_or_below = static_cast<uint64_t>(std::floor(bound_ns));
    EXPECT_EQ(ClassicLatencyBucketOfSlot(LatencySlot(at_or_below)), b) << b;
    EXPECT_EQ(ClassicLatencyBucketOfSlot(LatencySlot(at_or_below + 1)), b + 1) << b;
  }
  EXPECT_EQ(ClassicLatencyBucketOfSlot(kLatencyOverflowSlot), kClassicLatencyNumBounds);
}

TEST(HistogramTest, HistogramFromSlotsAndClassicCounts) {
  std::vector<uint64_t> slots(kLatencyNumSlots, 0);
  const uint64_t values[] = {
      0, 500, 954, 1'000'000, 1'000'000, 1'000'000'000, 256'000'000'000, 300'000'000'000};
  uint64_t sum = 0;
  for (uint64_t v : values) {
    ++slots[LatencySlot(v)];
    sum += v;
  }
  const ExponentialHistogram h =
      LatencyHistogramFromSlots(slots.data(), sum, /*min_ns=*/0, /*max_ns=*/300'000'000'000);
  ASSERT_TRUE(h.Validate().ok()) << h.Validate();
  EXPECT_EQ(h.scale, kLatencyScale);
  EXPECT_EQ(h.zero_threshold, kLatencyZeroThresholdSeconds);
  EXPECT_EQ(h.count, 8u);
  EXPECT_EQ(h.zero_count, 2u);
  EXPECT_EQ(h.offset, kLatencyMinIndex);
  ASSERT_EQ(h.bucket_counts.size(), static_cast<size_t>(kLatencyNumBuckets));
  EXPECT_EQ(h.bucket_counts.front(), 1u);
  EXPECT_EQ(h.bucket_counts.back(), 2u);  // 256 s and the overflow
  EXPECT_DOUBLE_EQ(h.sum, static_cast<double>(sum) / 1e9);
  EXPECT_EQ(h.min, 0.0);
  EXPECT_EQ(h.max, 300.0);

  const auto classic = ClassicLatencyCounts(h, /*overflow=*/slots[kLatencyOverflowSlot]);
  EXPECT_EQ(classic[0], 2u);                             // <= 2^-20 s
  EXPECT_EQ(classic[1], 1u);                             // 954 ns
  EXPECT_EQ(classic[11], 2u);                            // 1 ms in (2^-10, 2^-9]
  EXPECT_EQ(classic[20], 1u);                            // 1 s in (2^-1, 2^0]
  EXPECT_EQ(classic[kClassicLatencyNumBounds - 1], 1u);  // 256 s
  EXPECT_EQ(classic[kClassicLatencyNumBounds], 1u);      // 300 s: +Inf only

  // No values: no extremes; an inconsistent pair: none either.
  std::vector<uint64_t> empty(kLatencyNumSlots, 0);
  EXPECT_FALSE(LatencyHistogramFromSlots(empty.data(), 0, 0, 0).max.has_value());
  EXPECT_FALSE(LatencyHistogramFromSlots(slots.data(), sum, 10, 5).min.has_value());
}

}  // namespace
}  // namespace tracebridge
