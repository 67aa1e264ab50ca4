// File: tests/interop/otlp_http_python/otlp_http_sender.cc
//
// Exports spans with tracebridge's OTLP/HTTP exporter, configured the way a
// user would: `OtlpExporterOptions::FromEnvironment()` (so the test sets the
// OTEL_EXPORTER_OTLP_* variables) and `CreateOtlpSpanExporter`, then prints
// what the exporter says, for otlp_http_python_test.py to check against what
// its receiver saw.
//
// Flags:
//   --batches=N              Export calls (default 1), one after the other
//   --spans=full|many:N      each batch: `MakeFullSpan()` and one root span,
//                            or N typical server spans (default full)
//   --deadline_ms=N          each Export's deadline (default 20000)
//   --max_attempts=N, --initial_backoff_ms=N, --max_backoff_ms=N
//   --max_response_bytes=N
//   --shutdown_after_connect Shutdown from another thread once the exporter
//                            has opened a connection (a request in flight)
//   --shutdown_on_retry      Shutdown from another thread when the exporter
//                            announces a backoff wait
//
// Output, one line each: "EXPORT <n> <absl status code> <elapsed ms> <message>"
// per batch, then "STATS <name>=<value> ..." and "CONNECTIONS <n>". Exit code
// 0 when it ran (whatever the exports returned), 2 on a usage or setup error.

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "tests/testing/sample_spans.h"
#include "tracebridge/core/trace/clock.h"
#include "tracebridge/exporters/otlp/otlp_http_exporter.h"
#include "tracebridge/exporters/otlp/otlp_span_exporter.h"

namespace tracebridge {
namespace {

struct Flags {
  int batches = 1;
  std::string spans = "full";
  int64_t deadline_ms = 20000;
  int max_attempts = 0;
  int64_t initial_backoff_ms = -1;
  int64_t max_backoff_ms = -1;
  int64_t max_response_bytes = 0;
  bool shutdown_after_connect = false;
  bool shutdown_on_retry = false;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    auto number = [&arg](absl::string_view name, auto* out) {
      return absl::ConsumePrefix(&arg, name) && absl::SimpleAtoi(arg, out);
    };
    if (number("--batches=", &flags->batches) || number("--deadline_ms=", &flags->deadline_ms) ||
        number("--max_attempts=", &flags->max_attempts) ||
        number("--initial_backoff_ms=", &flags->initial_backoff_ms) ||
        number("--max_backoff_ms=", &flags->max_backoff_ms) ||
        number("--max_response_bytes=", &flags->max_response_bytes)) {
      continue;
    }
    arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--spans=")) {
      flags->spans = std::string(arg);
    } else if (arg == "--shutdown_after_connect") {
      flags->shutdown_after_connect = true;
    } else if (arg == "--shutdown_on_retry") {
      flags->shutdown_on_retry = true;
    } else {
      std::fprintf(stderr, "otlp_http_sender: unknown argument %s\n", argv[i]);
      return false;
    }
  }
  return true;
}

std::vector<std::unique_ptr<SpanData>> Batch(const std::string& kind) {
  std::vector<std::unique_ptr<SpanData>> spans;
  absl::string_view many = kind;
  int count = 0;
  if (absl::ConsumePrefix(&many, "many:") && absl::SimpleAtoi(many, &count)) {
    for (int i = 0; i < count; ++i) spans.push_back(testing::MakeTypicalServerSpan(i));
    return spans;
  }
  spans.push_back(testing::MakeFullSpan());
  auto root = testing::MakeSpan("0123456789abcdef0123456789abcdef", "0123456789abcdef", "root");
  root->kind = SpanKind::kInternal;
  root->status = StatusCode::kOk;
  spans.push_back(std::move(root));
  return spans;
}

