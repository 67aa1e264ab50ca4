// File: bench/export_throughput.cc
//
// How many spans per second one export thread sustains, per exporter: the
// batch span processor with its default options (queue 2048, batch 512,
// delay 5 s) feeding one exporter, and a producer that ends typical gRPC
// server spans through a real Tracer (six attributes and a remote parent, as
// the server interceptor records them; span records recycled as in
// production). The producer waits while the queue is half full, so nothing
// is dropped and the export thread is the bottleneck.
//
// Reported per exporter: the export thread's CPU time per span (its
// CLOCK_THREAD_CPUTIME_ID clock, read around the measured spans: taking
// spans off the queue, the exporter's work on that thread, recycling the
// records) and the inverse, spans per second per core; plus wall time per
// span and what was dropped (0 unless something is wrong).
//
//   discard    an exporter that drops batches: the pipeline's own cost
//   jsonl      the JSON-lines file exporter with its default options (one
//              write(2) per batch, rotation at 64 MiB), into $TMPDIR
//   memory     the in-memory span store the query service reads
//   default    jsonl + memory: what a Telemetry exports to by default
//   otlp_grpc  the OTLP/gRPC exporter to a receiver on 127.0.0.1 in this
//              process (its CPU is on gRPC's threads, not counted here)
//
// Example:
//
//   ./bazelw run --config=opt //bench:export_throughput -- --spans=200000
//   ./bazelw run --config=opt //bench:export_throughput -- --smoke

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bench/grpc_configs.h"
#include "tests/testing/otlp_receiver.h"
#include "tracebridge/core/export/jsonl_exporter.h"
#include "tracebridge/core/export/memory_exporter.h"
#include "tracebridge/core/export/span_processors.h"
#include "tracebridge/core/trace/tracer.h"
#include "tracebridge/exporters/otlp/otlp_exporter.h"

namespace tracebridge {
namespace {

struct Flags {
  int spans = 200000;
  std::vector<std::string> exporters = {"discard", "jsonl", "memory", "default", "otlp_grpc"};
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    bool ok = true;
    if (arg == "--smoke") {
      flags->spans = 3000;
    } else if (absl::ConsumePrefix(&arg, "--spans=")) {
      ok = absl::SimpleAtoi(arg, &flags->spans) && flags->spans > 0;
    } else if (absl::ConsumePrefix(&arg, "--exporters=")) {
      flags->exporters = absl::StrSplit(arg, ',');
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr,
                   "usage: export_throughput [--spans=N] [--smoke]\n"
                   "                         [--exporters=discard,jsonl,memory,default,otlp_grpc]\n"
                   "bad argument: %s\n",
                   argv[i]);
      return false;
    }
  }
  return true;
}

int64_t Nanos(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Passes each batch to every inner exporter and learns, on the first batch,
// the CPU clock of the thread that exports.
class MeasuredExporter final : public SpanExporter {
 public:
  explicit MeasuredExporter(std::vector<std::unique_ptr<SpanExporter>> inner)
      : inner_(std::move(inner)) {}

  absl::string_view Name() const noexcept override { return "measured"; }
  absl::Status Export(const Resource& resource, absl::Span<const std::unique_ptr<SpanData>> spans,
                      absl::Time deadline) override {
    if (!has_clock_.load(std::memory_order_acquire)) {
      pthread_getcpuclockid(pthread_self(), &clock_);
      has_clock_.store(true, std::memory_order_release);
    }
    absl::Status result;
    for (auto& exporter : inner_) {
      absl::Status status = exporter->Export(resource, spans, deadline);
      if (!status.ok() && result.ok()) result = status;
    }
    return result;
  }
  absl::Status Shutdown(absl::Duration timeout) override {
    for (auto& exporter : inner_) exporter->Shutdown(timeout).IgnoreError();
    return absl::OkStatus();
  }

  // The export thread's CPU time so far (0 before its first batch).
  int64_t ExportThreadCpuNanos() const {
    return has_clock_.load(std::memory_order_acquire) ? Nanos(clock_) : 0;
  }

 private:
  std::vector<std::unique_ptr<SpanExporter>> inner_;
  std::atomic<bool> has_clock_{false};
  clockid_t clock_ = CLOCK_THREAD_CPUTIME_ID;
};

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "export_throughput: %s\n", what.c_str());
  std::exit(1);
}

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  if (dir == nullptr || *dir == '\0') dir = std::getenv("TMPDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp";
}

