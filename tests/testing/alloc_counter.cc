#include "tests/testing/alloc_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace tracebridge {
namespace testing {
namespace {
thread_local uint64_t allocations = 0;
std::atomic<uint64_t> process_allocations{0};

void* Allocate(std::size_t size) {
  ++allocations;
  process_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
}  // namespace

uint64_t ThreadAllocations() noexcept { return allocations; }

uint64_t ProcessAllocations() noexcept {
  return process_allocations.load(std::memory_order_relaxed);
}

}  // namespace testing
}  // namespace tracebridge

void* operator new(std::size_t size) { return tracebridge::testing::Allocate(size); }
void* operator new[](std::size_t size) { return tracebridge::testing::Allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
