#include "core/clock.h"

#include <atomic>

namespace tracebridge {
namespace internal {
namespace {
std::atomic<int64_t> offset_nanos{0};
std::atomic<int64_t> offset_read_at{INT64_MIN};
constexpr int64_t kRefreshNanos = 1000000000;
}  // namespace

int64_t WallOffsetNanos(int64_t monotonic_now) noexcept {
  int64_t read_at = offset_read_at.load(std::memory_order_acquire);
  // The sentinel test comes first: `monotonic_now - INT64_MIN` overflows.
  if (read_at != INT64_MIN && monotonic_now - read_at < kRefreshNanos) {
    return offset_nanos.load(std::memory_order_relaxed);
  }
  // One thread refreshes; the others keep using the previous offset.
  if (offset_read_at.compare_exchange_strong(read_at, monotonic_now, std::memory_order_acq_rel) ||
      read_at == INT64_MIN) {
    const int64_t wall = UnixNanosNow();
    const int64_t monotonic = MonotonicNanosNow();
    offset_nanos.store(wall - monotonic, std::memory_order_relaxed);
    return wall - monotonic;
  }
  return offset_nanos.load(std::memory_order_relaxed);
}

}  // namespace internal
}  // namespace tracebridge
