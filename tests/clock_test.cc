// Wall time derived from the monotonic clock: right from the first read, in
// every thread, even when many threads race for the first offset.

#include "tracebridge/core/trace/clock.h"

#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace tracebridge {
namespace {

constexpr int64_t kMinute = int64_t{60} * 1000 * 1000 * 1000;

// Runs first in a fresh process: nobody has read the offset yet.
TEST(ClockTest, ThreadsRacingForTheFirstOffsetAllGetWallTime) {
  constexpr int kThreads = 8;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<int64_t> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load()) {
      }
      results[t] = UnixNanosAt(MonotonicNanosNow());
    });
  }
  while (ready.load() < kThreads) {
  }
  go.store(true);
  for (auto& thread : threads) thread.join();
  const int64_t now = UnixNanosNow();
  for (int64_t result : results) {
    // A thread handed an unset offset would say 1970 (a few days of uptime).
    EXPECT_LT(std::llabs(result - now), kMinute) << result;
  }
}

TEST(ClockTest, LaterReadsAgreeWithTheWallClock) {
  for (int i = 0; i < 1000; ++i) {
    EXPECT_LT(std::llabs(UnixNanosAt(MonotonicNanosNow()) - UnixNanosNow()), kMinute);
  }
}

}  // namespace
}  // namespace tracebridge
