// Exporter costs: encoding one typical span (six attributes) as a JSON line
// or a log line, exporting a 512-span batch to a JSON-lines file in /tmp,
// and storing a 512-span batch in the in-memory ring. Per-span figures are
// the `per_span` counters (time per span, the batch time divided by 512).

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "tests/testing/alloc_counter.h"
#include "tests/testing/sample_spans.h"
#include "tracebridge/core/export/jsonl_exporter.h"
#include "tracebridge/core/export/log_exporter.h"
#include "tracebridge/core/export/memory_exporter.h"

namespace tracebridge {
namespace {

constexpr int kBatchSize = 512;

std::vector<std::unique_ptr<SpanData>> TypicalBatch() {
  std::vector<std::unique_ptr<SpanData>> batch;
  for (int i = 0; i < kBatchSize; ++i) batch.push_back(testing::MakeTypicalServerSpan(i));
  return batch;
}

void ReportAllocations(benchmark::State& state, uint64_t before, double per) {
  state.counters["allocs/span"] = benchmark::Counter(
      static_cast<double>(testing::ThreadAllocations() - before) / (state.iterations() * per));
}

void ReportPerSpan(benchmark::State& state, int spans_per_iteration) {
  state.SetItemsProcessed(state.iterations() * spans_per_iteration);
  state.counters["per_span"] =
      benchmark::Counter(spans_per_iteration, benchmark::Counter::kIsIterationInvariantRate |
                                                  benchmark::Counter::kInvert);
}

void BM_JsonLinesEncodeTypicalSpan(benchmark::State& state) {
  const Resource resource = testing::MakeResource();
  const auto span = testing::MakeTypicalServerSpan();
  std::string line;
  line.reserve(2048);
  const uint64_t before = testing::ThreadAllocations();
  for (auto _ : state) {
    line.clear();
    JsonLinesExporter::AppendSpanLine(resource, *span, &line);
    benchmark::DoNotOptimize(line.data());
  }
  ReportAllocations(state, before, 1);
  state.counters["bytes/span"] = static_cast<double>(line.size());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(line.size()));
}
BENCHMARK(BM_JsonLinesEncodeTypicalSpan);

void BM_LogLineEncodeTypicalSpan(benchmark::State& state) {
  const Resource resource = testing::MakeResource();
  const auto span = testing::MakeTypicalServerSpan();
  const LogLineOptions options;
  std::string line;
  line.reserve(1024);
  const uint64_t before = testing::ThreadAllocations();
  for (auto _ : state) {
    line.clear();
    LogLineExporter::AppendLine(options, resource, *span, &line);
    benchmark::DoNotOptimize(line.data());
  }
  ReportAllocations(state, before, 1);
  state.counters["bytes/span"] = static_cast<double>(line.size());
}
BENCHMARK(BM_LogLineEncodeTypicalSpan);

void BM_JsonLinesExportBatchToFile(benchmark::State& state) {
  const std::string path = absl::StrCat("/tmp/tracebridge-bench-", ::getpid(), ".jsonl");
  JsonLinesOptions options;
  options.path = path;
  options.max_files = 2;  // rotation stays in the measurement, disk use stays small
  auto exporter = JsonLinesExporter::Create(options);
  if (!exporter.ok()) {
    state.SkipWithError(exporter.status().ToString().c_str());
    return;
  }
  const Resource resource = testing::MakeResource();
  const auto batch = TypicalBatch();
  for (auto _ : state) {
    const absl::Status status = (*exporter)->Export(resource, batch, absl::InfiniteFuture());
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      break;
    }
  }
  ReportPerSpan(state, kBatchSize);
  (*exporter)->Shutdown(absl::Seconds(1)).IgnoreError();
  std::remove(path.c_str());
  std::remove((path + ".1").c_str());
}
BENCHMARK(BM_JsonLinesExportBatchToFile)->Unit(benchmark::kMicrosecond);

void BM_InMemoryExportBatch(benchmark::State& state) {
  InMemorySpanExporter exporter;  // default bounds: 10,000 spans, 64 MiB
  const Resource resource = testing::MakeResource();
  const auto batch = TypicalBatch();
  const uint64_t before = testing::ThreadAllocations();
  for (auto _ : state) {
    exporter.Export(resource, batch, absl::InfiniteFuture()).IgnoreError();
  }
  ReportAllocations(state, before, kBatchSize);
  ReportPerSpan(state, kBatchSize);
}
BENCHMARK(BM_InMemoryExportBatch)->Unit(benchmark::kMicrosecond);

void BM_InMemoryQueryTraceInFullRing(benchmark::State& state) {
  InMemorySpanExporter exporter;
  const Resource resource = testing::MakeResource();
  const auto batch = TypicalBatch();
  for (int i = 0; i < 20; ++i) {
    exporter.Export(resource, batch, absl::InfiniteFuture()).IgnoreError();
  }
  const TraceId other = TraceId::FromHex("0af7651916cd43dd8448eb211c80319c");
  for (auto _ : state) {
    benchmark::DoNotOptimize(exporter.FindTrace(other));
  }
}
BENCHMARK(BM_InMemoryQueryTraceInFullRing)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tracebridge
