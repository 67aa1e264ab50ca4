// File: tracebridge/core/metrics/histogram.h
//
// The latency histogram every series records into: base-2 exponential
// buckets in OpenTelemetry's layout (see core/metrics/exponential_histogram.h),
// over durations in seconds, at scale 5. Bucket `i` holds the durations d with
// 2^(i/32) s < d <= 2^((i+1)/32) s, so neighbouring bounds are a factor
// 2^(1/32) ≈ 1.0219 apart and a quantile estimated at a bucket's geometric
// midpoint is within 1.09% of the true value (scale 4 would give 2.2%).
//
// Recorded range, and what happens outside it:
//
//   d <= 2^-20 s (953 ns)            the zero bucket (zero_threshold 2^-20 s)
//   2^-20 s < d <= 2^8 s (256 s)     896 buckets, indices -640 … 255
//   d > 256 s                        counted in the top bucket (index 255) of
//                                    the exponential histogram, and kept apart
//                                    as "overflow" so the classic buckets below
//                                    put them in +Inf only; the maximum stays
//                                    exact, quantiles there are capped at 256 s
//
// Durations arrive as integer nanoseconds, and the bucket of each is found
// with integers only (a leading-bit count, one table lookup and one
// comparison against precomputed thresholds, see `LatencyIndex`), so the
// placement is exact: a duration on a boundary, such as exactly 1 s, is in
// the bucket the data model says, with no floating-point rounding.
//
// Classic buckets (Prometheus `le`): the powers of two 2^-20 s, 2^-19 s, …,
// 2^8 s, then +Inf. Each is a boundary of the exponential buckets, so their
// counts are exact sums of whole buckets; 32 exponential buckets make one
// classic bucket.
//
// Example:
//
//   int slot = tracebridge::LatencySlot(1'500'000);  // 1.5 ms
//   int index = tracebridge::LatencyIndex(1'500'000);  // -301: (2^(-301/32), 2^(-300/32)] s

#ifndef TRACEBRIDGE_CORE_METRICS_HISTOGRAM_H_
#define TRACEBRIDGE_CORE_METRICS_HISTOGRAM_H_

#include <array>
#include <cstdint>

#include "tracebridge/core/metrics/exponential_histogram.h"

