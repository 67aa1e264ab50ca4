// OtlpGrpcExporter cost per span, exporting side only: batches of 512 spans
// with 6 attributes each (the semantic-convention set of an HTTP server span)
// sent to an OtlpReceiver on 127.0.0.1 that counts and discards them. The
// receiver runs in a child process forked before gRPC starts, so this
// process's CPU is the exporter's alone.
//
// Counters:
//   cpu_ns/span   CPU time of the exporting thread (CLOCK_THREAD_CPUTIME_ID)
//                 per span: conversion, serialisation, the gRPC call as far as
//                 it runs on the caller's thread. The receiver's parsing runs
//                 on server threads and is not counted.
//   wall_ns/span  elapsed time per span (includes waiting for the receiver).
//   process_cpu_ns/span  CPU of the whole exporting process per span: the
//                 exporting thread plus gRPC's own threads (which do part of
//                 the transport work), i.e. the exporter's full cost.
//
// BM_OtlpEncode512 isolates the SpanData → bytes conversion from the
// transport; BM_OtlpProtobufMessages512 shows what building protobuf message
// objects and serialising them would cost instead.
//
//   ./bazelw run --config=opt //bench:otlp_exporter_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   (one command line)

#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <csignal>

#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/arena.h>

#include "benchmark/benchmark.h"
#include "tests/testing/otlp_receiver.h"
#include "tracebridge/core/trace/clock.h"
#include "tracebridge/exporters/otlp/otlp_encoder.h"
#include "tracebridge/exporters/otlp/otlp_exporter.h"

