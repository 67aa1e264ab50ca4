// File: bench/grpc_callgrind.cc
//
// The load-independent side of the gRPC overhead benchmark: N unary RPCs per
// configuration (bench/grpc_configs.h: bare, noop, metrics, full,
// sampled_out, full_no_xid, floor), one at a time from one caller thread, client and server in
// this process. Run it under `valgrind --tool=callgrind --instr-atstart=no`
// (bench/grpc_callgrind.sh does, and summarises the result): for each
// configuration, instrumentation is on only while its N measured RPCs run and
// while their spans are flushed through the export thread, and callgrind
// dumps that part as "<config>". Start-up, connection set-up, series
// registration and `--warmup` RPCs per configuration are outside.
//
// It also counts `operator new` calls in the whole process during the
// measured RPCs (tests/testing/alloc_counter) and prints, per configuration:
//
//   config <name> rpcs <N> operator_new <count>
//
// Without valgrind the client requests do nothing, so the binary runs (and
// counts allocations) as a plain program too.
//
// Example:
//
//   ./bazelw run --config=opt //bench:grpc_callgrind   # runs this under callgrind
//   valgrind --tool=callgrind --instr-atstart=no grpc_callgrind_client --configs=noop,full

#include <valgrind/callgrind.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bench/grpc_configs.h"
#include "tests/testing/alloc_counter.h"
#include "tracebridge/core/export/jsonl_exporter.h"

namespace tracebridge {
namespace bench {
namespace {

struct Flags {
  int rpcs = 2000;
  int warmup = 1000;
  std::vector<GrpcMode> modes = {GrpcMode::kBare, GrpcMode::kNoop,       GrpcMode::kMetrics,
                                 GrpcMode::kFull, GrpcMode::kSampledOut, GrpcMode::kFullNoXid,
                                 GrpcMode::kFloor};
  // Spans to the JSON-lines exporter (into /dev/null) instead of one that
  // discards them: the default pipeline's exporter reading every span.
  bool jsonl = false;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    bool ok = true;
    if (absl::ConsumePrefix(&arg, "--rpcs=")) {
      ok = absl::SimpleAtoi(arg, &flags->rpcs) && flags->rpcs > 0;
    } else if (absl::ConsumePrefix(&arg, "--warmup=")) {
      ok = absl::SimpleAtoi(arg, &flags->warmup) && flags->warmup >= 0;
    } else if (arg == "--exporter=jsonl") {
      flags->jsonl = true;
    } else if (absl::ConsumePrefix(&arg, "--configs=")) {
      flags->modes.clear();
      for (absl::string_view name : absl::StrSplit(arg, ',')) {
        absl::optional<GrpcMode> mode = GrpcModeFromName(name);
        if (!mode.has_value()) {
          ok = false;
          break;
        }
        flags->modes.push_back(*mode);
      }
      ok = ok && !flags->modes.empty();
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr,
                   "usage: grpc_callgrind_client [--rpcs=N] [--warmup=N]\n"
                   "                             "
                   "[--configs=bare,noop,metrics,full,sampled_out,full_no_xid,floor]\n"
                   "                             [--exporter=jsonl]\n"
                   "bad argument: %s\n",
                   argv[i]);
      return false;
    }
  }
  return true;
}

void CallOrDie(GrpcConfig& config, const testing::EchoRequest& request) {
  if (!CallUnary(*config.stub, request)) {
    std::fprintf(stderr, "grpc_callgrind: %s: a call failed\n", config.name.c_str());
    std::exit(1);
  }
}

int Run(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;
  const testing::EchoRequest request = EchoProbe();
  // One configuration at a time, so no other configuration's threads run
  // while one is measured.
  for (GrpcMode mode : flags.modes) {
    ExporterFactory exporter;
    if (flags.jsonl) {
      exporter = [](absl::string_view side) -> std::unique_ptr<SpanExporter> {
        JsonLinesOptions options;
        options.path = "/dev/null";
        absl::StatusOr<std::unique_ptr<JsonLinesExporter>> jsonl =
            JsonLinesExporter::Create(std::move(options));
        if (!jsonl.ok()) {
          std::fprintf(stderr, "grpc_callgrind: %s: %s\n", std::string(side).c_str(),
                       jsonl.status().ToString().c_str());
          std::exit(1);
        }
        return *std::move(jsonl);
      };
    }
    std::unique_ptr<GrpcConfig> config = StartGrpcConfig(mode, exporter);
    for (int i = 0; i < flags.warmup; ++i) CallOrDie(*config, request);
    config->Flush();
    const uint64_t allocations_before = testing::ProcessAllocations();
    CALLGRIND_START_INSTRUMENTATION;
    CALLGRIND_ZERO_STATS;
    for (int i = 0; i < flags.rpcs; ++i) CallOrDie(*config, request);
    // The export thread's share of these RPCs: every span they ended.
    config->Flush();
    CALLGRIND_DUMP_STATS_AT(config->name.c_str());
    CALLGRIND_STOP_INSTRUMENTATION;
    const uint64_t allocations = testing::ProcessAllocations() - allocations_before;
    std::printf("config %s rpcs %d operator_new %llu\n", config->name.c_str(), flags.rpcs,
                static_cast<unsigned long long>(allocations));
    std::fflush(stdout);
    StopGrpcConfig(*config);
  }
  return 0;
}

}  // namespace
}  // namespace bench
}  // namespace tracebridge

int main(int argc, char** argv) { return tracebridge::bench::Run(argc, argv); }
