// What an OTLP metrics export costs on the exporting thread, against what
// a Prometheus scrape of the same registry costs in the same run: taking the
// snapshot (both pay it), building the ExportMetricsServiceRequest messages,
// and serialising them. Two registries: the scrape benchmark's (the
// realistic mix plus 200 busy routes, about 220 series) and one at the
// default cap of 2000 series.
//
//   ./bazelw run --config=opt //bench:otlp_metrics_benchmark

#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "tests/testing/metrics_fixture.h"
#include "tracebridge/core/metrics/prometheus.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/exporters/otlp/otlp_metrics_encoder.h"

namespace tracebridge {
namespace {

namespace collector = ::opentelemetry::proto::collector::metrics::v1;

// arg 0: the realistic mix plus 200 routes; arg 1: 2000 series.
Registry* BenchRegistry(int which) {
  static Registry* registries[2] = {};
  if (registries[which] != nullptr) return registries[which];
  auto* r = new Registry();
  testing::RecordRealisticMix(r);
  const int routes = which == 0 ? 200 : static_cast<int>(r->max_series() - r->registered_count());
  for (int i = 0; i < routes; ++i) {
    Series* s = i % 2 == 0
                    ? r->RegisterHttpRoute(Side::kServer, "GET", absl::StrCat("/api/v1/items/", i))
                    : r->RegisterGrpcMethod(Side::kServer, "pkg.Svc", absl::StrCat("M", i),
                                            RpcType::kUnary);
    for (int k = 0; k < 50; ++k) {
      s->Start();
      s->Finish(k % 7 == 0 ? (i % 2 == 0 ? 500 : 14) : (i % 2 == 0 ? 200 : 0),
                10'000 * k * (i % 300 + 1));
    }
  }
  registries[which] = r;
  return r;
}

Resource BenchResource() {
  Resource resource;
  resource.service_name = "bench";
  resource.attributes.push_back({"service.version", std::string("1.0")});
  return resource;
}

void BM_Snapshot(benchmark::State& state) {
  Registry* registry = BenchRegistry(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(registry->Snapshot());
  state.counters["series"] = static_cast<double>(registry->Snapshot().series.size());
}
BENCHMARK(BM_Snapshot)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// The scrape's encoding of the same snapshot: the baseline.
void BM_EncodePrometheus(benchmark::State& state) {
  const MetricsSnapshot snapshot = BenchRegistry(static_cast<int>(state.range(0)))->Snapshot();
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = EncodePrometheus(snapshot);
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EncodePrometheus)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_FillOtlpMetricsRequest(benchmark::State& state) {
  const MetricsSnapshot snapshot = BenchRegistry(static_cast<int>(state.range(0)))->Snapshot();
  const Resource resource = BenchResource();
  size_t points = 0;
  for (auto _ : state) {
    collector::ExportMetricsServiceRequest request;
    points = FillOtlpMetricsRequest(resource, snapshot, nullptr, {}, &request);
    benchmark::DoNotOptimize(request);
  }
  state.counters["points"] = static_cast<double>(points);
}
BENCHMARK(BM_FillOtlpMetricsRequest)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// What one export costs before the transport: messages and their bytes.
void BM_FillAndSerializeOtlpMetrics(benchmark::State& state) {
  const MetricsSnapshot snapshot = BenchRegistry(static_cast<int>(state.range(0)))->Snapshot();
  const Resource resource = BenchResource();
  size_t bytes = 0;
  std::string out;
  for (auto _ : state) {
    collector::ExportMetricsServiceRequest request;
    FillOtlpMetricsRequest(resource, snapshot, nullptr, {}, &request);
    request.SerializeToString(&out);
    bytes = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_FillAndSerializeOtlpMetrics)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Delta costs a subtraction per series against the previous snapshot.
void BM_FillOtlpMetricsDelta(benchmark::State& state) {
  Registry* registry = BenchRegistry(static_cast<int>(state.range(0)));
  const MetricsSnapshot previous = registry->Snapshot();
  const MetricsSnapshot snapshot = registry->Snapshot();
  const Resource resource = BenchResource();
  OtlpMetricsEncoding delta;
  delta.temporality = OtlpTemporality::kDelta;
  for (auto _ : state) {
    collector::ExportMetricsServiceRequest request;
    FillOtlpMetricsRequest(resource, snapshot, &previous, delta, &request);
    benchmark::DoNotOptimize(request);
  }
}
BENCHMARK(BM_FillOtlpMetricsDelta)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tracebridge