namespace tracebridge {
namespace {

namespace collector = ::opentelemetry::proto::collector::trace::v1;

constexpr int kBatch = 512;

// The port of the receiver process (see main), or 0 when it did not start.
int g_receiver_port = 0;

int64_t CpuNanos(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
int64_t ThreadCpuNanos() { return CpuNanos(CLOCK_THREAD_CPUTIME_ID); }
int64_t ProcessCpuNanos() { return CpuNanos(CLOCK_PROCESS_CPUTIME_ID); }

std::vector<std::unique_ptr<SpanData>> MakeBatch() {
  std::vector<std::unique_ptr<SpanData>> batch;
  const TraceId trace_id = TraceId::Generate();
  const SpanId parent = SpanId::Generate();
  const int64_t now = UnixNanosNow();
  for (int i = 0; i < kBatch; ++i) {
    auto span = std::make_unique<SpanData>();
    span->name = "GET /orders/:id";
    span->kind = SpanKind::kServer;
    span->context = SpanContext(trace_id, SpanId::Generate(), TraceFlags::Sampled(), false);
    span->parent_span_id = parent;
    span->parent_is_remote = true;
    span->start_unix_nanos = now + i * 1000;
    span->end_unix_nanos = now + i * 1000 + 250000;
    span->attributes.push_back({"http.request.method", std::string("GET")});
    span->attributes.push_back({"http.route", std::string("/orders/:id")});
    span->attributes.push_back({"url.path", "/orders/" + std::to_string(100000 + i)});
    span->attributes.push_back({"http.response.status_code", int64_t{200}});
    span->attributes.push_back({"server.port", int64_t{8080}});
    span->attributes.push_back({"network.protocol.version", std::string("1.1")});
    batch.push_back(std::move(span));
  }
  return batch;
}

Resource BenchResource() {
  Resource resource;
  resource.service_name = "bench";
  resource.attributes.push_back({"service.version", std::string("1.0.0")});
  return resource;
}

void ReportPerSpan(benchmark::State& state, int64_t cpu_ns, int64_t wall_ns) {
  const double spans = static_cast<double>(state.iterations()) * kBatch;
  state.counters["cpu_ns/span"] = benchmark::Counter(static_cast<double>(cpu_ns) / spans);
  state.counters["wall_ns/span"] = benchmark::Counter(static_cast<double>(wall_ns) / spans);
  state.SetItemsProcessed(static_cast<int64_t>(spans));
}

void ExportBenchmark(benchmark::State& state, OtlpCompression compression) {
  if (g_receiver_port <= 0) {
    state.SkipWithError("receiver process did not start");
    return;
  }
  OtlpExporterOptions options;
  options.endpoint = "127.0.0.1:" + std::to_string(g_receiver_port);
  options.compression = compression;
  auto exporter = OtlpGrpcExporter::Create(options);
  if (!exporter.ok()) {
    state.SkipWithError("exporter not created");
    return;
  }
  const Resource resource = BenchResource();
  const auto batch = MakeBatch();
  // Connect and warm up outside the measurement.
  if (!(*exporter)->Export(resource, batch, absl::Now() + absl::Seconds(10)).ok()) {
    state.SkipWithError("warm-up export failed");
    return;
  }
  const int64_t process_cpu_start = ProcessCpuNanos();
  const int64_t cpu_start = ThreadCpuNanos();
  const int64_t wall_start = MonotonicNanosNow();
  for (auto _ : state) {
    absl::Status status = (*exporter)->Export(resource, batch, absl::Now() + absl::Seconds(10));
    if (!status.ok()) {
      state.SkipWithError("export failed");
      break;
    }
  }
  ReportPerSpan(state, ThreadCpuNanos() - cpu_start, MonotonicNanosNow() - wall_start);
  state.counters["process_cpu_ns/span"] =
      benchmark::Counter(static_cast<double>(ProcessCpuNanos() - process_cpu_start) /
                         (static_cast<double>(state.iterations()) * kBatch));
}

void BM_OtlpExport512(benchmark::State& state) { ExportBenchmark(state, OtlpCompression::kNone); }
BENCHMARK(BM_OtlpExport512)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_OtlpExport512Gzip(benchmark::State& state) {
  ExportBenchmark(state, OtlpCompression::kGzip);
}
BENCHMARK(BM_OtlpExport512Gzip)->UseRealTime()->Unit(benchmark::kMicrosecond);

// SpanData → request bytes with OtlpTraceEncoder: the conversion Export does.
void BM_OtlpEncode512(benchmark::State& state) {
  const Resource resource = BenchResource();
  const auto batch = MakeBatch();
  OtlpTraceEncoder encoder;
  std::string bytes;
  const int64_t cpu_start = ThreadCpuNanos();
  const int64_t wall_start = MonotonicNanosNow();
  for (auto _ : state) {
    bytes.resize(encoder.Prepare(resource, batch));
    encoder.Write(&bytes[0]);
    benchmark::DoNotOptimize(bytes.data());
  }
  state.counters["bytes/span"] = benchmark::Counter(static_cast<double>(bytes.size()) / kBatch);
  ReportPerSpan(state, ThreadCpuNanos() - cpu_start, MonotonicNanosNow() - wall_start);
}
BENCHMARK(BM_OtlpEncode512)->Unit(benchmark::kMicrosecond);

// For comparison: the message-building reference (FillOtlpExportRequest on an
// arena) plus protobuf serialisation, what a generated stub would cost.
void BM_OtlpProtobufMessages512(benchmark::State& state) {
  const Resource resource = BenchResource();
  const auto batch = MakeBatch();
  std::string bytes;
  const int64_t cpu_start = ThreadCpuNanos();
  const int64_t wall_start = MonotonicNanosNow();
  for (auto _ : state) {
    google::protobuf::ArenaOptions arena_options;
    arena_options.start_block_size = 64 * 1024;
    arena_options.max_block_size = 1024 * 1024;
    google::protobuf::Arena arena(arena_options);
    auto* request =
        google::protobuf::Arena::CreateMessage<collector::ExportTraceServiceRequest>(&arena);
    FillOtlpExportRequest(resource, batch, request);
    request->SerializeToString(&bytes);
    benchmark::DoNotOptimize(bytes.data());
  }
  ReportPerSpan(state, ThreadCpuNanos() - cpu_start, MonotonicNanosNow() - wall_start);
}
BENCHMARK(BM_OtlpProtobufMessages512)->Unit(benchmark::kMicrosecond);

// Runs the discarding receiver in a child process until the parent exits
// (its end of `from_parent` closes). Returns the child's pid and sets
// g_receiver_port; must run before this process starts any gRPC threads.
pid_t StartReceiverProcess() {
  int to_parent[2];
  int from_parent[2];
  if (pipe(to_parent) != 0 || pipe(from_parent) != 0) return -1;
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    close(to_parent[0]);
    close(from_parent[1]);
    auto receiver = testing::OtlpReceiver::Start({.store_requests = false});
    const int port = receiver.ok() ? (*receiver)->port() : -1;
    if (write(to_parent[1], &port, sizeof(port)) != sizeof(port)) _exit(1);
    char byte;
    while (read(from_parent[0], &byte, 1) > 0) {
    }
    if (receiver.ok()) (*receiver)->Shutdown();
    _exit(0);
  }
  close(to_parent[1]);
  close(from_parent[0]);  // from_parent[1] stays open for our lifetime
  int port = 0;
  if (read(to_parent[0], &port, sizeof(port)) == sizeof(port)) g_receiver_port = port;
  close(to_parent[0]);
  return pid;
}

}  // namespace
}  // namespace tracebridge

int main(int argc, char** argv) {
  const pid_t receiver = tracebridge::StartReceiverProcess();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (receiver > 0) {
    kill(receiver, SIGTERM);
    waitpid(receiver, nullptr, 0);
  }
  return 0;
}
