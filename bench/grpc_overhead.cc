// File: bench/grpc_overhead.cc
//
// What tracebridge's gRPC interceptors cost on a real unary RPC over
// loopback, in wall-clock time. Four configurations (bench/grpc_configs.h)
// are served in one process, each on its own 127.0.0.1 port with its own
// channel:
//
//   bare     no interceptors on either side
//   noop     an interceptor that only proceeds, on both sides: gRPC's own
//            interception cost, the floor for any interceptor (reference)
//   metrics  interceptors with tracing off on both sides (metrics only)
//   full     metrics plus tracing at 100% sampling: batch span processor,
//            an exporter that discards, no in-memory span store
//
// (`--only=sampled_out` runs the fifth, tracing with every trace sampled
// out, on its own.) The load-independent counterpart, instructions and
// allocations per RPC, is bench/grpc_callgrind.
//
// The configurations are measured in interleaved rounds (the order rotates
// each round) so that drift on a shared machine affects all of them alike.
// Each round measures, per configuration:
//
//   latency  one RPC outstanding; every RPC's latency is recorded; p50, p99
//   qps      `--threads` callers with sync stubs on one channel, saturated;
//            also the process CPU time per RPC (client and server together)
//
// Reported per configuration: the median over rounds of p50, p99 and QPS,
// the median over rounds of the ratio to bare (measured in the same round),
// and the spread (min..max over rounds) of each ratio.
//
// Example:
//
//   ./bazelw run --config=opt //bench:grpc_overhead -- --rounds=5 --seconds=2
//   ./bazelw run --config=opt //bench:grpc_overhead -- --rounds=5 --also=full_no_xid
//   ./bazelw run --config=opt //bench:grpc_overhead -- --quick   # smoke run

#include <sys/resource.h>

#include <algorithm>
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
#include "absl/time/time.h"
#include "bench/grpc_configs.h"
#include "tracebridge/core/telemetry.h"

namespace tracebridge {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  int rounds = 5;
  // Per configuration, per round, per measurement.
  double seconds = 2.0;
  int threads = 0;  // 0: twice the hardware threads
  bool quick = false;
  // Run a single configuration repeatedly (for a profiler), no comparison.
  std::string only;
  // Configurations compared besides bare, noop, metrics and full.
  std::vector<bench::GrpcMode> also;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    bool ok = true;
    if (arg == "--quick") {
      flags->quick = true;
    } else if (absl::ConsumePrefix(&arg, "--rounds=")) {
      ok = absl::SimpleAtoi(arg, &flags->rounds) && flags->rounds > 0;
    } else if (absl::ConsumePrefix(&arg, "--seconds=")) {
      ok = absl::SimpleAtod(arg, &flags->seconds) && flags->seconds > 0;
    } else if (absl::ConsumePrefix(&arg, "--only=")) {
      flags->only = std::string(arg);
      ok = bench::GrpcModeFromName(arg).has_value();
    } else if (absl::ConsumePrefix(&arg, "--also=")) {
      for (absl::string_view name : absl::StrSplit(arg, ',')) {
        const absl::optional<bench::GrpcMode> mode = bench::GrpcModeFromName(name);
        ok = ok && mode.has_value();
        if (mode.has_value()) flags->also.push_back(*mode);
      }
    } else if (absl::ConsumePrefix(&arg, "--threads=")) {
      ok = absl::SimpleAtoi(arg, &flags->threads) && flags->threads > 0;
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(
          stderr,
          "usage: grpc_overhead [--rounds=N] [--seconds=S] [--threads=N] [--quick]\n"
          "                     [--only=bare|noop|metrics|full|sampled_out|full_no_xid|floor]\n"
          "                     [--also=sampled_out,full_no_xid,floor]\n"
          "bad argument: %s\n",
          argv[i]);
      return false;
    }
  }
  if (flags->quick) {
    // About one second in all: proves the binary runs, measures nothing.
    flags->rounds = 1;
    flags->seconds = 0.1;
  }
  if (flags->threads == 0) {
    flags->threads = 2 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  return true;
}

