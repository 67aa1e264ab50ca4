// File: tracebridge/core/trace/clock.h
//
// The two clocks a span reads: wall time for export (Unix nanoseconds) and a
// monotonic clock for durations, so a wall-clock step never yields a negative
// or inflated duration. Both are vDSO reads: no system call, no lock.

#ifndef TRACEBRIDGE_CORE_TRACE_CLOCK_H_
#define TRACEBRIDGE_CORE_TRACE_CLOCK_H_

#include <time.h>

#include <cstdint>

namespace tracebridge {

// Nanoseconds since the Unix epoch (CLOCK_REALTIME).
inline int64_t UnixNanosNow() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Nanoseconds on a clock that never goes backwards (CLOCK_MONOTONIC).
inline int64_t MonotonicNanosNow() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

namespace internal {
// CLOCK_REALTIME minus CLOCK_MONOTONIC, re-read at most once a second.
int64_t WallOffsetNanos(int64_t monotonic_now) noexcept;
}  // namespace internal

// The wall-clock time (Unix nanoseconds) at monotonic time `monotonic_nanos`.
// Spans read only the monotonic clock and convert: one clock read per
// timestamp instead of two. The offset between the clocks changes only when
// the wall clock is stepped; it is re-read once a second, so a step shows in
// new spans within a second.
inline int64_t UnixNanosAt(int64_t monotonic_nanos) noexcept {
  return monotonic_nanos + internal::WallOffsetNanos(monotonic_nanos);
}

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_TRACE_CLOCK_H_
