// File: tracebridge/core/metrics/histogram.h
//
// The latency histogram layout shared by every metrics series, and the
// read-side figures estimated from it.
//
// Bucket boundaries are fixed, in nanoseconds, and follow a 1-2-2.5-5 ladder
// per decade from 5 µs to 100 s (30 boundaries, 31 buckets):
//
//   5µs 10µs 20µs 25µs 50µs 100µs 200µs 250µs 500µs
//   1ms 2ms 2.5ms 5ms 10ms 20ms 25ms 50ms 100ms 200ms 250ms 500ms
//   1s 2s 2.5s 5s 10s 20s 25s 50s 100s, then +Inf.
//
// Why this ladder: every Prometheus default bucket (.005 … 10 s) and every
// OpenTelemetry-recommended HTTP bound except the .075/.75/7.5 ones is a
// boundary, so existing dashboards keep working, and no finite bucket spans
// more than a factor of 2, which bounds the percentile error (below).
//
// Bucket `i` counts values `v` with `kBoundsNs[i-1] < v <= kBoundsNs[i]`
// (Prometheus `le` semantics); bucket 0 starts at 0 and bucket
// `kNumBuckets - 1` holds everything above 100 s.
//
// Percentile error bound: `HistogramData::Percentile(q)` returns a value in
// the same bucket as the true q-quantile (the ceil(q·n)-th smallest value),
// interpolating linearly by rank inside it and never exceeding the observed
// maximum. Hence |estimate − true| < upper − lower of that bucket: below 5 µs
// for the first bucket, at most the true value itself (relative error ≤ 100%,
// since upper ≤ 2·lower) for the finite buckets, and at most max − 100 s in the
// overflow bucket, where the estimate is the observed maximum.
//
// Example:
//
//   tracebridge::HistogramData data;
//   data.Add(1'500'000);                      // 1.5 ms
//   int bucket = tracebridge::HistogramBucketIndex(1'500'000);  // "le=0.002"
//   double p99_seconds = data.Percentile(0.99) / 1e9;

#ifndef TRACEBRIDGE_CORE_METRICS_HISTOGRAM_H_
#define TRACEBRIDGE_CORE_METRICS_HISTOGRAM_H_

#include <array>
#include <cstddef>
#include <cstdint>

namespace tracebridge {

// Number of finite bucket boundaries.
inline constexpr int kHistogramNumBounds = 30;

// Number of buckets, including the +Inf overflow bucket.
inline constexpr int kHistogramNumBuckets = kHistogramNumBounds + 1;

// The finite upper bounds, in nanoseconds, ascending.
inline constexpr std::array<uint64_t, kHistogramNumBounds> kHistogramBoundsNs = {
    5'000,         10'000,         20'000,         25'000,         50'000,         100'000,
    200'000,       250'000,        500'000,        1'000'000,      2'000'000,      2'500'000,
    5'000'000,     10'000'000,     20'000'000,     25'000'000,     50'000'000,     100'000'000,
    200'000'000,   250'000'000,    500'000'000,    1'000'000'000,  2'000'000'000,  2'500'000'000,
    5'000'000'000, 10'000'000'000, 20'000'000'000, 25'000'000'000, 50'000'000'000, 100'000'000'000,
};

// The bucket `value_ns` falls in: the first `i` with
// `value_ns <= kHistogramBoundsNs[i]`, or `kHistogramNumBuckets - 1` (+Inf).
// Branch-free, no allocation: safe on the record path.
int HistogramBucketIndex(uint64_t value_ns) noexcept;

// A plain (non-atomic) histogram: what a snapshot holds, and a reference
// implementation for tests. Recording into a live series goes through
// `Series`, which keeps the same layout in sharded atomics.
struct HistogramData {
  // Per-bucket counts (not cumulative).
  std::array<uint64_t, kHistogramNumBuckets> buckets{};
  // Sum of all recorded values, in nanoseconds (wraps after ~584 years of
  // accumulated latency).
  uint64_t sum_ns = 0;
  // Largest recorded value, in nanoseconds; 0 when empty.
  uint64_t max_ns = 0;

  // Records one value.
  void Add(uint64_t value_ns) noexcept;

  // Adds `other`'s counts, sum and max into this histogram.
  void Merge(const HistogramData& other) noexcept;

  // Number of recorded values (the sum of the buckets).
  uint64_t Count() const noexcept;

  // Mean in nanoseconds; 0 when empty.
  double MeanNs() const noexcept;

  // The estimated q-quantile in nanoseconds for `q` in [0, 1] (clamped);
  // 0 when empty. See the file comment for the error bound.
  double Percentile(double q) const noexcept;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_METRICS_HISTOGRAM_H_
