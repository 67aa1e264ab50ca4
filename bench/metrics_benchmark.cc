// Record-path cost of the metrics core against a bare relaxed fetch_add, its
// scaling on two threads sharing one series, and the scrape-side costs.
//
//   ./bazelw run --config=opt //bench:metrics_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)
//
// Instructions per recorded RPC (load-independent), with callgrind:
//   ./bazelw run --config=opt //bench:record_cost_callgrind
//
// For threaded runs Google Benchmark reports wall time per iteration per
// thread, so perfect scaling shows the same Time on 1 and 2 threads. The
// `allocs` counter is heap allocations per operation, counted by the
// replacement operator new below.

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "tests/testing/metrics_fixture.h"
#include "tracebridge/core/metrics/metrics_json.h"
#include "tracebridge/core/metrics/prometheus.h"
#include "tracebridge/core/metrics/registry.h"

// The replacement allocation functions pair malloc with free; GCC cannot see
// that through inlined new/delete pairs and warns.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
// Per thread, so one benchmark thread's bookkeeping does not show up in
// another's figure.
thread_local uint64_t allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace tracebridge {
namespace {

// Records allocations per iteration of this thread's loop.
class AllocCounter {
 public:
  explicit AllocCounter(benchmark::State& state) : state_(state), before_(allocations) {}
  ~AllocCounter() {
    const double allocs = static_cast<double>(allocations - before_);
    state_.counters["allocs"] = benchmark::Counter(
        allocs / static_cast<double>(state_.iterations() > 0 ? state_.iterations() : 1),
        benchmark::Counter::kAvgThreads);
  }

 private:
  benchmark::State& state_;
  const uint64_t before_;
};

// The floor: one uncontended relaxed RMW (each thread its own cache line).
void BM_BareFetchAdd(benchmark::State& state) {
  alignas(64) static std::atomic<uint64_t> counters[8 * 8];
  std::atomic<uint64_t>& counter = counters[8 * (state.thread_index() % 8)];
  for (auto _ : state) counter.fetch_add(1, std::memory_order_relaxed);
}
BENCHMARK(BM_BareFetchAdd)->Threads(1)->Threads(2);

// What an unsharded counter would cost: two threads on one cache line.
void BM_BareFetchAddShared(benchmark::State& state) {
  static std::atomic<uint64_t> counter{0};
  for (auto _ : state) counter.fetch_add(1, std::memory_order_relaxed);
}
BENCHMARK(BM_BareFetchAddShared)->Threads(1)->Threads(2);

Series* SharedSeries(int shards) {
  static Registry* sharded = [] { return new Registry(); }();
  static Registry* unsharded = [] {
    RegistryOptions options;
    options.shards = 1;
    return new Registry(options);
  }();
  return (shards == 1 ? unsharded : sharded)
      ->RegisterGrpcMethod(Side::kServer, "helloworld.Greeter", "SayHello");
}

// One full RPC: started, status, histogram (bucket, sum, min, max), in-flight
// down.
__attribute__((noinline)) void RecordRpcLoop(benchmark::State& state, Series* series) {
  uint64_t x = 0x9E3779B97F4A7C15ull * (state.thread_index() + 1);
  AllocCounter allocs(state);
  for (auto _ : state) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    series->Start();
    series->Finish(0, static_cast<int64_t>((x >> 40) & 0x3FFFFF));  // 0..4 ms
  }
}

void BM_RecordRpc(benchmark::State& state) { RecordRpcLoop(state, SharedSeries(4)); }
BENCHMARK(BM_RecordRpc)->Threads(1)->Threads(2);

// The same for a sampled call. All end at one (simulated) time, so after the
// first call of each bucket the exemplar stands (it is replaced only once
// 100 ms old) and a call costs two loads of a line every thread reads: the
// common case for a busy series. Not inlined, like RecordRpcLoop, so
// callgrind can count the loop alone.
__attribute__((noinline)) void RecordSampledLoop(benchmark::State& state, Series* series) {
  uint64_t x = 0x9E3779B97F4A7C15ull * (state.thread_index() + 1);
  Exemplar exemplar = {{0x4b, 0xf9, 0x2f, 0x35}, {0x00, 0xf0, 0x67}, 1'700'000'000'000'000'000};
  AllocCounter allocs(state);
  for (auto _ : state) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    exemplar.span_id[7] = static_cast<uint8_t>(x);
    series->Start();
    series->Finish(0, static_cast<int64_t>((x >> 40) & 0x3FFFFF), &exemplar);
  }
}

void BM_RecordRpcSampled(benchmark::State& state) { RecordSampledLoop(state, SharedSeries(4)); }
BENCHMARK(BM_RecordRpcSampled)->Threads(1)->Threads(2);

// The same with one shard, to show what sharding buys on two threads.
void BM_RecordRpcOneShard(benchmark::State& state) { RecordRpcLoop(state, SharedSeries(1)); }
BENCHMARK(BM_RecordRpcOneShard)->Threads(1)->Threads(2);