namespace tracebridge {

// The scale of every latency histogram.
inline constexpr int32_t kLatencyScale = 5;
// Index of the lowest and highest bucket; the buckets in between.
inline constexpr int32_t kLatencyMinIndex = -640;
inline constexpr int32_t kLatencyMaxIndex = 255;
inline constexpr int kLatencyNumBuckets = kLatencyMaxIndex - kLatencyMinIndex + 1;
// Durations at or below 2^-20 s count as zero: 953 ns is the largest integer
// number of nanoseconds at or below it.
inline constexpr double kLatencyZeroThresholdSeconds = 0x1p-20;
inline constexpr uint64_t kLatencyZeroThresholdNs = 953;
// The upper bound of the top bucket: 2^8 s.
inline constexpr double kLatencyMaxSeconds = 256.0;
inline constexpr uint64_t kLatencyMaxNs = 256'000'000'000;

// A series keeps one counter per slot: slot 0 is the zero bucket, slots
// 1 … kLatencyNumBuckets the buckets kLatencyMinIndex … kLatencyMaxIndex in
// order, and the last slot the overflow (above kLatencyMaxSeconds).
inline constexpr int kLatencyNumSlots = kLatencyNumBuckets + 2;
inline constexpr int kLatencyOverflowSlot = kLatencyNumSlots - 1;

// Classic buckets: kClassicLatencyNumBounds finite `le` bounds 2^-20 … 2^8 s,
// then +Inf.
inline constexpr int kClassicLatencyNumBounds = 29;
inline constexpr int kClassicLatencyNumBuckets = kClassicLatencyNumBounds + 1;

namespace internal {
// Bucket thresholds within one binary octave of nanoseconds, as 64-bit
// fixed-point mantissas: a normalised duration m (top bit set) is above the
// j-th bucket boundary of its octave iff m > kLatencyThresholds[j], where
// kLatencyThresholds[j] = floor(1e9 · 2^(34 + (j − 28)/32)). Each was computed
// as an exact integer 32nd root (tests/histogram_test.cc re-derives them
// with integer arithmetic); [28] is exactly 1e9 · 2^34, the boundary every
// whole power of two of seconds lies on. [32] is a sentinel.
inline constexpr uint64_t kLatencyThresholds[33] = {
    0x81FFA7A9549CA6E3ull, 0x84D8626D3118D396ull, 0x87C11235836D16A3ull, 0x8ABA10758E1EA3CFull,
    0x8DC3B8960164A7D9ull, 0x90DE67FFF600044Cull, 0x940A7E28259FB382ull, 0x97485C9A622ADB60ull,
    0x9A9867054D512391ull, 0x9DFB034651C99C68ull, 0xA1709975DFB06757ull, 0xA4F993F3ED7B61CAull,
    0xA8965F74BF065071ull, 0xAC476B0DF43F745Full, 0xB00D2843E1060DC2ull, 0xB3E80B172FD51AF7ull,
    0xB7D88A12D0DD9EA0ull, 0xBBDF1E5A373CE5C6ull, 0xBFFC43B7E604A922ull, 0xC43078AC4ED47AE7ull,
    0xC87C3E7D03CDBEC3ull, 0xCCE019443EB56CE4ull, 0xD15C9000BF211C1Full, 0xD5F22CA6019743E0ull,
    0xDAA17C2CD19555DBull, 0xDF6B0EA438793A89ull, 0xE44F7742CB56E3DDull, 0xE94F4C7859CE1066ull,
    0xEE6B280000000000ull, 0xF3A3A6F29DD0C333ull, 0xF8F969D9B5ABF948ull, 0xFE6D14C2B5114024ull,
    ~uint64_t{0},
};

// The mantissa's top six bits after the leading one pick one of 64 cells; a
// cell spans a ratio of at most 1 + 1/64 < 2^(1/32), so it holds at most one
// threshold. kLatencyCellBase[c] counts the thresholds below cell c's start.
struct LatencyCellTable {
  uint8_t base[64];
};
constexpr LatencyCellTable MakeLatencyCellTable() {
  LatencyCellTable table{};
  for (int cell = 0; cell < 64; ++cell) {
    const uint64_t start = (uint64_t{1} << 63) + (static_cast<uint64_t>(cell) << 57);
    int below = 0;
    while (below < 32 && kLatencyThresholds[below] < start) ++below;
    table.base[cell] = static_cast<uint8_t>(below);
  }
  return table;
}
inline constexpr LatencyCellTable kLatencyCells = MakeLatencyCellTable();

constexpr bool ThresholdsWiderApartThanACells() {
  for (int j = 0; j + 1 < 32; ++j) {
    if (kLatencyThresholds[j + 1] - kLatencyThresholds[j] <= (uint64_t{1} << 57)) return false;
  }
  return kLatencyThresholds[0] > (uint64_t{1} << 63);
}
static_assert(ThresholdsWiderApartThanACells(), "a cell must hold at most one threshold");
}  // namespace internal

// The bucket index at kLatencyScale of a duration of `value_ns` (>= 1)
// nanoseconds, taken in seconds: the i with 2^(i/32) < value_ns / 1e9 <=
// 2^((i+1)/32). Exact, branch-free apart from the caller's range checks, no
// allocation.
inline int32_t LatencyIndex(uint64_t value_ns) noexcept {
  const int octave = 63 - __builtin_clzll(value_ns);
  const uint64_t mantissa = value_ns << (63 - octave);
  const int below = internal::kLatencyCells.base[(mantissa >> 57) & 63];
  const int above = below + (mantissa > internal::kLatencyThresholds[below] ? 1 : 0);
  // 32 · log2(1e9) = 956.715…: the 957 aligns octave 0 with index −957.
  return 32 * octave - 957 + above;
}

// The slot (see kLatencyNumSlots) a duration of `value_ns` nanoseconds is
// counted in.
inline int LatencySlot(uint64_t value_ns) noexcept {
  if (value_ns <= kLatencyZeroThresholdNs) return 0;
  if (value_ns > kLatencyMaxNs) return kLatencyOverflowSlot;
  return LatencyIndex(value_ns) - kLatencyMinIndex + 1;
}

// The classic bucket (0 … kClassicLatencyNumBounds, the last being +Inf) a
// slot belongs to.
inline int ClassicLatencyBucketOfSlot(int slot) noexcept {
  if (slot <= 0) return 0;
  if (slot >= kLatencyOverflowSlot) return kClassicLatencyNumBounds;
  return 1 + (slot - 1) / 32;
}

// The `le` bound of classic bucket `bucket` (< kClassicLatencyNumBounds), in
// seconds: 2^(bucket − 20).
double ClassicLatencyBoundSeconds(int bucket) noexcept;

// Per-classic-bucket counts (not cumulative) of a latency histogram as a
// series snapshot holds it (kLatencyScale, zero threshold 2^-20 s), where
// `overflow` of the top bucket's values lie above kLatencyMaxSeconds.
std::array<uint64_t, kClassicLatencyNumBuckets> ClassicLatencyCounts(
    const ExponentialHistogram& latency, uint64_t overflow) noexcept;

// The latency histogram of per-slot counts `slots[kLatencyNumSlots]` with
// the given sum, minimum and maximum in nanoseconds (min and max are left
// unknown when there are no values or min > max): overflow goes into the top
// bucket.
ExponentialHistogram LatencyHistogramFromSlots(const uint64_t* slots, uint64_t sum_ns,
                                               uint64_t min_ns, uint64_t max_ns);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_METRICS_HISTOGRAM_H_