Clock::duration ToDuration(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

struct LatencyResult {
  double p50_us = 0;
  double p99_us = 0;
  size_t calls = 0;
};

// Nearest-rank percentile of sorted `values`.
double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t rank = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

LatencyResult MeasureLatency(bench::GrpcConfig& config, double seconds) {
  const testing::EchoRequest request = bench::EchoProbe();
  std::vector<double> latencies;
  latencies.reserve(1 << 16);
  const Clock::time_point end = Clock::now() + ToDuration(seconds);
  for (Clock::time_point now = Clock::now(); now < end;) {
    const Clock::time_point start = now;
    if (!bench::CallUnary(*config.stub, request)) {
      std::fprintf(stderr, "grpc_overhead: %s: a call failed\n", config.name.c_str());
      std::exit(1);
    }
    now = Clock::now();
    latencies.push_back(std::chrono::duration<double, std::micro>(now - start).count());
  }
  std::sort(latencies.begin(), latencies.end());
  return {Percentile(latencies, 0.50), Percentile(latencies, 0.99), latencies.size()};
}

// Process CPU time (every thread: callers, gRPC's pollers, the server's
// handlers, span export), in microseconds: in user space, and in all (user
// plus the kernel's, which on a sync server is mostly futex and epoll
// hand-offs between threads, and varies with scheduling).
struct CpuMicros {
  double user = 0;
  double total = 0;
};

CpuMicros ProcessCpuMicros() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  const auto micros = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec);
  };
  const double user = micros(usage.ru_utime);
  return {user, user + micros(usage.ru_stime)};
}

struct QpsResult {
  double qps = 0;
  // Client and server together: less sensitive to other load than QPS.
  double cpu_us_per_rpc = 0;
  // The user-space part: what instrumentation adds, with less of the
  // scheduler's noise.
  double user_us_per_rpc = 0;
};

QpsResult MeasureQps(bench::GrpcConfig& config, double seconds, int threads) {
  const testing::EchoRequest request = bench::EchoProbe();
  std::atomic<bool> failed{false};
  std::vector<uint64_t> counts(static_cast<size_t>(threads), 0);
  std::vector<std::thread> callers;
  const CpuMicros cpu_start = ProcessCpuMicros();
  const Clock::time_point start = Clock::now();
  const Clock::time_point end = start + ToDuration(seconds);
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&, t] {
      uint64_t done = 0;
      while (Clock::now() < end) {
        if (!bench::CallUnary(*config.stub, request)) {
          failed.store(true);
          break;
        }
        ++done;
      }
      counts[static_cast<size_t>(t)] = done;
    });
  }
  for (std::thread& caller : callers) caller.join();
  // Includes the tail of the last calls, which the counts include too.
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const CpuMicros cpu_end = ProcessCpuMicros();
  if (failed.load()) {
    std::fprintf(stderr, "grpc_overhead: %s: a call failed under load\n", config.name.c_str());
    std::exit(1);
  }
  uint64_t total = 0;
  for (uint64_t count : counts) total += count;
  const double calls = static_cast<double>(std::max<uint64_t>(total, 1));
  return {calls / elapsed, (cpu_end.total - cpu_start.total) / calls,
          (cpu_end.user - cpu_start.user) / calls};
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

struct Samples {
  std::vector<double> p50, p99, qps, cpu, user;
  std::vector<double> p50_ratio, p99_ratio, qps_ratio, cpu_ratio, user_ratio;
  size_t latency_calls = 0;
};

// "median (min..max)" of per-round ratios.
std::string RatioText(const std::vector<double>& values) {
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  char text[64];
  std::snprintf(text, sizeof(text), "%.3f (%.2f..%.2f)", Median(values), *lo, *hi);
  return text;
}

void StopAll(std::vector<std::unique_ptr<bench::GrpcConfig>>& configs) {
  for (auto& config : configs) bench::StopGrpcConfig(*config);
}

