// W3C Trace Context and Baggage propagation: the per-request cost at each
// door. Every benchmark reports `allocs_per_op`, counted by a replacement
// global operator new, so "no heap allocation on the traceparent path" is
// measured, not assumed (tests/w3c_allocation_test.cc asserts it).

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include "benchmark/benchmark.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/injection_budget.h"
#include "tracebridge/core/propagation/w3c_propagators.h"

namespace {
std::atomic<size_t> g_allocations{0};
}  // namespace

// The replacements pair malloc with free by construction; GCC 12 cannot see
// that once they are inlined into the same function and warns.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

#pragma GCC diagnostic pop

namespace tracebridge {
namespace {

constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr char kTracestate[] = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";

// Reports heap allocations per iteration of the loop that just ran.
class AllocationCounter {
 public:
  AllocationCounter() : before_(g_allocations.load(std::memory_order_relaxed)) {}
  void Report(benchmark::State& state) const {
    const size_t allocations = g_allocations.load(std::memory_order_relaxed) - before_;
    state.counters["allocs_per_op"] =
        benchmark::Counter(static_cast<double>(allocations), benchmark::Counter::kAvgIterations);
  }

 private:
  size_t before_;
};

// A writer over fixed buffers: a transport that owns its header storage, so
// the benchmark measures the propagator, not std::string.
class FixedCarrier final : public CarrierWriter {
 public:
  void Set(absl::string_view key, absl::string_view value) override {
    char* target = key.size() == 11 ? traceparent_ : tracestate_;  // "traceparent"
    const size_t size = value.size() < sizeof(tracestate_) ? value.size() : sizeof(tracestate_);
    std::memcpy(target, value.data(), size);
    benchmark::DoNotOptimize(target);
  }

