// File: core/metrics/exponential_histogram.cc

#include "tracebridge/core/metrics/exponential_histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tracebridge {
namespace {

// floor(index / 2^change), for negative indices too (what OpenTelemetry
// specifies as an arithmetic shift).
int64_t ShiftIndex(int64_t index, int32_t change) {
  if (change >= 63) return index < 0 ? -1 : 0;
  return index >= 0 ? index >> change : -((-(index + 1)) >> change) - 1;
}

// Widens [first, last] (`any`: already set) by the non-empty buckets of `h`
// whose upper bound is above `threshold`: those a merge keeps as buckets.
void WidenByBuckets(const ExponentialHistogram& h, double threshold, bool* any, int64_t* first,
                    int64_t* last) {
  for (size_t k = 0; k < h.bucket_counts.size(); ++k) {
    const int64_t index = int64_t{h.offset} + static_cast<int64_t>(k);
    if (h.bucket_counts[k] == 0 ||
        (threshold > 0 && index < std::numeric_limits<int32_t>::max() &&
         ExponentialBucketLowerBound(static_cast<int32_t>(index + 1), h.scale) <= threshold)) {
      continue;
    }
    *first = *any ? std::min(*first, index) : index;
    *last = *any ? std::max(*last, index) : index;
    *any = true;
  }
}

// Brings `a` and `b` to one scale and one zero threshold, and (max_buckets
// > 0) to at most that many buckets across both, as far as the lowest scale
// allows. The scale is settled first and the threshold applied last, so the
// result depends only on the inputs and the final scale: `a` aligned with
// (a + b) is exactly the `a` inside (a + b), which makes a merge subtract
// back. An empty side takes the other's scale and threshold, so merging
// into an empty accumulator loses no resolution.
void Align(ExponentialHistogram* a, ExponentialHistogram* b, size_t max_buckets) {
  if (a->count == 0 && b->count != 0) {
    a->scale = b->scale;
    a->zero_threshold = b->zero_threshold;
  } else if (b->count == 0 && a->count != 0) {
    b->scale = a->scale;
    b->zero_threshold = a->zero_threshold;
  }
  const int32_t scale = std::min(a->scale, b->scale);
  a->Downscale(a->scale - scale);
  b->Downscale(b->scale - scale);
  const double threshold = std::max(a->zero_threshold, b->zero_threshold);
  while (max_buckets > 0 && a->scale > kMinHistogramScale) {
    int64_t first = 0, last = 0;
    bool any = false;
    WidenByBuckets(*a, threshold, &any, &first, &last);
    WidenByBuckets(*b, threshold, &any, &first, &last);
    if (!any || static_cast<uint64_t>(last - first + 1) <= max_buckets) break;
    a->Downscale(1);
    b->Downscale(1);
  }
  a->RaiseZeroThreshold(threshold);
  b->RaiseZeroThreshold(threshold);
  a->Trim();
  b->Trim();
}

// The count of bucket `index` in `h` (0 outside its range).
uint64_t CountAt(const ExponentialHistogram& h, int64_t index) {
  const int64_t k = index - h.offset;
  if (k < 0 || k >= static_cast<int64_t>(h.bucket_counts.size())) return 0;
  return h.bucket_counts[static_cast<size_t>(k)];
}

}  // namespace

double ExponentialBucketLowerBound(int32_t index, int32_t scale) noexcept {
  return std::exp2(std::ldexp(static_cast<double>(index), -scale));
}

absl::Status ExponentialHistogram::Validate() const {
  if (scale < kMinHistogramScale || scale > kMaxHistogramScale) {
    return absl::InvalidArgumentError(absl::StrCat(
        "scale ", scale, " is outside [", kMinHistogramScale, ", ", kMaxHistogramScale, "]"));
  }
  if (!(zero_threshold >= 0) || !std::isfinite(zero_threshold)) {
    return absl::InvalidArgumentError("zero_threshold must be finite and non-negative");
  }
  // Only non-negative values: a negative sum, min or max cannot be.
  if (!(sum >= 0) || !std::isfinite(sum)) {
    return absl::InvalidArgumentError("sum must be finite and non-negative");
  }
  if ((min.has_value() && !(*min >= 0)) || (max.has_value() && !(*max >= 0))) {
    return absl::InvalidArgumentError("min and max must be non-negative numbers");
  }
  if (min.has_value() && max.has_value() && *min > *max) {
    return absl::InvalidArgumentError("min is above max");
  }
  if (int64_t{offset} + static_cast<int64_t>(bucket_counts.size()) - 1 >
      std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError("bucket indices run past int32");
  }
  uint64_t total = zero_count;
  for (uint64_t c : bucket_counts) {
    if (total + c < total) return absl::InvalidArgumentError("bucket counts overflow");
    total += c;
  }
  if (total != count) {
    return absl::InvalidArgumentError(
        absl::StrCat("count ", count, " is not zero_count + buckets (", total, ")"));
  }
  return absl::OkStatus();
}

