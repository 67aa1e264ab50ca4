// Id generation and hex encoding, the per-span costs under everything else.

#include "benchmark/benchmark.h"
#include "tracebridge/core/trace/ids.h"

namespace tracebridge {
namespace {

void BM_TraceIdGenerate(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(TraceId::Generate());
}
BENCHMARK(BM_TraceIdGenerate);

void BM_SpanIdGenerate(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(SpanId::Generate());
}
BENCHMARK(BM_SpanIdGenerate);

void BM_TraceIdHexRoundTrip(benchmark::State& state) {
  const TraceId id = TraceId::Generate();
  char text[TraceId::kHexSize];
  for (auto _ : state) {
    id.ToHex(text);
    benchmark::DoNotOptimize(TraceId::FromHex(absl::string_view(text, sizeof(text))));
  }
}
BENCHMARK(BM_TraceIdHexRoundTrip);

}  // namespace
}  // namespace tracebridge
