// Per-request propagation costs of the non-W3C formats: extracting the
// caller's context from incoming headers and injecting ours into outgoing
// ones. `allocs/iter` counts heap allocations (global operator new) per
// iteration; the propagators themselves should make none.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#include "benchmark/benchmark.h"
#include "tracebridge/core/propagation/b3_propagator.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/grpc_trace_bin_propagator.h"
#include "tracebridge/core/propagation/jaeger_propagator.h"
#include "tracebridge/core/propagation/propagator.h"
#include "tracebridge/core/propagation/xtrace_propagator.h"

namespace {
std::atomic<size_t> allocations{0};
}  // namespace

// Counting replacements of the global allocation functions (the sized and
// aligned forms forward to these or to malloc directly). GCC 12 at -O2
// inlines them and then misreads the malloc/free pair as mismatched.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace tracebridge {
namespace {

// Runs `body` in the benchmark loop and reports allocations per iteration.
template <typename Body>
void RunCountingAllocations(benchmark::State& state, Body body) {
  const size_t before = allocations.load(std::memory_order_relaxed);
  for (auto _ : state) body();
  const size_t after = allocations.load(std::memory_order_relaxed);
  state.counters["allocs/iter"] =
      benchmark::Counter(static_cast<double>(after - before), benchmark::Counter::kAvgIterations);
}

// A writer that keeps nothing, so Inject's own cost is what is measured.
class DiscardingWriter final : public CarrierWriter {
 public:
  void Set(absl::string_view key, absl::string_view value) override {
    bytes_ += key.size() + value.size();
  }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_ = 0;
};

// Typical incoming request headers around the tracing ones.
VectorCarrier RequestHeaders() {
  VectorCarrier carrier;
  carrier.Add(":authority", "api.example.com");
  carrier.Add("content-type", "application/grpc");
  carrier.Add("user-agent", "grpc-c++/1.51.1");
  carrier.Add("te", "trailers");
  return carrier;
}

PropagatedContext SampleContext() {
  PropagatedContext context;
  context.span_context =
      SpanContext(TraceId::FromHex("80f198ee56343ba864fe8b2a57d3eff7"),
                  SpanId::FromHex("e457b5a2e4d86bd1"), TraceFlags::Sampled(), false);
  return context;
}

void BM_B3SingleExtract(benchmark::State& state) {
  VectorCarrier carrier = RequestHeaders();
  carrier.Add("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90");
  const B3Propagator propagator;
  RunCountingAllocations(state, [&] {
    PropagatedContext context;
    propagator.Extract(carrier, &context);
    benchmark::DoNotOptimize(context);
  });
}
BENCHMARK(BM_B3SingleExtract);

void BM_B3MultiExtract(benchmark::State& state) {
  VectorCarrier carrier = RequestHeaders();
  carrier.Add("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7");
  carrier.Add("x-b3-spanid", "e457b5a2e4d86bd1");
  carrier.Add("x-b3-parentspanid", "05e3ac9a4f6e3b90");
  carrier.Add("x-b3-sampled", "1");
  const B3Propagator propagator;
  RunCountingAllocations(state, [&] {
    PropagatedContext context;
    propagator.Extract(carrier, &context);
    benchmark::DoNotOptimize(context);
  });
}
BENCHMARK(BM_B3MultiExtract);

void BM_B3SingleInject(benchmark::State& state) {
  const PropagatedContext context = SampleContext();
  const B3Propagator propagator;
  DiscardingWriter writer;
  RunCountingAllocations(state, [&] { propagator.Inject(context, &writer); });
  benchmark::DoNotOptimize(writer.bytes());
}
BENCHMARK(BM_B3SingleInject);

void BM_B3SingleParse(benchmark::State& state) {
  const absl::string_view value =
      "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90";
  RunCountingAllocations(state, [&] {
    SpanContext context;
    benchmark::DoNotOptimize(B3Propagator::ParseSingle(value, &context));
    benchmark::DoNotOptimize(context);
  });
}
BENCHMARK(BM_B3SingleParse);

void BM_GrpcTraceBinExtract(benchmark::State& state) {
  const PropagatedContext sample = SampleContext();
  uint8_t bytes[GrpcTraceBinPropagator::kSize];
  GrpcTraceBinPropagator::Format(sample.span_context, bytes);
  VectorCarrier carrier = RequestHeaders();
  carrier.Add("grpc-trace-bin", absl::string_view(reinterpret_cast<char*>(bytes), sizeof(bytes)));
  const GrpcTraceBinPropagator propagator;
  RunCountingAllocations(state, [&] {
    PropagatedContext context;
    propagator.Extract(carrier, &context);
    benchmark::DoNotOptimize(context);
  });
}
BENCHMARK(BM_GrpcTraceBinExtract);

void BM_GrpcTraceBinInject(benchmark::State& state) {
  const PropagatedContext context = SampleContext();
  const GrpcTraceBinPropagator propagator;
  DiscardingWriter writer;
  RunCountingAllocations(state, [&] { propagator.Inject(context, &writer); });
  benchmark::DoNotOptimize(writer.bytes());
}
BENCHMARK(BM_GrpcTraceBinInject);

void BM_JaegerParse(benchmark::State& state) {
  const absl::string_view value = "80f198ee56343ba864fe8b2a57d3eff7:e457b5a2e4d86bd1:0:1";
  RunCountingAllocations(state, [&] {
    SpanContext context;
    benchmark::DoNotOptimize(JaegerPropagator::Parse(value, &context));
    benchmark::DoNotOptimize(context);
  });
}
BENCHMARK(BM_JaegerParse);

void BM_XTraceParse(benchmark::State& state) {
  RunCountingAllocations(state, [&] {
    SpanContext context;
    benchmark::DoNotOptimize(XTracePropagator::Parse("80F198EE56343BA864FE8B2A57D3EFF7",
                                                     "e457b5a2e4d86bd1", true, &context));
    benchmark::DoNotOptimize(context);
  });
}
BENCHMARK(BM_XTraceParse);

}  // namespace
}  // namespace tracebridge
