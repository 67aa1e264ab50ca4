// File: core/histogram.cc

#include "tracebridge/core/metrics/histogram.h"

#include <algorithm>
#include <cmath>

namespace tracebridge {
namespace {

// The bounds padded to a power of two with UINT64_MAX, so the search below is
// a fixed five steps with no bounds checks.
constexpr std::array<uint64_t, 32> MakePaddedBounds() {
  std::array<uint64_t, 32> padded{};
  for (int i = 0; i < 32; ++i) {
    padded[i] = i < kHistogramNumBounds ? kHistogramBoundsNs[i] : ~uint64_t{0};
  }
  return padded;
}
constexpr std::array<uint64_t, 32> kPaddedBounds = MakePaddedBounds();

constexpr bool BoundsAscending() {
  for (int i = 1; i < kHistogramNumBounds; ++i) {
    if (kHistogramBoundsNs[i - 1] >= kHistogramBoundsNs[i]) return false;
  }
  return true;
}
static_assert(BoundsAscending(), "histogram bounds must ascend");
static_assert(kHistogramNumBounds <= 31, "the padded search assumes at most 31 bounds");

}  // namespace

int HistogramBucketIndex(uint64_t value_ns) noexcept {
  // Counts the bounds strictly below `value_ns` (a branch-free lower_bound):
  // that count is the index of the first bound >= value_ns. The padding makes
  // the answer at most kHistogramNumBounds, the +Inf bucket.
  int index = 0;
  for (int step = 16; step > 0; step >>= 1) {
    index += (kPaddedBounds[index + step - 1] < value_ns) ? step : 0;
  }
  return index;
}

void HistogramData::Add(uint64_t value_ns) noexcept {
  ++buckets[HistogramBucketIndex(value_ns)];
  sum_ns += value_ns;
  max_ns = std::max(max_ns, value_ns);
}

void HistogramData::Merge(const HistogramData& other) noexcept {
  for (int i = 0; i < kHistogramNumBuckets; ++i) buckets[i] += other.buckets[i];
  sum_ns += other.sum_ns;
  max_ns = std::max(max_ns, other.max_ns);
}

uint64_t HistogramData::Count() const noexcept {
  uint64_t count = 0;
  for (uint64_t b : buckets) count += b;
  return count;
}

double HistogramData::MeanNs() const noexcept {
  const uint64_t count = Count();
  return count == 0 ? 0.0 : static_cast<double>(sum_ns) / static_cast<double>(count);
}

double HistogramData::Percentile(double q) const noexcept {
  const uint64_t count = Count();
  if (count == 0) return 0.0;
  if (!(q >= 0.0)) q = 0.0;  // also catches NaN
  if (q > 1.0) q = 1.0;
  // The rank of the true quantile: the ceil(q·n)-th smallest value, at least 1.
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count)));
  rank = std::min(std::max<uint64_t>(rank, 1), count);
  uint64_t below = 0;
  for (int i = 0; i < kHistogramNumBuckets; ++i) {
    if (below + buckets[i] < rank) {
      below += buckets[i];
      continue;
    }
    // The overflow bucket has no upper bound: the maximum is the best answer.
    if (i == kHistogramNumBounds) return static_cast<double>(max_ns);
    const double lower = i == 0 ? 0.0 : static_cast<double>(kHistogramBoundsNs[i - 1]);
    const double upper = static_cast<double>(kHistogramBoundsNs[i]);
    const double fraction = static_cast<double>(rank - below) / static_cast<double>(buckets[i]);
    return std::min(lower + (upper - lower) * fraction, static_cast<double>(max_ns));
  }
  return static_cast<double>(max_ns);  // unreachable: rank <= count
}

}  // namespace tracebridge
