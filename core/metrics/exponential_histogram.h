// File: tracebridge/core/metrics/exponential_histogram.h
//
// A base-2 exponential histogram of non-negative values, in the shape of
// OpenTelemetry's `ExponentialHistogramDataPoint` (positive range only), and
// the operations a collector needs on it: merge two instances, subtract two
// snapshots of one instance into an interval, and estimate quantiles. This is
// what every tracebridge series reports its latency as (in seconds, at scale
// 5; see core/metrics/histogram.h) and what `tracebridge.v1.Query/GetMetrics`
// carries in `SeriesMetrics.latency`.
//
// Buckets (the OpenTelemetry data model): at scale `s` the base is
// 2^(2^-s), and the bucket with index `i` holds the values v with
// base^i < v <= base^(i+1). `bucket_counts[k]` is the count of index
// `offset + k`. Values in [0, zero_threshold] are counted in `zero_count`
// instead. Lowering the scale by one merges buckets pairwise: index `i`
// becomes `i >> 1` (an arithmetic shift, so -1 and -2 both become -1),
// which is exact: every boundary at scale s-1 is a boundary at scale s.
//
// Rules (the proto comments in proto/tracebridge/v1/query.proto say the same):
//
//   Merge (two instances, same interval): bring both to the lower scale (an
//   empty histogram, count 0, adopts the other's scale and threshold), then
//   further down while the buckets above the larger zero threshold span more
//   than `max_buckets` (default 4096); only then take the larger zero
//   threshold, moving every bucket whose upper bound is at or below it into
//   `zero_count` (applied last, so that (a + b) − a is exactly b);
//   counts, sums and zero counts add; min and max are the min and max of the
//   two (unknown if either side has values but no min or max).
//
//   Subtract (later snapshot − earlier snapshot of one cumulative instance):
//   the same alignment (scale, zero threshold), then every count is
//   subtracted. A negative result means the instance restarted (or the two
//   are not of one instance): FailedPrecondition, and the caller should take
//   `later` as the interval since the restart. Min and max of the interval
//   are known only when the later snapshot moved them (a new maximum was
//   recorded in the interval, so it is the interval's maximum); otherwise
//   they are absent.
//
//   Quantile(q): the nearest-rank quantile, i.e. an estimate of the
//   ceil(q·count)-th smallest value (at least the first). The bucket holding
//   that rank is found exactly; the estimate is the bucket's geometric
//   midpoint base^(i+1/2), clamped to [min, max] when they are known (and
//   the first and last rank are min and max themselves). For a
//   value in bucket (L, L·b] the relative error is at most sqrt(b) − 1: 1.09%
//   at scale 5, 2.2% at scale 4. Ranks in the zero bucket are estimated as
//   zero_threshold / 2 (clamped likewise): an absolute error of at most
//   zero_threshold / 2, no relative bound.
//
// Example:
//
//   // Two instances' snapshots, each from GetMetrics (converted field by field).
//   absl::StatusOr<tracebridge::ExponentialHistogram> fleet =
//       tracebridge::MergeHistograms(orders_a, orders_b);
//   // The last minute of one instance.
//   absl::StatusOr<tracebridge::ExponentialHistogram> minute =
//       tracebridge::SubtractHistograms(now, a_minute_ago);
//   if (minute.ok()) double p99_seconds = minute->Quantile(0.99);

#ifndef TRACEBRIDGE_CORE_METRICS_EXPONENTIAL_HISTOGRAM_H_
#define TRACEBRIDGE_CORE_METRICS_EXPONENTIAL_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tracebridge {

// Scales accepted by the operations below (OpenTelemetry's practical range).
inline constexpr int32_t kMinHistogramScale = -10;
inline constexpr int32_t kMaxHistogramScale = 20;

// The default bound on a merge's buckets (32 KiB of counts); tracebridge's own
// histograms have at most 896.
inline constexpr size_t kDefaultMaxMergedBuckets = 4096;

// The lower bound of bucket `index` at `scale`: base^index = 2^(index·2^-scale).
// (The upper bound is the lower bound of `index + 1`.)
double ExponentialBucketLowerBound(int32_t index, int32_t scale) noexcept;

struct ExponentialHistogram {
  int32_t scale = 0;
  // Number of values: zero_count plus the sum of bucket_counts.
  uint64_t count = 0;
  // Sum of the values.
  double sum = 0;
  // Smallest and largest value, when known (see the file comment).
  std::optional<double> min;
  std::optional<double> max;
  // Values in [0, zero_threshold].
  uint64_t zero_count = 0;
  double zero_threshold = 0;
  // Index of bucket_counts[0].
  int32_t offset = 0;
  std::vector<uint64_t> bucket_counts;

  // OK, or InvalidArgument naming what is inconsistent: a scale outside
  // [kMinHistogramScale, kMaxHistogramScale], a negative or non-finite zero
  // threshold or sum, a negative (or NaN) min or max, min above max, an index
  // range beyond int32, or a count that is not zero_count plus the bucket
  // counts.
  absl::Status Validate() const;

  // Lowers the scale by `change` (> 0), merging 2^change buckets into one.
  // Values and counts are unchanged. A change that would go below
  // kMinHistogramScale stops there.
  void Downscale(int32_t change);

  // Raises the zero threshold to `threshold` (if higher); then buckets whose
  // upper bound is at or below the zero threshold move into zero_count.
  void RaiseZeroThreshold(double threshold);

  // Drops empty buckets at both ends.
  void Trim();

  // Estimated nearest-rank quantile for q in [0, 1] (clamped; NaN counts as
  // 0); 0 when empty. See the file comment for the error bound.
  double Quantile(double q) const noexcept;

  // sum / count; 0 when empty.
  double Mean() const noexcept;
};

// a + b, per the merge rule in the file comment, in at most `max_buckets`
// buckets (at least 1). InvalidArgument if either input fails Validate(), if
// the total count or sum overflows, or if even the lowest scale cannot fit
// the buckets (indices billions apart).
absl::StatusOr<ExponentialHistogram> MergeHistograms(const ExponentialHistogram& a,
                                                     const ExponentialHistogram& b,
                                                     size_t max_buckets = kDefaultMaxMergedBuckets);

// later − earlier, per the delta rule in the file comment: FailedPrecondition
// when any count would go negative (a restart), InvalidArgument if either
// input fails Validate().
absl::StatusOr<ExponentialHistogram> SubtractHistograms(const ExponentialHistogram& later,
                                                        const ExponentialHistogram& earlier);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_METRICS_EXPONENTIAL_HISTOGRAM_H_