void ExponentialHistogram::Downscale(int32_t change) {
  change = std::min(change, scale - kMinHistogramScale);
  if (change <= 0) return;
  scale -= change;
  // In 64 bits: an unvalidated histogram may run past int32 (shrinking here).
  const int64_t first = offset;
  const int64_t new_first = ShiftIndex(first, change);
  offset = static_cast<int32_t>(new_first);
  if (bucket_counts.empty()) return;
  const int64_t last = first + static_cast<int64_t>(bucket_counts.size()) - 1;
  std::vector<uint64_t> merged(static_cast<size_t>(ShiftIndex(last, change) - new_first + 1), 0);
  for (size_t k = 0; k < bucket_counts.size(); ++k) {
    merged[static_cast<size_t>(ShiftIndex(first + static_cast<int64_t>(k), change) - new_first)] +=
        bucket_counts[k];
  }
  bucket_counts = std::move(merged);
}

void ExponentialHistogram::RaiseZeroThreshold(double threshold) {
  if (threshold > zero_threshold) zero_threshold = threshold;
  // A zero threshold of 0 holds only exact zeros: no bucket is at or below it
  // (even one whose bound underflows to 0 in a double).
  if (!(zero_threshold > 0)) return;
  size_t moved = 0;
  // The upper bound of a bucket is the lower bound of the next index.
  while (moved < bucket_counts.size() &&
         int64_t{offset} + static_cast<int64_t>(moved) < std::numeric_limits<int32_t>::max() &&
         ExponentialBucketLowerBound(offset + static_cast<int32_t>(moved) + 1, scale) <=
             threshold) {
    zero_count += bucket_counts[moved];
    ++moved;
  }
  bucket_counts.erase(bucket_counts.begin(), bucket_counts.begin() + moved);
  offset += static_cast<int32_t>(moved);
}

void ExponentialHistogram::Trim() {
  size_t begin = 0;
  while (begin < bucket_counts.size() && bucket_counts[begin] == 0) ++begin;
  size_t end = bucket_counts.size();
  while (end > begin && bucket_counts[end - 1] == 0) --end;
  if (begin == end) {
    bucket_counts.clear();
    return;
  }
  bucket_counts.erase(bucket_counts.begin() + end, bucket_counts.end());
  bucket_counts.erase(bucket_counts.begin(), bucket_counts.begin() + begin);
  offset += static_cast<int32_t>(begin);
}

double ExponentialHistogram::Quantile(double q) const noexcept {
  if (count == 0) return 0.0;
  if (!(q >= 0.0)) q = 0.0;  // also catches NaN
  if (q > 1.0) q = 1.0;
  // ceil(q·n), at least 1. The factor below 1 absorbs the rounding of q·n
  // (0.9 × 10 is 9.000000000000002 in doubles), so an exact integer product
  // keeps its rank.
  const double n = static_cast<double>(count);
  uint64_t rank =
      static_cast<uint64_t>(std::ceil(q * n * (1.0 - 4 * std::numeric_limits<double>::epsilon())));
  rank = std::min(std::max<uint64_t>(rank, 1), count);
  // The smallest and the largest value are known exactly when min and max are.
  if (rank == 1 && min.has_value()) return *min;
  if (rank == count && max.has_value()) return *max;
  double estimate = 0.0;
  if (rank <= zero_count) {
    estimate = zero_threshold / 2;
  } else {
    uint64_t below = zero_count;
    size_t k = 0;
    for (; k + 1 < bucket_counts.size(); ++k) {
      if (below + bucket_counts[k] >= rank) break;
      below += bucket_counts[k];
    }
    // base^(i + 1/2): the geometric midpoint of bucket i.
    estimate =
        std::exp2(std::ldexp(static_cast<double>(offset) + static_cast<double>(k) + 0.5, -scale));
  }
  if (min.has_value()) estimate = std::max(estimate, *min);
  if (max.has_value()) estimate = std::min(estimate, *max);
  return estimate;
}

double ExponentialHistogram::Mean() const noexcept {
  return count == 0 ? 0.0 : sum / static_cast<double>(count);
}

