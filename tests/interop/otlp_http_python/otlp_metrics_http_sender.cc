// File: tests/interop/otlp_http_python/otlp_metrics_http_sender.cc
//
// Exports a fixed set of metrics with tracebridge's OTLP metric exporter,
// configured the way a user would: `OtlpMetricExporterOptions::FromEnvironment()`
// (so the test sets the OTEL_EXPORTER_OTLP_[METRICS_]* variables), then
// prints what the exporter says, for otlp_metrics_http_python_test.py to
// check against what its receiver saw.
//
// What is recorded (resource service.name "http-metrics-sender",
// service.version "4.0"):
//   gRPC server shop.Orders/Get (unary): OK after 1.5 ms twice, UNAVAILABLE
//     after 3 ms, one message received per call
//   HTTP client POST /pay: 402 after 7 ms
// and before each export after the first, one more OK call of 1.5 ms.
//
// Flags:
//   --exports=N              Export calls (default 1), one after the other
//   --deadline_ms=N          each Export's deadline (default 20000)
//   --max_attempts=N, --initial_backoff_ms=N, --max_backoff_ms=N
//
// Output: "URL <url>", then per export "EXPORT <n> <absl status code>
// <elapsed ms> <message>", then "STATS <name>=<value> ..." (in data points)
// and "PARTIAL <message>". Exit code 0 when it ran, 2 on a setup error.

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/trace/clock.h"
#include "tracebridge/exporters/otlp/otlp_metric_exporter.h"

namespace tracebridge {
namespace {

struct Flags {
  int exports = 1;
  int64_t deadline_ms = 20000;
  int max_attempts = 0;
  int64_t initial_backoff_ms = -1;
  int64_t max_backoff_ms = -1;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    auto number = [&arg](absl::string_view name, auto* out) {
      return absl::ConsumePrefix(&arg, name) && absl::SimpleAtoi(arg, out);
    };
    if (number("--exports=", &flags->exports) || number("--deadline_ms=", &flags->deadline_ms) ||
        number("--max_attempts=", &flags->max_attempts) ||
        number("--initial_backoff_ms=", &flags->initial_backoff_ms) ||
        number("--max_backoff_ms=", &flags->max_backoff_ms)) {
      continue;
    }
    std::fprintf(stderr, "otlp_metrics_http_sender: unknown argument %s\n", argv[i]);
    return false;
  }
  return true;
}

void Call(Series* series, int status, int64_t nanos) {
  series->Start();
  series->AddMessagesReceived();
  series->Finish(status, nanos);
}

int Run(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;
  absl::StatusOr<OtlpMetricExporterOptions> options = OtlpMetricExporterOptions::FromEnvironment();
  if (!options.ok()) {
    std::printf("SETUP %s\n", options.status().ToString().c_str());
    return 2;
  }
  if (options->otlp.protocol != OtlpProtocol::kHttpProtobuf) {
    std::printf("SETUP the protocol did not select OTLP/HTTP\n");
    return 2;
  }
  OtlpRetryPolicy& retry = options->otlp.retry;
  if (flags.max_attempts > 0) retry.max_attempts = flags.max_attempts;
  if (flags.initial_backoff_ms >= 0) {
    retry.initial_backoff = absl::Milliseconds(flags.initial_backoff_ms);
  }
  if (flags.max_backoff_ms >= 0) retry.max_backoff = absl::Milliseconds(flags.max_backoff_ms);
  absl::StatusOr<std::unique_ptr<OtlpMetricExporter>> exporter =
      OtlpMetricExporter::Create(*std::move(options));
  if (!exporter.ok()) {
    std::printf("SETUP %s\n", exporter.status().ToString().c_str());
    return 2;
  }
  std::printf("URL %s\n", (*exporter)->destination().c_str());

  Registry registry;
  Series* get = registry.RegisterGrpcMethod(Side::kServer, "shop.Orders", "Get", RpcType::kUnary);
  Series* pay = registry.RegisterHttpRoute(Side::kClient, "POST", "/pay");
  Call(get, 0, 1'500'000);
  Call(get, 0, 1'500'000);
  Call(get, 14, 3'000'000);
  pay->Start();
  pay->Finish(402, 7'000'000);
  Resource resource;
  resource.service_name = "http-metrics-sender";
  resource.attributes.push_back({"service.version", std::string("4.0")});

  for (int i = 0; i < flags.exports; ++i) {
    if (i > 0) Call(get, 0, 1'500'000);
    const int64_t start = MonotonicNanosNow();
    const absl::Status status = (*exporter)->Export(
        resource, registry.Snapshot(), absl::Now() + absl::Milliseconds(flags.deadline_ms));
    const int64_t elapsed_ms = (MonotonicNanosNow() - start) / 1000000;
    std::printf("EXPORT %d %d %lld %s\n", i, static_cast<int>(status.code()),
                static_cast<long long>(elapsed_ms), std::string(status.message()).c_str());
    std::fflush(stdout);
  }
  const OtlpExportCounts stats = (*exporter)->Stats();
  std::printf(
      "STATS batches_exported=%llu points_exported=%llu batches_failed=%llu points_failed=%llu "
      "retries=%llu points_rejected=%llu\n",
      static_cast<unsigned long long>(stats.batches_exported),
      static_cast<unsigned long long>(stats.items_exported),
      static_cast<unsigned long long>(stats.batches_failed),
      static_cast<unsigned long long>(stats.items_failed),
      static_cast<unsigned long long>(stats.retries),
      static_cast<unsigned long long>(stats.items_rejected));
  std::printf("PARTIAL %s\n", (*exporter)->last_partial_success_message().c_str());
  return 0;
}

}  // namespace
}  // namespace tracebridge

int main(int argc, char** argv) { return tracebridge::Run(argc, argv); }
