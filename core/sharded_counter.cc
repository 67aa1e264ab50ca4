#include "core/sharded_counter.h"

namespace tracebridge {
namespace internal {

size_t ThisThreadShard() noexcept {
  static std::atomic<size_t> next{0};
  thread_local const size_t shard = next.fetch_add(1, std::memory_order_relaxed) % kCounterShards;
  return shard;
}

}  // namespace internal
}  // namespace tracebridge
