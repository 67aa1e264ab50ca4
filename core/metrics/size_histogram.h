// File: tracebridge/core/metrics/size_histogram.h
//
// The message-size histogram a gRPC series keeps per direction (request and
// response): one observation per message, its serialised size in bytes, in
// powers-of-two buckets. Bucket 0 holds empty messages; bucket i (1 … 33)
// holds sizes in (2^(i-2), 2^(i-1)] bytes, so its upper bound (Prometheus
// `le`, OTLP explicit bound) is 1, 2, 4, … 2^32; bucket 34 (+Inf) holds
// anything larger, which a gRPC message (at most 2^32 − 1 bytes, its length
// prefix is 32 bits) never is. A size exactly on a power of two lies in the
// bucket it bounds: 1024 bytes counts under `le="1024"`.
//
// Placement is one leading-bit count; recording is a relaxed increment of
// the bucket (core/metrics/registry.h), the sum being the series' byte
// counter of that direction.
//
// Example:
//
//   int bucket = tracebridge::SizeBucket(1000);          // 11: (512, 1024]
//   uint64_t bound = tracebridge::SizeBucketBound(11);   // 1024

#ifndef TRACEBRIDGE_CORE_METRICS_SIZE_HISTOGRAM_H_
#define TRACEBRIDGE_CORE_METRICS_SIZE_HISTOGRAM_H_

#include <array>
#include <cstdint>

namespace tracebridge {

// Finite bounds 0, 1, 2, 4, … 2^32, then +Inf.
inline constexpr int kSizeNumBounds = 34;
inline constexpr int kSizeNumBuckets = kSizeNumBounds + 1;

// The bucket of a message of `bytes` bytes.
inline int SizeBucket(uint64_t bytes) noexcept {
  if (bytes <= 1) return static_cast<int>(bytes);
  // 1 + bit width of (bytes − 1): 2 → 2, 3 and 4 → 3, 2^32 → 33.
  const int bucket = 65 - __builtin_clzll(bytes - 1);
  return bucket < kSizeNumBounds ? bucket : kSizeNumBounds;
}

// The upper bound of finite bucket `bucket` (0 … kSizeNumBounds − 1).
constexpr uint64_t SizeBucketBound(int bucket) noexcept {
  return bucket == 0 ? 0 : uint64_t{1} << (bucket - 1);
}

// One direction's histogram in a snapshot: per-bucket (not cumulative)
// counts and the sum of the sizes.
struct SizeHistogram {
  std::array<uint64_t, kSizeNumBuckets> counts{};
  uint64_t sum = 0;

  // Messages observed.
  uint64_t Count() const noexcept {
    uint64_t count = 0;
    for (uint64_t c : counts) count += c;
    return count;
  }
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_METRICS_SIZE_HISTOGRAM_H_
