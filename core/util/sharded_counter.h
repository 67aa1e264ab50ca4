// File: tracebridge/core/util/sharded_counter.h
//
// `ShardedCounter`: a monotonically increasing counter that many threads
// increment without sharing a cache line. Each thread picks one of a fixed
// number of cache-line-sized shards on first use; `Value()` sums them. Adds
// are single relaxed `fetch_add`s: wait-free, no allocation.
//
// Example:
//
//   ShardedCounter spans_started;
//   spans_started.Add();               // hot path
//   uint64_t total = spans_started.Value();   // scrape path

#ifndef TRACEBRIDGE_CORE_UTIL_SHARDED_COUNTER_H_
#define TRACEBRIDGE_CORE_UTIL_SHARDED_COUNTER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tracebridge {

namespace internal {
inline constexpr size_t kCacheLine = 64;
inline constexpr size_t kCounterShards = 16;
// Picks the calling thread's shard, round-robin across threads.
size_t AssignThreadShard() noexcept;
// The calling thread's shard, or kUnassignedShard before its first use. A
// constant-initialised thread_local: reading it needs no guard or call.
inline constexpr size_t kUnassignedShard = ~size_t{0};
inline thread_local size_t thread_shard = kUnassignedShard;
// This thread's shard index in [0, kCounterShards).
inline size_t ThisThreadShard() noexcept {
  const size_t shard = thread_shard;
  return shard != kUnassignedShard ? shard : (thread_shard = AssignThreadShard());
}
}  // namespace internal

class ShardedCounter final {
 public:
  ShardedCounter() noexcept = default;
  ShardedCounter(const ShardedCounter&) = delete;
  ShardedCounter& operator=(const ShardedCounter&) = delete;

  void Add(uint64_t n = 1) noexcept {
    shards_[internal::ThisThreadShard()].value.fetch_add(n, std::memory_order_relaxed);
  }

  // The sum over all shards. Concurrent adds may or may not be included.
  uint64_t Value() const noexcept {
    uint64_t total = 0;
    for (const Shard& shard : shards_) total += shard.value.load(std::memory_order_relaxed);
    return total;
  }

 private:
  struct alignas(internal::kCacheLine) Shard {
    std::atomic<uint64_t> value{0};
  };
  Shard shards_[internal::kCounterShards];
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_UTIL_SHARDED_COUNTER_H_