void BM_RecordStreamMessage(benchmark::State& state) {
  Series* series = SharedSeries(4);
  AllocCounter allocs(state);
  for (auto _ : state) series->AddMessagesReceived();
}
BENCHMARK(BM_RecordStreamMessage)->Threads(1)->Threads(2);

// One unary RPC as the gRPC interceptors record it on one side: the call
// (as BM_RecordRpc) and its two messages with their sizes (up to 64 KiB).
// `mode` 0: before message-size histograms (a message count and a byte
// count per message, each through its own call); 1: RecordMessage* with the
// histograms; 2: RecordMessage* on a registry with them turned off.
// Not inlined, so callgrind can count the loop alone.
__attribute__((noinline)) void RecordUnaryLoop(benchmark::State& state, Series* series, int mode) {
  uint64_t x = 0x9E3779B97F4A7C15ull * (state.thread_index() + 1);
  AllocCounter allocs(state);
  for (auto _ : state) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const uint64_t request = (x >> 20) & 0xFFFF, response = (x >> 44) & 0xFFFF;
    series->Start();
    if (mode == 0) {
      series->AddMessagesReceived();
      series->AddRequestBytes(request);
      series->AddMessagesSent();
      series->AddResponseBytes(response);
    } else {
      series->RecordMessageReceived(request);
      series->RecordMessageSent(response);
    }
    series->Finish(0, static_cast<int64_t>((x >> 40) & 0x3FFFFF));
  }
}

Series* NoSizesSeries() {
  static Registry* registry = [] {
    RegistryOptions options;
    options.message_size_histograms = false;
    return new Registry(options);
  }();
  return registry->RegisterGrpcMethod(Side::kServer, "helloworld.Greeter", "SayHello");
}

void BM_RecordUnaryCounters(benchmark::State& state) { RecordUnaryLoop(state, SharedSeries(4), 0); }
BENCHMARK(BM_RecordUnaryCounters)->Threads(1)->Threads(2);

void BM_RecordUnarySizes(benchmark::State& state) { RecordUnaryLoop(state, SharedSeries(4), 1); }
BENCHMARK(BM_RecordUnarySizes)->Threads(1)->Threads(2);

void BM_RecordUnaryNoSizes(benchmark::State& state) { RecordUnaryLoop(state, NoSizesSeries(), 2); }
BENCHMARK(BM_RecordUnaryNoSizes)->Threads(1)->Threads(2);

// The lock-free lookup a door does when it cannot keep a pointer.
void BM_FindGrpcFullMethod(benchmark::State& state) {
  static Registry* registry = [] {
    auto* r = new Registry();
    for (int i = 0; i < 200; ++i)
      r->RegisterGrpcMethod(Side::kServer, "pkg.Svc", absl::StrCat("M", i));
    return r;
  }();
  AllocCounter allocs(state);
  for (auto _ : state) {
    benchmark::DoNotOptimize(registry->FindGrpcFullMethod(Side::kServer, "/pkg.Svc/M117"));
  }
}
BENCHMARK(BM_FindGrpcFullMethod);

// Scrape side: a registry with the realistic mix plus 200 busy routes.
Registry* ScrapeRegistry() {
  static Registry* registry = [] {
    auto* r = new Registry();
    testing::RecordRealisticMix(r);
    for (int i = 0; i < 200; ++i) {
      Series* s = r->RegisterHttpRoute(Side::kServer, "GET", absl::StrCat("/api/v1/items/", i));
      for (int k = 0; k < 50; ++k) s->Finish(k % 7 == 0 ? 500 : 200, 10'000 * k * (i + 1));
    }
    return r;
  }();
  return registry;
}

void BM_Snapshot(benchmark::State& state) {
  Registry* registry = ScrapeRegistry();
  for (auto _ : state) benchmark::DoNotOptimize(registry->Snapshot());
  state.counters["series"] = static_cast<double>(registry->Snapshot().series.size());
}
BENCHMARK(BM_Snapshot)->Unit(benchmark::kMicrosecond);

// Encodes the scrape registry's snapshot with `encode` once per iteration.
void EncodeLoop(benchmark::State& state, std::string (*encode)(const MetricsSnapshot&)) {
  const MetricsSnapshot snapshot = ScrapeRegistry()->Snapshot();
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = encode(snapshot);
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

void BM_EncodePrometheus(benchmark::State& state) { EncodeLoop(state, EncodePrometheus); }
BENCHMARK(BM_EncodePrometheus)->Unit(benchmark::kMicrosecond);

void BM_EncodeOpenMetrics(benchmark::State& state) { EncodeLoop(state, EncodeOpenMetrics); }
BENCHMARK(BM_EncodeOpenMetrics)->Unit(benchmark::kMicrosecond);

void BM_EncodeJson(benchmark::State& state) {
  const MetricsSnapshot snapshot = ScrapeRegistry()->Snapshot();
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = EncodeJson(snapshot, "bench");
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EncodeJson)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tracebridge
