// File: tracebridge/core/export/jsonl_exporter.h
//
// `JsonLinesExporter`: writes each exported span as one line of JSON to a
// local file, with size-based rotation. It is the zero-setup default: no
// collector, no network, and the result reads with `jq`, `grep` or any JSON
// library. `DefaultJsonLinesPath()` picks the file when the user names none.
//
// Every string in a line (span and event names, attribute keys and values,
// status descriptions, resource attributes) goes through `JsonWriter`'s
// escaping, so no input (a newline, a quote, a NUL, `\r\n{"forged":1}`,
// invalid UTF-8) can end a line early, forge another span, or make the file
// invalid UTF-8. Ill-formed UTF-8 is replaced with U+FFFD.
//
// Line schema (one JSON object per line, members in this order, all always
// present so a reader never needs to test for a missing key):
//
//   service_name         string   Resource::service_name
//   resource_attributes  object   Resource::attributes (typed values, below)
//   trace_id             string   32 lowercase hex digits
//   span_id              string   16 lowercase hex digits
//   parent_span_id       string   16 hex digits, or "" for a root span
//   parent_is_remote     bool     the parent came from another process
//   trace_state          string   W3C tracestate members as key=value joined
//                                 with "," ("" if none; never shortened)
//   trace_flags          string   2 lowercase hex digits, as in traceparent
//   name                 string
//   kind                 string   "internal", "server", "client", "producer",
//                                 "consumer"
//   start_unix_nanos     integer
//   end_unix_nanos       integer
//   duration_ns          integer  end - start
//   attributes           object   key -> value; strings as JSON strings,
//                                 integers as JSON integers, doubles as JSON
//                                 numbers that always carry a `.` or exponent
//                                 (NaN and infinities as null), bools as JSON
//                                 booleans
//   events               array of {name, time_unix_nanos, attributes,
//                                  dropped_attributes}
//   links                array of {trace_id, span_id, trace_state,
//                                  trace_flags, attributes,
//                                  dropped_attributes}
//   status               object   {code: "unset"|"ok"|"error",
//                                  description: string}
//   dropped_attributes   integer
//   dropped_events       integer
//   dropped_links        integer
//
// Attribute keys are written as given; if a list holds one key twice (event
// and link attributes are not de-duplicated) both members are written and
// most JSON readers keep the last.
//
// Rotation: before a line would take the current file past
// `max_file_bytes`, the files shift (`path.{max_files-2}` -> `path.{max_files-1}`,
// ..., `path` -> `path.1`), the oldest is replaced, and a new `path` starts.
// At most `max_files` files exist, so disk use stays below about
// `max_files * max_file_bytes` (a single line longer than the bound gets a
// file of its own). Lines are never split across files.
//
// Durability: "flush" means handing the bytes to the kernel with write(2); the
// exporter never calls fsync, so a machine crash can lose recent lines.
//
// Threading: `Export` is called from one thread at a time (the batch
// processor's); `ForceFlush`, `Shutdown` and `Stats` may be called from any
// thread. Local file writes cannot be interrupted and take microseconds per
// batch, so `Export` ignores its deadline.
//
// Write failures: the batch's unwritten lines are dropped and counted, and
// `Export` returns the error; it never throws. If a write fails part-way
// through a line (a full disk), the next successful write first ends that
// fragment with '\n', so a failure costs at most one unparsable line and can
// never glue two spans together.
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<tracebridge::JsonLinesExporter>> exporter =
//       tracebridge::JsonLinesExporter::Create(
//           {.path = tracebridge::DefaultJsonLinesPath("orders")});
//   if (!exporter.ok()) return exporter.status();
//   // hand *exporter to the batch processor

#ifndef TRACEBRIDGE_CORE_EXPORT_JSONL_EXPORTER_H_
#define TRACEBRIDGE_CORE_EXPORT_JSONL_EXPORTER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "tracebridge/core/export/span_exporter.h"
#include "tracebridge/core/trace/span_data.h"

