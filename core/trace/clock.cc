#include "tracebridge/core/trace/clock.h"

#include <atomic>

namespace tracebridge {
namespace internal {
namespace {
std::atomic<int64_t> offset_nanos{0};
std::atomic<int64_t> offset_read_at{INT64_MIN};
constexpr int64_t kRefreshNanos = 1000000000;
}  // namespace

static int64_t ReadOffset() noexcept {
  const int64_t wall = UnixNanosNow();
  return wall - MonotonicNanosNow();
}

int64_t WallOffsetNanos(int64_t monotonic_now) noexcept {
  int64_t read_at = offset_read_at.load(std::memory_order_acquire);
  if (read_at == INT64_MIN) {
    // Never read: every thread that gets here reads the clocks itself, so
    // none uses an offset that is not there yet. The offset is published
    // before the time it was read at (release), which readers load first.
    const int64_t offset = ReadOffset();
    offset_nanos.store(offset, std::memory_order_relaxed);
    offset_read_at.store(monotonic_now, std::memory_order_release);
    return offset;
  }
  if (monotonic_now - read_at < kRefreshNanos) {
    return offset_nanos.load(std::memory_order_relaxed);
  }
  // Stale: one thread refreshes; the others keep the previous (valid) offset.
  if (offset_read_at.compare_exchange_strong(read_at, monotonic_now, std::memory_order_acq_rel)) {
    const int64_t offset = ReadOffset();
    offset_nanos.store(offset, std::memory_order_relaxed);
    return offset;
  }
  return offset_nanos.load(std::memory_order_relaxed);
}

}  // namespace internal
}  // namespace tracebridge
