#include "tracebridge/core/util/sharded_counter.h"

namespace tracebridge {
namespace internal {

size_t AssignThreadShard() noexcept {
  static std::atomic<size_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed) % kCounterShards;
}

}  // namespace internal
}  // namespace tracebridge