namespace tracebridge {

struct JsonLinesOptions {
  // The file to append to. Its directory must exist: the exporter does not
  // create directories (a typo in a path should fail at setup, not scatter
  // files), and `Create` reports a missing one.
  std::string path;
  // Rotate before the file would grow past this many bytes. At least 1.
  uint64_t max_file_bytes = uint64_t{64} << 20;
  // Files kept, counting `path` itself: 1 to `kMaxFilesLimit`. With 1 the
  // file is truncated instead of rotated.
  uint32_t max_files = 5;
  // True: each batch reaches the file (write(2)) before `Export` returns.
  // False: lines collect in memory and are written when `kWriteBufferBytes`
  // is reached, on `ForceFlush` and on `Shutdown`: fewer system calls, but a
  // crash loses what is buffered.
  bool flush_each_batch = true;
};

// Counters for the exporter's self-metrics. Monotonic.
struct JsonLinesStats {
  uint64_t spans_written = 0;  // lines handed to the kernel
  uint64_t spans_failed = 0;   // lines lost to write or rotation errors
  uint64_t write_errors = 0;   // failed write/open/rename calls
  uint64_t rotations = 0;      // completed rotations
};

// The file `JsonLinesExporter` uses when none is configured:
// `$TRACEBRIDGE_SPAN_FILE` if set and non-empty; otherwise
// `<dir>/tracebridge-<service>-<pid>.jsonl`, where `<dir>` is `$TMPDIR` if set
// and non-empty, else `/tmp`, and `<service>` is `service_name` with every
// character outside `[A-Za-z0-9._-]` replaced by `_`, cut to 64 bytes
// ("unknown_service" when empty), so a service name cannot point the file
// elsewhere. Reads the environment: do not call concurrently with setenv.
std::string DefaultJsonLinesPath(absl::string_view service_name);

class JsonLinesExporter final : public SpanExporter {
 public:
  // Upper bound on `JsonLinesOptions::max_files`.
  static constexpr uint32_t kMaxFilesLimit = 100;
  // With `flush_each_batch` false, buffered lines are written once they
  // reach this many bytes.
  static constexpr size_t kWriteBufferBytes = size_t{256} << 10;

  // Validates `options` and opens (creating if needed, appending otherwise)
  // `options.path`. InvalidArgument for bad options; NotFound when the
  // directory does not exist; FailedPrecondition when it is not a directory;
  // the errno-derived code (PermissionDenied, ...) with errno's text when the
  // file cannot be opened. `path` may name a non-regular file (a FIFO,
  // /dev/stderr); it is then written to but never rotated.
  static absl::StatusOr<std::unique_ptr<JsonLinesExporter>> Create(JsonLinesOptions options);

  ~JsonLinesExporter() override;

  JsonLinesExporter(const JsonLinesExporter&) = delete;
  JsonLinesExporter& operator=(const JsonLinesExporter&) = delete;

  // "jsonl".
  absl::string_view Name() const noexcept override { return "jsonl"; }

  // Appends one line per span. An error (the failing call and errno's text)
  // when a write, rotation or reopen fails; lines of the batch not written by
  // then are counted in `spans_failed` and dropped. FailedPrecondition after
  // `Shutdown`.
  absl::Status Export(const Resource& resource, absl::Span<const std::unique_ptr<SpanData>> spans,
                      absl::Time deadline) override;

  // Writes buffered lines (only buffered when `flush_each_batch` is false).
  absl::Status ForceFlush(absl::Duration timeout) override;

  // Flushes and closes the file; later exports fail.
  absl::Status Shutdown(absl::Duration timeout) override;

  // A snapshot of the counters (callable from any thread).
  JsonLinesStats Stats() const noexcept;

  // The options in effect.
  const JsonLinesOptions& options() const noexcept { return options_; }

  // Appends the JSON line for `span` (with its trailing '\n') to `*out`.
  // What `Export` writes; public for benchmarks and for other encoders that
  // want the same schema.
  static void AppendSpanLine(const Resource& resource, const SpanData& span, std::string* out);

 private:
  JsonLinesExporter(JsonLinesOptions options, int fd, uint64_t file_bytes, bool rotatable);

  // Writes the first `size` bytes of `pending_` (`lines` whole lines) to the
  // file and erases them from `pending_`, whether or not the write succeeds.
  absl::Status WritePending(size_t size, size_t lines) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Reopens `path` if a failed rotation left no file open.
  absl::Status EnsureOpen() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Closes the file, shifts the numbered files and opens a fresh `path`.
  absl::Status Rotate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const JsonLinesOptions options_;
  // False when `path` is not a regular file (a FIFO, /dev/stderr): such
  // outputs are written to but never rotated.
  const bool rotatable_;

  // std::mutex, not absl::Mutex: see memory_exporter.h.
  std::mutex mutex_;
  int fd_ ABSL_GUARDED_BY(mutex_);
  // Bytes in the current file, including lines still in `pending_`.
  uint64_t file_bytes_ ABSL_GUARDED_BY(mutex_);
  // Encoded lines not yet written; its capacity is reused across batches.
  std::string pending_ ABSL_GUARDED_BY(mutex_);
  size_t pending_lines_ ABSL_GUARDED_BY(mutex_) = 0;
  // A write stopped inside a line: the next write starts with '\n'.
  bool line_broken_ ABSL_GUARDED_BY(mutex_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mutex_) = false;

  std::atomic<uint64_t> spans_written_{0};
  std::atomic<uint64_t> spans_failed_{0};
  std::atomic<uint64_t> write_errors_{0};
  std::atomic<uint64_t> rotations_{0};
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_EXPORT_JSONL_EXPORTER_H_