int Run(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;
  absl::StatusOr<OtlpExporterOptions> options = OtlpExporterOptions::FromEnvironment();
  if (!options.ok()) {
    std::printf("SETUP %s\n", options.status().ToString().c_str());
    return 2;
  }
  if (flags.max_attempts > 0) options->retry.max_attempts = flags.max_attempts;
  if (flags.initial_backoff_ms >= 0) {
    options->retry.initial_backoff = absl::Milliseconds(flags.initial_backoff_ms);
  }
  if (flags.max_backoff_ms >= 0)
    options->retry.max_backoff = absl::Milliseconds(flags.max_backoff_ms);
  if (flags.max_response_bytes > 0) {
    options->max_response_bytes = static_cast<size_t>(flags.max_response_bytes);
  }
  // Shutdown cannot run on the exporting thread (it waits for Export), so
  // the retry announcement hands it to another thread.
  absl::Notification retry_announced;
  if (flags.shutdown_on_retry) {
    options->on_retry = [&retry_announced](const absl::Status&, absl::Duration wait) {
      std::printf("RETRY_WAIT_MS %lld\n", static_cast<long long>(absl::ToInt64Milliseconds(wait)));
      std::fflush(stdout);
      if (!retry_announced.HasBeenNotified()) retry_announced.Notify();
    };
  }
  absl::StatusOr<std::unique_ptr<SpanExporter>> created = CreateOtlpSpanExporter(*options);
  if (!created.ok()) {
    std::printf("SETUP %s\n", created.status().ToString().c_str());
    return 2;
  }
  auto* exporter = dynamic_cast<OtlpHttpExporter*>(created->get());
  if (exporter == nullptr) {
    std::printf("SETUP the protocol did not select OTLP/HTTP (OTEL_EXPORTER_OTLP_PROTOCOL)\n");
    return 2;
  }
  std::printf("URL %s\n", exporter->url().c_str());

  std::thread stopper;
  if (flags.shutdown_after_connect || flags.shutdown_on_retry) {
    stopper = std::thread([&] {
      const absl::Time give_up = absl::Now() + absl::Seconds(30);
      if (flags.shutdown_on_retry) {
        retry_announced.WaitForNotificationWithTimeout(absl::Seconds(30));
      } else {
        // A condition with a deadline: the connection is open, so the
        // request is being written or waited for.
        while (exporter->transport().connections_opened() == 0 && absl::Now() < give_up) {
          absl::SleepFor(absl::Milliseconds(5));
        }
      }
      const absl::Status stopped = exporter->Shutdown(absl::Seconds(10));
      std::printf("SHUTDOWN %d\n", static_cast<int>(stopped.code()));
      std::fflush(stdout);
    });
  }

  const Resource resource = testing::MakeResource("http-sender");
  for (int i = 0; i < flags.batches; ++i) {
    std::vector<std::unique_ptr<SpanData>> spans = Batch(flags.spans);
    const int64_t start = MonotonicNanosNow();
    const absl::Status status =
        exporter->Export(resource, spans, absl::Now() + absl::Milliseconds(flags.deadline_ms));
    const int64_t elapsed_ms = (MonotonicNanosNow() - start) / 1000000;
    std::printf("EXPORT %d %d %lld %s\n", i, static_cast<int>(status.code()),
                static_cast<long long>(elapsed_ms), std::string(status.message()).c_str());
    std::fflush(stdout);
  }
  if (stopper.joinable()) stopper.join();
  const OtlpExporterStats stats = exporter->Stats();
  std::printf(
      "STATS batches_exported=%llu spans_exported=%llu batches_failed=%llu spans_failed=%llu "
      "retries=%llu spans_rejected=%llu\n",
      static_cast<unsigned long long>(stats.batches_exported),
      static_cast<unsigned long long>(stats.spans_exported),
      static_cast<unsigned long long>(stats.batches_failed),
      static_cast<unsigned long long>(stats.spans_failed),
      static_cast<unsigned long long>(stats.retries),
      static_cast<unsigned long long>(stats.spans_rejected));
  std::printf("PARTIAL %s\n", exporter->last_partial_success_message().c_str());
  std::printf("CONNECTIONS %llu\n",
              static_cast<unsigned long long>(exporter->transport().connections_opened()));
  return 0;
}

}  // namespace
}  // namespace tracebridge

int main(int argc, char** argv) { return tracebridge::Run(argc, argv); }
