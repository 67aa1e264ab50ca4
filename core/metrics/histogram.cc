// File: core/metrics/histogram.cc

#include "tracebridge/core/metrics/histogram.h"

#include <algorithm>
#include <cmath>

namespace tracebridge {

static_assert(kLatencyNumBuckets == 896, "documented in histogram.h and registry.h");
static_assert((kLatencyMinIndex % 32) == 0 && ((kLatencyMaxIndex + 1) % 32) == 0,
              "the range must be whole octaves for the classic buckets to be exact");
static_assert(kLatencyNumBuckets / 32 + 1 == kClassicLatencyNumBounds,
              "one classic bound per octave, plus the zero threshold");

double ClassicLatencyBoundSeconds(int bucket) noexcept {
  return std::ldexp(1.0, bucket + kLatencyMinIndex / 32);
}

std::array<uint64_t, kClassicLatencyNumBuckets> ClassicLatencyCounts(
    const ExponentialHistogram& latency, uint64_t overflow) noexcept {
  std::array<uint64_t, kClassicLatencyNumBuckets> counts{};
  counts[0] = latency.zero_count;
  for (size_t k = 0; k < latency.bucket_counts.size(); ++k) {
    const int slot = latency.offset + static_cast<int>(k) - kLatencyMinIndex + 1;
    counts[ClassicLatencyBucketOfSlot(slot)] += latency.bucket_counts[k];
  }
  // The top bucket's overflow belongs in +Inf only.
  const uint64_t moved = std::min(overflow, counts[kClassicLatencyNumBounds - 1]);
  counts[kClassicLatencyNumBounds - 1] -= moved;
  counts[kClassicLatencyNumBounds] += moved;
  return counts;
}

ExponentialHistogram LatencyHistogramFromSlots(const uint64_t* slots, uint64_t sum_ns,
                                               uint64_t min_ns, uint64_t max_ns) {
  ExponentialHistogram out;
  out.scale = kLatencyScale;
  out.zero_threshold = kLatencyZeroThresholdSeconds;
  out.zero_count = slots[0];
  int first = 1, last = kLatencyNumBuckets;
  const uint64_t overflow = slots[kLatencyOverflowSlot];
  auto count_at = [&](int slot) {
    return slots[slot] + (slot == kLatencyNumBuckets ? overflow : 0);
  };
  while (first <= last && count_at(first) == 0) ++first;
  while (last >= first && count_at(last) == 0) --last;
  out.count = out.zero_count;
  if (first <= last) {
    out.offset = kLatencyMinIndex + first - 1;
    out.bucket_counts.reserve(static_cast<size_t>(last - first + 1));
    for (int slot = first; slot <= last; ++slot) {
      out.bucket_counts.push_back(count_at(slot));
      out.count += count_at(slot);
    }
  }
  out.sum = static_cast<double>(sum_ns) / 1e9;
  // A snapshot taken mid-record can see a count before its extremes: left
  // unknown rather than wrong.
  if (out.count > 0 && min_ns <= max_ns) {
    out.min = static_cast<double>(min_ns) / 1e9;
    out.max = static_cast<double>(max_ns) / 1e9;
  }
  return out;
}

}  // namespace tracebridge