int Run(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;

  std::vector<std::unique_ptr<bench::GrpcConfig>> configs;
  if (!flags.only.empty()) {
    configs.push_back(bench::StartGrpcConfig(*bench::GrpcModeFromName(flags.only)));
    for (auto& config : configs) {
      for (int round = 0; round < flags.rounds; ++round) {
        const LatencyResult latency = MeasureLatency(*config, flags.seconds);
        const QpsResult qps = MeasureQps(*config, flags.seconds, flags.threads);
        std::printf("%s round %d: p50 %.1f us, p99 %.1f us, qps %.0f, cpu %.1f us/rpc\n",
                    config->name.c_str(), round + 1, latency.p50_us, latency.p99_us, qps.qps,
                    qps.cpu_us_per_rpc);
      }
    }
    StopAll(configs);
    return 0;
  }
  for (bench::GrpcMode mode : {bench::GrpcMode::kBare, bench::GrpcMode::kNoop,
                               bench::GrpcMode::kMetrics, bench::GrpcMode::kFull}) {
    configs.push_back(bench::StartGrpcConfig(mode));
  }
  for (bench::GrpcMode mode : flags.also) configs.push_back(bench::StartGrpcConfig(mode));
  const size_t n = configs.size();

  // Warm-up: connections, thread pools, series registration, allocator.
  for (auto& config : configs) {
    MeasureLatency(*config, flags.seconds / 4);
    MeasureQps(*config, flags.seconds / 4, flags.threads);
  }

  std::printf(
      "grpc_overhead: %d rounds, %.2fs per measurement, %d caller threads for QPS, %u cores\n",
      flags.rounds, flags.seconds, flags.threads, std::thread::hardware_concurrency());
  std::vector<Samples> samples(n);
  for (int round = 0; round < flags.rounds; ++round) {
    // Rotate which configuration goes first.
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = (i + static_cast<size_t>(round)) % n;
    std::vector<LatencyResult> latency(n);
    std::vector<QpsResult> qps(n);
    for (size_t i : order) latency[i] = MeasureLatency(*configs[i], flags.seconds);
    for (size_t i : order) qps[i] = MeasureQps(*configs[i], flags.seconds, flags.threads);
    for (size_t i = 0; i < n; ++i) {
      Samples& s = samples[i];
      s.p50.push_back(latency[i].p50_us);
      s.p99.push_back(latency[i].p99_us);
      s.qps.push_back(qps[i].qps);
      s.cpu.push_back(qps[i].cpu_us_per_rpc);
      s.user.push_back(qps[i].user_us_per_rpc);
      s.p50_ratio.push_back(latency[i].p50_us / latency[0].p50_us);
      s.p99_ratio.push_back(latency[i].p99_us / latency[0].p99_us);
      s.qps_ratio.push_back(qps[i].qps / qps[0].qps);
      s.cpu_ratio.push_back(qps[i].cpu_us_per_rpc / qps[0].cpu_us_per_rpc);
      s.user_ratio.push_back(qps[i].user_us_per_rpc / qps[0].user_us_per_rpc);
      s.latency_calls += latency[i].calls;
    }
    std::fprintf(stderr, "round %d:", round + 1);
    for (size_t i = 0; i < n; ++i) {
      std::fprintf(stderr, "  %s p50 %.1f p99 %.1f qps %.0f cpu %.1f", configs[i]->name.c_str(),
                   latency[i].p50_us, latency[i].p99_us, qps[i].qps, qps[i].cpu_us_per_rpc);
    }
    std::fprintf(stderr, "\n");
  }

  // Columns: medians over rounds of the raw figures, then medians of the
  // per-round ratios to bare with their min..max over rounds.
  std::printf("\n%-11s %8s %8s %7s %7s %7s  %-17s %-17s %-17s %-17s %s\n", "config", "p50_us",
              "p99_us", "qps", "cpu_us", "user_us", "p50_x", "p99_x", "qps_x", "cpu_x", "user_x");
  for (size_t i = 0; i < n; ++i) {
    const Samples& s = samples[i];
    std::printf("%-11s %8.1f %8.1f %7.0f %7.1f %7.1f  %-17s %-17s %-17s %-17s %s\n",
                configs[i]->name.c_str(), Median(s.p50), Median(s.p99), Median(s.qps),
                Median(s.cpu), Median(s.user), RatioText(s.p50_ratio).c_str(),
                RatioText(s.p99_ratio).c_str(), RatioText(s.qps_ratio).c_str(),
                RatioText(s.cpu_ratio).c_str(), RatioText(s.user_ratio).c_str());
  }
  std::printf(
      "targets: p50_x <= 1.05, p99_x <= 1.10, qps_x >= 0.95 (medians of per-round ratios);\n"
      "cpu_us: process CPU per RPC (client + server) during the QPS runs; user_us: its user-space "
      "part\n");

  // The span pipeline kept up, or says how many spans it dropped.
  for (auto& config : configs) {
    for (Telemetry* telemetry : config->telemetries()) {
      (void)telemetry->ForceFlush(absl::Seconds(5));
      const TelemetryStats stats = telemetry->Stats();
      if (stats.tracer.spans_started == 0) continue;
      std::printf("spans %-15s started %llu, exported %llu, dropped (queue full) %llu\n",
                  telemetry->resource().service_name.c_str(),
                  static_cast<unsigned long long>(stats.tracer.spans_started),
                  static_cast<unsigned long long>(stats.processor.exported),
                  static_cast<unsigned long long>(stats.processor.dropped_queue_full));
    }
  }

  StopAll(configs);
  return 0;
}

}  // namespace
}  // namespace tracebridge

int main(int argc, char** argv) { return tracebridge::Run(argc, argv); }