 private:
  char traceparent_[kTraceparentSize];
  char tracestate_[TraceState::kMaxHeaderSize];
};

// What an HTTP request typically carries besides the trace headers.
VectorCarrier SmallCarrier(bool with_tracestate) {
  VectorCarrier carrier;
  carrier.Add("content-type", "application/grpc");
  carrier.Add("traceparent", kTraceparent);
  if (with_tracestate) carrier.Add("tracestate", kTracestate);
  carrier.Add("user-agent", "grpc-c++/1.51.1");
  return carrier;
}

SpanContext ExampleContext(bool with_tracestate) {
  TraceId trace_id;
  SpanId span_id;
  TraceFlags flags;
  ParseTraceparent(kTraceparent, &trace_id, &span_id, &flags);
  TraceState state;
  if (with_tracestate) TraceState::Parse(kTracestate, &state);
  return SpanContext(trace_id, span_id, flags, /*is_remote=*/false, state);
}

void BM_ParseTraceparent(benchmark::State& state) {
  absl::string_view value = kTraceparent;
  TraceId trace_id;
  SpanId span_id;
  TraceFlags flags;
  AllocationCounter allocations;
  for (auto _ : state) {
    benchmark::DoNotOptimize(value);
    benchmark::DoNotOptimize(ParseTraceparent(value, &trace_id, &span_id, &flags));
    benchmark::DoNotOptimize(trace_id);
  }
  allocations.Report(state);
}
BENCHMARK(BM_ParseTraceparent);

void BM_FormatTraceparent(benchmark::State& state) {
  const SpanContext context = ExampleContext(false);
  char out[kTraceparentSize];
  AllocationCounter allocations;
  for (auto _ : state) {
    FormatTraceparent(context, out);
    benchmark::DoNotOptimize(out);
  }
  allocations.Report(state);
}
BENCHMARK(BM_FormatTraceparent);

void BM_TraceContextExtract(benchmark::State& state) {
  const VectorCarrier carrier = SmallCarrier(false);
  const TraceContextPropagator propagator;
  const Propagator& base = propagator;  // through the interface, as the doors call it
  PropagatedContext context;
  AllocationCounter allocations;
  for (auto _ : state) {
    base.Extract(carrier, &context);
    benchmark::DoNotOptimize(context);
  }
  allocations.Report(state);
}
BENCHMARK(BM_TraceContextExtract);

void BM_TraceContextExtractWithTracestate(benchmark::State& state) {
  const VectorCarrier carrier = SmallCarrier(true);
  const TraceContextPropagator propagator;
  const Propagator& base = propagator;
  PropagatedContext context;
  AllocationCounter allocations;
  for (auto _ : state) {
    base.Extract(carrier, &context);
    benchmark::DoNotOptimize(context);
  }
  allocations.Report(state);
}
BENCHMARK(BM_TraceContextExtractWithTracestate);

void BM_TraceContextInject(benchmark::State& state) {
  PropagatedContext context;
  context.span_context = ExampleContext(false);
  const TraceContextPropagator propagator;
  const Propagator& base = propagator;
  FixedCarrier carrier;
  AllocationCounter allocations;
  for (auto _ : state) {
    base.Inject(context, &carrier);
    benchmark::DoNotOptimize(carrier);
  }
  allocations.Report(state);
}
BENCHMARK(BM_TraceContextInject);

void BM_TraceContextInjectWithTracestate(benchmark::State& state) {
  PropagatedContext context;
  context.span_context = ExampleContext(true);
  const TraceContextPropagator propagator;
  const Propagator& base = propagator;
  FixedCarrier carrier;
  AllocationCounter allocations;
  for (auto _ : state) {
    base.Inject(context, &carrier);
    benchmark::DoNotOptimize(carrier);
  }
  allocations.Report(state);
}
BENCHMARK(BM_TraceContextInjectWithTracestate);

std::string TenMemberBaggage() {
  std::string header;
  for (int i = 0; i < 10; ++i) {
    if (i != 0) header += ", ";
    header += "key" + std::to_string(i) + "=value%20" + std::to_string(i);
    if (i % 3 == 0) header += ";ttl=30";
  }
  return header;
}

void BM_BaggageExtract10(benchmark::State& state) {
  VectorCarrier carrier = SmallCarrier(false);
  carrier.Add("baggage", TenMemberBaggage());
  const BaggagePropagator propagator;
  const Propagator& base = propagator;
  AllocationCounter allocations;
  for (auto _ : state) {
    PropagatedContext context;
    base.Extract(carrier, &context);
    benchmark::DoNotOptimize(context);
  }
  allocations.Report(state);
}
BENCHMARK(BM_BaggageExtract10);

// 64 members, 8191 bytes: the W3C maximum.
Baggage FullSizeBaggage() {
  Baggage baggage;
  for (int i = 0; i < 64; ++i) {
    baggage = baggage.Set((i < 10 ? "k0" : "k") + std::to_string(i), std::string(123, 'v'));
  }
  return baggage;
}

Baggage TenMembers() {
  Baggage baggage;
  ParseBaggageHeader(TenMemberBaggage(), &baggage);
  return baggage;
}

// Injects `baggage` into a fresh `VectorCarrier` per iteration, bare or
// through the injection budget (core/propagation/injection_budget.h).
void RunBaggageInject(benchmark::State& state, Baggage baggage, bool within_budget) {
  PropagatedContext context;
  context.baggage = std::move(baggage);
  const BaggagePropagator propagator;
  const Propagator& base = propagator;
  AllocationCounter allocations;
  for (auto _ : state) {
    VectorCarrier carrier;
    if (within_budget) {
      benchmark::DoNotOptimize(
          InjectWithinBudget(base, context, kDefaultInjectionBudget, &carrier));
    } else {
      base.Inject(context, &carrier);
    }
    benchmark::DoNotOptimize(carrier);
  }
  allocations.Report(state);
}

void BM_BaggageInject10(benchmark::State& state) { RunBaggageInject(state, TenMembers(), false); }
BENCHMARK(BM_BaggageInject10);

// The injection budget around the same propagators, each to compare with
// its bare run: with no baggage it adds nothing but a check; with baggage
// that fits, one measuring pass; over the budget, a third pass and the
// trimmed copy.
void BM_TraceContextInjectWithinBudget(benchmark::State& state) {
  PropagatedContext context;
  context.span_context = ExampleContext(false);
  const TraceContextPropagator propagator;
  FixedCarrier carrier;
  AllocationCounter allocations;
  for (auto _ : state) {
    InjectWithinBudget(propagator, context, kDefaultInjectionBudget, &carrier);
    benchmark::DoNotOptimize(carrier);
  }
  allocations.Report(state);
}
BENCHMARK(BM_TraceContextInjectWithinBudget);

void BM_BaggageInject10WithinBudget(benchmark::State& state) {
  RunBaggageInject(state, TenMembers(), true);
}
BENCHMARK(BM_BaggageInject10WithinBudget);

void BM_BaggageInject64(benchmark::State& state) {
  RunBaggageInject(state, FullSizeBaggage(), false);
}
BENCHMARK(BM_BaggageInject64);

// Trimmed to the default budget on every call.
void BM_BaggageInject64OverBudget(benchmark::State& state) {
  RunBaggageInject(state, FullSizeBaggage(), true);
}
BENCHMARK(BM_BaggageInject64OverBudget);

}  // namespace
}  // namespace tracebridge