// The exporters of one row; `receiver` is started for OTLP.
std::vector<std::unique_ptr<SpanExporter>> MakeExporters(
    const std::string& name, std::unique_ptr<testing::OtlpReceiver>* receiver, std::string* file) {
  std::vector<std::unique_ptr<SpanExporter>> exporters;
  auto jsonl = [&] {
    JsonLinesOptions options;
    *file = TempDir() + "/export_throughput-" + std::to_string(getpid()) + ".jsonl";
    options.path = *file;
    auto exporter = JsonLinesExporter::Create(options);
    if (!exporter.ok()) Fail("jsonl: " + exporter.status().ToString());
    exporters.push_back(*std::move(exporter));
  };
  if (name == "discard") {
    exporters.push_back(std::make_unique<bench::DiscardingExporter>());
  } else if (name == "jsonl") {
    jsonl();
  } else if (name == "memory") {
    exporters.push_back(std::make_unique<InMemorySpanExporter>(InMemorySpanExporterOptions{}));
  } else if (name == "default") {
    jsonl();
    exporters.push_back(std::make_unique<InMemorySpanExporter>(InMemorySpanExporterOptions{}));
  } else if (name == "otlp_grpc") {
    testing::OtlpReceiverOptions receiver_options;
    receiver_options.store_requests = false;
    auto started = testing::OtlpReceiver::Start(receiver_options);
    if (!started.ok()) Fail("receiver: " + started.status().ToString());
    *receiver = *std::move(started);
    OtlpExporterOptions options;
    options.endpoint = (*receiver)->address();
    auto exporter = OtlpGrpcExporter::Create(options);
    if (!exporter.ok()) Fail("otlp: " + exporter.status().ToString());
    exporters.push_back(*std::move(exporter));
  } else {
    Fail("unknown exporter " + name);
  }
  return exporters;
}

// Ends `count` spans shaped like the gRPC server interceptor's, waiting
// while the queue is half full.
void Produce(Tracer& tracer, const BatchSpanProcessor& processor, int count) {
  const SpanContext parent(TraceId::Generate(), SpanId::Generate(), TraceFlags::Sampled(),
                           /*is_remote=*/true);
  const size_t half = processor.options().max_queue_size / 2;
  StartSpanOptions options;
  options.kind = SpanKind::kServer;
  options.parent_choice = ParentChoice::kExplicit;
  options.parent = parent;
  for (int i = 0; i < count; ++i) {
    while (processor.Stats().queue_length >= half) std::this_thread::yield();
    Span span = tracer.StartSpan("tracebridge.testing.Echo/Unary", options);
    span.SetAttribute("rpc.system", "grpc");
    span.SetAttribute("rpc.service", "tracebridge.testing.Echo");
    span.SetAttribute("rpc.method", "Unary");
    span.SetAttribute("network.peer.address", "127.0.0.1");
    span.SetAttribute("network.peer.port", 40000 + (i & 1023));
    span.SetAttribute("rpc.grpc.status_code", 0);
  }
}

struct Row {
  std::string name;
  int spans = 0;
  double cpu_us_per_span = 0;
  double wall_us_per_span = 0;
  uint64_t exported = 0;
  uint64_t dropped = 0;
};

Row Measure(const std::string& name, int spans) {
  std::unique_ptr<testing::OtlpReceiver> receiver;
  std::string file;
  auto exporter = std::make_unique<MeasuredExporter>(MakeExporters(name, &receiver, &file));
  MeasuredExporter* measured = exporter.get();
  auto processor = BatchSpanProcessor::Create(std::move(exporter), Resource{"export-bench", {}});
  if (!processor.ok()) Fail(processor.status().ToString());
  TracerOptions tracer_options;
  tracer_options.service_name = "export-bench";
  tracer_options.processor = processor->get();
  Tracer tracer(tracer_options);

  // Warm-up: connections, file, span records, and the export thread's clock.
  Produce(tracer, **processor, 2000);
  if (!(*processor)->ForceFlush(absl::Seconds(30)).ok()) Fail(name + ": warm-up flush");
  const SpanProcessorStats before = (*processor)->Stats();
  const int64_t cpu_before = measured->ExportThreadCpuNanos();
  const auto wall_before = std::chrono::steady_clock::now();
  Produce(tracer, **processor, spans);
  if (!(*processor)->ForceFlush(absl::Seconds(60)).ok()) Fail(name + ": flush");
  const double wall_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - wall_before)
          .count();
  const int64_t cpu = measured->ExportThreadCpuNanos() - cpu_before;
  const SpanProcessorStats after = (*processor)->Stats();
  (*processor)->Shutdown(absl::Seconds(10)).IgnoreError();
  if (!file.empty()) {
    for (int i = 0; i < 5; ++i) {
      std::remove((i == 0 ? file : file + "." + std::to_string(i)).c_str());
    }
  }
  Row row;
  row.name = name;
  row.spans = spans;
  row.cpu_us_per_span = static_cast<double>(cpu) / 1000.0 / spans;
  row.wall_us_per_span = wall_us / spans;
  row.exported = after.exported - before.exported;
  row.dropped = after.dropped_queue_full + after.dropped_export_failed - before.dropped_queue_full -
                before.dropped_export_failed;
  return row;
}

int Run(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;
  std::printf("export_throughput: %d spans per exporter, batch processor defaults\n", flags.spans);
  std::printf("%-10s %10s %14s %16s %14s %9s\n", "exporter", "exported", "cpu_us/span",
              "spans/s/core", "wall_us/span", "dropped");
  for (const std::string& name : flags.exporters) {
    const Row row = Measure(name, flags.spans);
    std::printf("%-10s %10llu %14.3f %16.0f %14.3f %9llu\n", row.name.c_str(),
                static_cast<unsigned long long>(row.exported), row.cpu_us_per_span,
                row.cpu_us_per_span > 0 ? 1e6 / row.cpu_us_per_span : 0, row.wall_us_per_span,
                static_cast<unsigned long long>(row.dropped));
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace tracebridge

int main(int argc, char** argv) { return tracebridge::Run(argc, argv); }
