// Proves the hot paths of core/propagation/w3c_propagators.h allocate nothing: traceparent
// extract and inject, with and without the propagator around them, and
// through the injection budget when there is no baggage to measure. Replaces
// the global operator new with a counting one, so it lives in its own binary.
// Also checks that baggage extraction of a huge header allocates a bounded
// amount, not an amount proportional to the header.

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/composite_propagator.h"
#include "tracebridge/core/propagation/injection_budget.h"
#include "tracebridge/core/propagation/w3c_propagators.h"

namespace {
std::atomic<size_t> g_allocations{0};
std::atomic<size_t> g_allocated_bytes{0};
}  // namespace

// The replacements pair malloc with free by construction; GCC 12 cannot see
// that once they are inlined into the same function and warns.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  g_allocated_bytes.fetch_add(size, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  g_allocated_bytes.fetch_add(size, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

#pragma GCC diagnostic pop

namespace tracebridge {
namespace {

constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

// A writer that stores into fixed buffers, like a transport that owns its
// header storage.
class FixedCarrier final : public CarrierWriter {
 public:
  void Set(absl::string_view key, absl::string_view value) override {
    char* target = key == "traceparent" ? traceparent_ : tracestate_;
    const size_t size = value.size() < sizeof(tracestate_) ? value.size() : sizeof(tracestate_);
    for (size_t i = 0; i < size; ++i) target[i] = value[i];
    ++writes_;
  }
  int writes() const { return writes_; }

 private:
  char traceparent_[TraceState::kMaxHeaderSize] = {};
  char tracestate_[TraceState::kMaxHeaderSize] = {};
  int writes_ = 0;
};

// Allocations made while running `fn`.
template <typename Fn>
size_t CountAllocations(Fn fn) {
  const size_t before = g_allocations.load();
  fn();
  return g_allocations.load() - before;
}

TEST(W3cAllocationTest, CounterWorks) {
  EXPECT_GE(CountAllocations([] { delete new std::string(100, 'x'); }), 1u);
}

TEST(W3cAllocationTest, ParseAndFormatTraceparentAllocateNothing) {
  TraceId trace_id;
  SpanId span_id;
  TraceFlags flags;
  char out[kTraceparentSize];
  EXPECT_EQ(CountAllocations([&] {
              for (int i = 0; i < 1000; ++i) {
                ASSERT_TRUE(ParseTraceparent(kTraceparent, &trace_id, &span_id, &flags));
                FormatTraceparent(SpanContext(trace_id, span_id, flags, true), out);
              }
            }),
            0u);
}

TEST(W3cAllocationTest, ExtractAllocatesNothingWithoutTracestate) {
  VectorCarrier carrier;
  carrier.Add("traceparent", kTraceparent);
  carrier.Add("baggage", "unrelated=1");
  TraceContextPropagator propagator;
  PropagatedContext context;
  EXPECT_EQ(CountAllocations([&] {
              for (int i = 0; i < 1000; ++i) propagator.Extract(carrier, &context);
            }),
            0u);
  EXPECT_TRUE(context.span_context.IsValid());
  // Malformed input costs no allocation either.
  VectorCarrier bad;
  bad.Add("traceparent", std::string(kTraceparent) + "-x");
  bad.Add("traceparent", kTraceparent);
  EXPECT_EQ(CountAllocations([&] { propagator.Extract(bad, &context); }), 0u);
}

TEST(W3cAllocationTest, InjectAllocatesNothingEvenWithTracestate) {
  TraceState state;
  ASSERT_TRUE(TraceState::Parse("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", &state));
  PropagatedContext context;
  TraceId trace_id;
  SpanId span_id;
  TraceFlags flags;
  ASSERT_TRUE(ParseTraceparent(kTraceparent, &trace_id, &span_id, &flags));
  context.span_context = SpanContext(trace_id, span_id, flags, false, state);
  TraceContextPropagator propagator;
  FixedCarrier carrier;
  EXPECT_EQ(CountAllocations([&] {
              for (int i = 0; i < 1000; ++i) propagator.Inject(context, &carrier);
            }),
            0u);
  EXPECT_EQ(carrier.writes(), 2000);
}

TEST(W3cAllocationTest, InjectWithinBudgetAllocatesNothingWithoutBaggage) {
  std::vector<std::unique_ptr<Propagator>> formats;
  formats.push_back(std::make_unique<TraceContextPropagator>());
  formats.push_back(std::make_unique<BaggagePropagator>());
  const CompositePropagator propagator(std::move(formats));
  PropagatedContext context;
  TraceId trace_id;
  SpanId span_id;
  TraceFlags flags;
  ASSERT_TRUE(ParseTraceparent(kTraceparent, &trace_id, &span_id, &flags));
  context.span_context = SpanContext(trace_id, span_id, flags, false);
  FixedCarrier carrier;
  EXPECT_EQ(CountAllocations([&] {
              for (int i = 0; i < 1000; ++i) {
                InjectWithinBudget(propagator, context, kDefaultInjectionBudget, &carrier);
              }
            }),
            0u);
  EXPECT_EQ(carrier.writes(), 1000);
}

TEST(W3cAllocationTest, BaggageExtractMemoryIsBoundedByTheLimits) {
  // 4 MB of header: one huge member, many malformed ones, many valid ones.
  std::string header = "huge=" + std::string(1 << 21, 'v');
  while (header.size() < (3u << 20)) header += ",bad key=1";
  for (int i = 0; header.size() < (4u << 20); ++i) header += ",k" + std::to_string(i) + "=v";
  VectorCarrier carrier;
  carrier.Add("baggage", header);
  BaggagePropagator propagator;
  PropagatedContext context;
  const size_t before = g_allocated_bytes.load();
  propagator.Extract(carrier, &context);
  const size_t allocated = g_allocated_bytes.load() - before;
  EXPECT_EQ(context.baggage.size(), Baggage::kMaxMembers);
  // 64 entries of a few bytes each, the vector growth, and one value buffer
  // per attempted member; far below the 4 MB of input.
  EXPECT_LT(allocated, 64u * 1024u) << allocated;
}

}  // namespace
}  // namespace tracebridge
