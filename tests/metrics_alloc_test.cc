// Proves the record path never touches the heap: this binary replaces the
// global allocation functions with counting ones.

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "gtest/gtest.h"
#include "tracebridge/core/metrics/registry.h"

// The replacement allocation functions pair malloc with free; GCC cannot see
// that through inlined new/delete pairs and warns.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
std::atomic<long> allocations{0};

void* CountedAlloc(std::size_t size, std::size_t alignment) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (size == 0) size = 1;
  void* p = alignment <= alignof(std::max_align_t)
                ? std::malloc(size)
                : std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t size) { return CountedAlloc(size, 0); }
void* operator new[](std::size_t size) { return CountedAlloc(size, 0); }
void* operator new(std::size_t size, std::align_val_t a) {
  return CountedAlloc(size, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t size, std::align_val_t a) {
  return CountedAlloc(size, static_cast<std::size_t>(a));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace tracebridge {
namespace {

TEST(MetricsAllocTest, CounterSeesAllocations) {
  const long before = allocations.load();
  auto* text = new std::string(100, 'x');
  EXPECT_GT(allocations.load(), before);
  delete text;
}

TEST(MetricsAllocTest, RecordPathAndLookupsDoNotAllocate) {
  Registry registry;
  Series* grpc = registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Get");
  Series* http = registry.RegisterHttpRoute(Side::kClient, "GET", "/orders/:id");
  const long before = allocations.load();
  for (int i = 0; i < 10000; ++i) {
    grpc->Start();
    grpc->AddMessagesReceived();
    grpc->AddMessagesSent(2);
    grpc->AddRequestBytes(64);
    grpc->AddResponseBytes(128);
    grpc->RecordMessageReceived(static_cast<uint64_t>(i));
    grpc->RecordMessageSent(uint64_t{1} << (i % 40));
    grpc->Finish(i % 17, int64_t{i} * 1000);
    grpc->Finish(-1, absl::Microseconds(i));
    http->Start();
    http->Finish(i % 2 == 0 ? 200 : 404, int64_t{i} * 7919);
    registry.FindGrpcFullMethod(Side::kServer, "/pkg.Svc/Get")->Start();
    registry.FindGrpcMethod(Side::kServer, "pkg.Svc", "Unknown")->Start();
    registry.FindHttpRoute(Side::kClient, "GET", "/orders/:id")->Start();
    registry.FindHttpRoute(Side::kServer, "BREW", "/raw/path")->Finish(418, 1);
    registry.GrpcOther(Side::kClient)->Finish(0, 1);
    registry.HttpOther(Side::kServer, "POST")->Finish(500, 1);
  }
  EXPECT_EQ(allocations.load(), before);
}

TEST(MetricsAllocTest, RecordingExemplarsDoesNotAllocate) {
  Registry registry;
  Series* grpc = registry.RegisterGrpcMethod(Side::kServer, "pkg.Svc", "Get");
  Exemplar exemplar = {{1, 2, 3}, {4, 5, 6}, 1'700'000'000'000'000'000};
  const long before = allocations.load();
  for (int i = 0; i < 10000; ++i) {
    exemplar.trace_id[15] = static_cast<uint8_t>(i);
    grpc->Start();
    grpc->Finish(0, int64_t{i} * 100'003, &exemplar);
  }
  EXPECT_EQ(allocations.load(), before);
  EXPECT_FALSE(registry.Snapshot().series.front().exemplars.empty());
}

}  // namespace
}  // namespace tracebridge
