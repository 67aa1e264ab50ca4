// File: tests/testing/alloc_counter.h
//
// Counts heap allocations (`operator new`), for tests and benchmarks that
// prove a path allocates nothing. Linking the `alloc_counter` target replaces
// the global `operator new` of that binary with a counting one.
//
// Example:
//
//   const uint64_t before = tracebridge::testing::ThreadAllocations();
//   DoWork();
//   EXPECT_EQ(tracebridge::testing::ThreadAllocations(), before);

#ifndef TRACEBRIDGE_TESTS_TESTING_ALLOC_COUNTER_H_
#define TRACEBRIDGE_TESTS_TESTING_ALLOC_COUNTER_H_

#include <cstdint>

namespace tracebridge {
namespace testing {

// Allocations made by the calling thread since it started.
uint64_t ThreadAllocations() noexcept;

// Allocations made by every thread of the process since it started (for
// work spread over threads one does not own, such as gRPC's).
uint64_t ProcessAllocations() noexcept;

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_ALLOC_COUNTER_H_