absl::StatusOr<ExponentialHistogram> MergeHistograms(const ExponentialHistogram& a,
                                                     const ExponentialHistogram& b,
                                                     size_t max_buckets) {
  for (const ExponentialHistogram* h : {&a, &b}) {
    absl::Status status = h->Validate();
    if (!status.ok()) return status;
  }
  ExponentialHistogram x = a, y = b;
  max_buckets = std::max<size_t>(max_buckets, 1);
  Align(&x, &y, max_buckets);
  ExponentialHistogram out;
  out.scale = x.scale;
  out.zero_threshold = x.zero_threshold;
  out.count = x.count + y.count;
  out.sum = x.sum + y.sum;
  // Every other count is at most `count`, so this one check covers them.
  if (out.count < x.count || !std::isfinite(out.sum)) {
    return absl::InvalidArgumentError("the merged count or sum overflows");
  }
  out.zero_count = x.zero_count + y.zero_count;
  // Min and max: of both when both are known, of the side that has values
  // when the other is empty, else unknown.
  auto pick = [&](const std::optional<double>& p, const std::optional<double>& r, bool lowest) {
    if (x.count == 0) return r;
    if (y.count == 0) return p;
    if (!p.has_value() || !r.has_value()) return std::optional<double>();
    return std::optional<double>(lowest ? std::min(*p, *r) : std::max(*p, *r));
  };
  out.min = pick(x.min, y.min, true);
  out.max = pick(x.max, y.max, false);
  int64_t first = 0, last = 0, f = 0, l = 0;
  bool any = false;
  for (const ExponentialHistogram* h : {&x, &y}) {
    if (h->bucket_counts.empty()) continue;
    f = h->offset;
    l = int64_t{h->offset} + static_cast<int64_t>(h->bucket_counts.size()) - 1;
    first = any ? std::min(first, f) : f;
    last = any ? std::max(last, l) : l;
    any = true;
  }
  if (any && static_cast<uint64_t>(last - first + 1) > max_buckets) {
    return absl::InvalidArgumentError(absl::StrCat("the histograms' buckets span more than ",
                                                   max_buckets, " even at scale ", x.scale));
  }
  if (any) {
    out.offset = static_cast<int32_t>(first);
    out.bucket_counts.resize(static_cast<size_t>(last - first + 1));
    for (int64_t index = first; index <= last; ++index) {
      out.bucket_counts[static_cast<size_t>(index - first)] = CountAt(x, index) + CountAt(y, index);
    }
  }
  return out;
}

absl::StatusOr<ExponentialHistogram> SubtractHistograms(const ExponentialHistogram& later,
                                                        const ExponentialHistogram& earlier) {
  for (const ExponentialHistogram* h : {&later, &earlier}) {
    absl::Status status = h->Validate();
    if (!status.ok()) return status;
  }
  ExponentialHistogram x = later, y = earlier;
  Align(&x, &y, 0);
  const auto reset = [](absl::string_view what) {
    return absl::FailedPreconditionError(
        absl::StrCat("the later snapshot's ", what,
                     " is below the earlier one's: the instance restarted in between"));
  };
  if (x.count < y.count) return reset("count");
  if (x.zero_count < y.zero_count) return reset("zero_count");
  if (x.sum < y.sum) return reset("sum");
  ExponentialHistogram out;
  out.scale = x.scale;
  out.zero_threshold = x.zero_threshold;
  out.count = x.count - y.count;
  out.zero_count = x.zero_count - y.zero_count;
  out.sum = out.count == 0 ? 0.0 : x.sum - y.sum;
  for (size_t k = 0; k < y.bucket_counts.size(); ++k) {
    const int64_t index = int64_t{y.offset} + static_cast<int64_t>(k);
    if (CountAt(x, index) < y.bucket_counts[k]) {
      return reset(absl::StrCat("count in bucket ", index));
    }
  }
  out.offset = x.offset;
  out.bucket_counts = x.bucket_counts;
  for (size_t k = 0; k < y.bucket_counts.size(); ++k) {
    out.bucket_counts[static_cast<size_t>(int64_t{y.offset} + static_cast<int64_t>(k) -
                                          x.offset)] -= y.bucket_counts[k];
  }
  out.Trim();
  // A later extreme beyond the earlier one was recorded in the interval.
  if (out.count > 0) {
    if (y.count == 0) {
      out.min = x.min;
      out.max = x.max;
    } else {
      if (x.min.has_value() && y.min.has_value() && *x.min < *y.min) out.min = x.min;
      if (x.max.has_value() && y.max.has_value() && *x.max > *y.max) out.max = x.max;
    }
  }
  return out;
}

}  // namespace tracebridge
