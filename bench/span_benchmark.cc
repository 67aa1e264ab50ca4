// Span start + end: sampled with two attributes, and unsampled, into a
// processor that discards. Allocations per iteration are reported as a
// counter (the test fixture's counting operator new).

#include <memory>

#include "benchmark/benchmark.h"
#include "tests/testing/alloc_counter.h"
#include "tracebridge/core/trace/tracer.h"

namespace tracebridge {
namespace {

class DiscardingProcessor final : public SpanProcessor {
 public:
  void OnEnd(std::unique_ptr<SpanData>) noexcept override {}
  absl::Status ForceFlush(absl::Duration) override { return absl::OkStatus(); }
  absl::Status Shutdown(absl::Duration) override { return absl::OkStatus(); }
};

void ReportAllocations(benchmark::State& state, uint64_t before) {
  // Per thread, averaged over threads.
  state.counters["allocs/op"] = benchmark::Counter(
      static_cast<double>(testing::ThreadAllocations() - before) / state.iterations(),
      benchmark::Counter::kAvgThreads);
}

void BM_SpanSampledTwoAttributes(benchmark::State& state) {
  DiscardingProcessor processor;
  Tracer tracer({"bench", AlwaysOnSampler(), &processor});
  const uint64_t before = testing::ThreadAllocations();
  for (auto _ : state) {
    Span span = tracer.StartSpan("GET /orders");
    span.SetAttribute("http.route", "/orders/:id");
    span.SetAttribute("http.status", int64_t{200});
    span.End();
  }
  ReportAllocations(state, before);
}
BENCHMARK(BM_SpanSampledTwoAttributes)->ThreadRange(1, 2);

void BM_SpanUnsampled(benchmark::State& state) {
  DiscardingProcessor processor;
  Tracer tracer({"bench", AlwaysOffSampler(), &processor});
  const uint64_t before = testing::ThreadAllocations();
  for (auto _ : state) {
    Span span = tracer.StartSpan("GET /orders");
    span.SetAttribute("http.route", "/orders/:id");
    span.SetAttribute("http.status", int64_t{200});
    span.End();
  }
  ReportAllocations(state, before);
}
BENCHMARK(BM_SpanUnsampled)->ThreadRange(1, 2);

void BM_SpanChildOfCurrent(benchmark::State& state) {
  DiscardingProcessor processor;
  Tracer tracer({"bench", AlwaysOnSampler(), &processor});
  Span parent = tracer.StartSpan("parent");
  Scope scope(parent);
  for (auto _ : state) {
    Span span = tracer.StartSpan("child");
    span.End();
  }
}
BENCHMARK(BM_SpanChildOfCurrent);

}  // namespace
}  // namespace tracebridge
