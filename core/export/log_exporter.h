// File: tracebridge/core/export/log_exporter.h
//
// `LogLineExporter`: one human-readable line per span, in the format that
// gin-monitor's tracing middleware logs and its users already grep:
//
//   Service: orders, TraceID: 4bf9...4736, SpanID: 00f0...02b7, ParentSpanID: , Method: GET, Path:
//   /orders/:id, Duration: 1.234567ms, Status: 200
//
// Fields, in order:
//   Service       `Resource::service_name`
//   TraceID       32 lowercase hex digits
//   SpanID        16 lowercase hex digits
//   ParentSpanID  16 lowercase hex digits; empty for a root span (as
//                 gin-monitor prints it)
//   Method        `http.request.method` (or the older `http.method`), else
//                 `rpc.method`; empty when the span has none of them
//   Path          `http.route`, else `url.path` (or the older `http.target`),
//                 else `/<rpc.service>/<rpc.method>` (the gRPC path), else the
//                 span name
//   Duration      end - start, by default as Go's `time.Duration.String()`
//                 prints it ("0s", "850ns", "12.5µs", "1.234567ms", "2.5s",
//                 "1m30s", "1h2m3.5s": the largest unit below a second, h/m/s
//                 above, no rounding, trailing zeros dropped). With
//                 `LogDurationFormat::kMilliseconds`, whole milliseconds as an
//                 integer, exactly what gin-monitor logs.
//   Status        `http.response.status_code` (or the older
//                 `http.status_code`), else `rpc.grpc.status_code`, as
//                 recorded; else the span status ("unset", "ok", "error")
//
// With `timestamp_prefix`, each line starts with the span's end time in UTC as
// Go's `log` package writes it with `Ldate|Ltime|LUTC` ("2024/05/01 12:00:03 "),
// which is what gin-monitor's files hold.
//
// Sanitising: every value that is not an id goes through the same escaping,
// so no value can start a new line or forge a field:
//   `\` -> `\\`; `\n` `\r` `\t` -> `\n` `\r` `\t`; other C0 controls and DEL ->
//   `\xHH`; C1 controls (U+0080-U+009F), U+2028 and U+2029 -> `\uHHHH`;
//   `,` -> `\x2c` (so ", " only ever separates fields); ill-formed UTF-8 ->
//   U+FFFD. A value whose escaped form exceeds `max_value_bytes` is cut at a
//   character boundary and ends in "...". A line is therefore at most
//   `kMaxLineOverhead + 4 * (max_value_bytes + 8)` bytes (four free-text
//   values: Service, Method, Path, Status).
//
// Threading: `Export` is called from one thread at a time; `Shutdown` and
// `Stats` may be called from any thread. Each batch is one write(2), appended
// (O_APPEND) to the file, so lines from several processes sharing one file do
// not interleave mid-line for batches below the pipe/file atomicity limits.
// The exporter never rotates: use logrotate with `copytruncate`.
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<tracebridge::LogLineExporter>> exporter =
//       tracebridge::LogLineExporter::Create({.path = "/var/log/orders/trace.log"});
//   // or Create({}) for stderr

#ifndef TRACEBRIDGE_CORE_EXPORT_LOG_EXPORTER_H_
#define TRACEBRIDGE_CORE_EXPORT_LOG_EXPORTER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "tracebridge/core/export/span_exporter.h"
#include "tracebridge/core/trace/span_data.h"

namespace tracebridge {

// How the Duration field is written.
enum class LogDurationFormat : uint8_t {
  kGo,            // Go's time.Duration String(): "1.234567ms"
  kMilliseconds,  // whole milliseconds, truncated: "1" (gin-monitor's format)
};

struct LogLineOptions {
  // The file to append to (created if missing; its directory must exist).
  // Empty: standard error.
  std::string path;
  LogDurationFormat duration_format = LogDurationFormat::kGo;
  // Prefix each line with the span's end time, "YYYY/MM/DD HH:MM:SS " (UTC).
  bool timestamp_prefix = false;
  // Cap on one escaped value, 16 to 65536.
  size_t max_value_bytes = 256;
};

// Counters for the exporter's self-metrics. Monotonic.
struct LogLineStats {
  uint64_t lines_written = 0;
  uint64_t lines_failed = 0;  // lost to write errors or export after shutdown
  uint64_t write_errors = 0;
};

// Appends `nanos` as Go's `time.Duration.String()` does (see the file
// comment), e.g. 1234567 -> "1.234567ms", 0 -> "0s", -1500 -> "-1.5µs".
void AppendGoDuration(int64_t nanos, std::string* out);

// Appends `value` escaped as the file comment describes, cut to at most
// `max_bytes` escaped bytes plus "..." when longer.
void AppendLogValue(absl::string_view value, size_t max_bytes, std::string* out);

class LogLineExporter final : public SpanExporter {
 public:
  // Bytes of a line outside its four free-text values: labels, separators,
  // ids, the duration, the timestamp prefix and the newline.
  static constexpr size_t kMaxLineOverhead = 256;

  // Validates `options` and opens the file (or selects stderr).
  // InvalidArgument for a bad `max_value_bytes`; the errno-derived code with
  // errno's text when the file cannot be opened (NotFound for a missing
  // directory).
  static absl::StatusOr<std::unique_ptr<LogLineExporter>> Create(LogLineOptions options);

  ~LogLineExporter() override;

  LogLineExporter(const LogLineExporter&) = delete;
  LogLineExporter& operator=(const LogLineExporter&) = delete;

  // "log".
  absl::string_view Name() const noexcept override { return "log"; }

  // Writes one line per span in one write(2). An error (with errno's text)
  // when the write fails; the batch is then counted in `lines_failed`.
  // FailedPrecondition after `Shutdown`. Ignores `deadline` (a local write).
  absl::Status Export(const Resource& resource, absl::Span<const std::unique_ptr<SpanData>> spans,
                      absl::Time deadline) override;

  // Closes the file (never stderr); later exports fail.
  absl::Status Shutdown(absl::Duration timeout) override;

  // A snapshot of the counters (callable from any thread).
  LogLineStats Stats() const noexcept;

  // Appends the line for `span` (with its '\n') to `*out`, as `Export`
  // writes it under `options`.
  static void AppendLine(const LogLineOptions& options, const Resource& resource,
                         const SpanData& span, std::string* out);

 private:
  LogLineExporter(LogLineOptions options, int fd, bool owns_fd)
      : options_(std::move(options)), fd_(fd), owns_fd_(owns_fd) {}

  const LogLineOptions options_;

  // std::mutex, not absl::Mutex: see memory_exporter.h.
  std::mutex mutex_;
  int fd_ ABSL_GUARDED_BY(mutex_);
  const bool owns_fd_;
  // Reused across batches so steady-state export does not allocate.
  std::string buffer_ ABSL_GUARDED_BY(mutex_);
  bool shut_down_ ABSL_GUARDED_BY(mutex_) = false;

  std::atomic<uint64_t> lines_written_{0};
  std::atomic<uint64_t> lines_failed_{0};
  std::atomic<uint64_t> write_errors_{0};
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_EXPORT_LOG_EXPORTER_H_
