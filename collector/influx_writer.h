// File: tracebridge/collector/influx_writer.h
//
// `InfluxWriter` sends line-protocol points to an InfluxDB 1.x over its HTTP
// API (`POST /write?db=…&precision=…`) from a thread of its own, so that a
// slow or absent InfluxDB never holds up whoever produces the points.
//
//   - Bounded: points wait in a buffer of at most `max_buffered_points`
//     points and `max_buffered_bytes` bytes. A point that does not fit is
//     dropped when offered (the buffer keeps the older points, in order) and
//     counted in `dropped_buffer_full`.
//   - Retried: a write that fails for a reason that may pass (connection
//     refused or lost, a timeout, HTTP 5xx, 404 "database not found", any
//     other status but 400) stays at the head of the buffer and is sent again
//     after a backoff (`retry_initial_backoff`, doubling up to
//     `retry_max_backoff`), as often as it takes. Nothing in the buffer is
//     lost while InfluxDB is down.
//   - Refused: HTTP 400 means InfluxDB read the batch and refused some of its
//     lines (unparsable, a field type conflict); it wrote the others. The
//     refused lines (the count of "unable to parse" errors plus any
//     `dropped=N` it reports) are counted in `rejected`, the rest in
//     `written`; the batch is not sent again.
//   - The database is created (`CREATE DATABASE`, which is a no-op when it
//     exists) before the first write and after a 404, unless
//     `create_database` is false.
//   - `Stop` flushes for at most `flush_timeout`; points still buffered then
//     are counted in `dropped_shutdown`.
//
// Every point offered ends in exactly one count:
//   offered = written + rejected + dropped_buffer_full + dropped_shutdown + buffered.
//
// Threading: every method may be called from any thread (Stop and the
// destructor from one at a time).
//
// Example:
//
//   tracebridge::InfluxWriterOptions options;
//   options.url = "http://127.0.0.1:8086";
//   options.database = "tracebridge";
//   absl::StatusOr<std::unique_ptr<tracebridge::InfluxWriter>> writer =
//       tracebridge::InfluxWriter::Start(options);
//   (*writer)->Offer({"up,service=orders up=1i 1700000000000"});

#ifndef TRACEBRIDGE_COLLECTOR_INFLUX_WRITER_H_
#define TRACEBRIDGE_COLLECTOR_INFLUX_WRITER_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tracebridge/exporters/otlp/http1_client.h"

namespace tracebridge {

struct InfluxWriterOptions {
  // Where InfluxDB's HTTP API listens: "http://host:port", optionally with a
  // base path. Plain HTTP only.
  std::string url = "http://127.0.0.1:8086";
  std::string database = "tracebridge";
  // Optional retention policy (`rp=`).
  std::string retention_policy;
  // Timestamps' unit: "ns", "u", "ms" or "s".
  std::string precision = "ms";
  // HTTP basic authentication, when InfluxDB has auth-enabled.
  std::string username;
  std::string password;
  bool create_database = true;

  size_t max_buffered_points = 100000;
  size_t max_buffered_bytes = size_t{32} << 20;
  // Most points in one request (and at most 4 MiB of them).
  size_t max_batch_points = 5000;
  // One request, from connecting to the response.
  absl::Duration request_timeout = absl::Seconds(10);
  absl::Duration retry_initial_backoff = absl::Milliseconds(100);
  absl::Duration retry_max_backoff = absl::Seconds(5);
  absl::Duration flush_timeout = absl::Seconds(5);
  // Where the writer says what went wrong (once per outage, not per
  // attempt). Default: stderr.
  std::function<void(const std::string&)> log;
};

struct InfluxWriterStats {
  uint64_t offered = 0;
  uint64_t written = 0;
  uint64_t rejected = 0;
  uint64_t dropped_buffer_full = 0;
  uint64_t dropped_shutdown = 0;
  uint64_t buffered = 0;
  uint64_t requests = 0;
  uint64_t failed_requests = 0;
};

class InfluxWriter {
 public:
  // InvalidArgument for a malformed URL, an unknown precision, a zero bound.
  static absl::StatusOr<std::unique_ptr<InfluxWriter>> Start(InfluxWriterOptions options);
  // Stops (see Stop).
  ~InfluxWriter();
  InfluxWriter(const InfluxWriter&) = delete;
  InfluxWriter& operator=(const InfluxWriter&) = delete;

  // Buffers `lines` (one point each, without the newline), in order, until
  // a point does not fit; that one and the rest are dropped and counted.
  // Never blocks on InfluxDB. Returns how many were buffered.
  size_t Offer(std::vector<std::string> lines);

  // Waits until the buffer is empty (true) or `timeout` passes (false).
  bool WaitUntilFlushed(absl::Duration timeout);

  // Flushes for at most flush_timeout, then ends the thread; later offers
  // are dropped (as shutdown drops). Idempotent.
  void Stop();

  InfluxWriterStats stats() const;

 private:
  explicit InfluxWriter(InfluxWriterOptions options, std::string host, int port,
                        std::string base_path, std::string host_header);
  struct BatchResult {
    bool done = false;  // written or refused: not to be sent again
    size_t written = 0;
    size_t rejected = 0;
    std::string error;
  };
  void Run();
  // One POST of `body` (`points` lines) by `deadline`.
  BatchResult WriteBatch(const std::string& body, size_t points, absl::Time deadline);
  bool CreateDatabase();
  std::vector<Http1Header> Headers(const char* content_type) const;
  void Log(const std::string& message);

  const InfluxWriterOptions options_;
  const std::string base_path_;
  const std::string host_header_;
  const std::string write_target_;
  Http1Client client_;  // used by the writer thread only (and Cancel)

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::string> buffer_ ABSL_GUARDED_BY(mutex_);
  size_t buffered_bytes_ ABSL_GUARDED_BY(mutex_) = 0;
  // Points at the head of buffer_ being sent (still counted as buffered).
  size_t in_flight_ ABSL_GUARDED_BY(mutex_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  bool finished_ ABSL_GUARDED_BY(mutex_) = false;  // the thread is done
  bool dropping_ ABSL_GUARDED_BY(mutex_) = false;  // since the last written batch
  absl::Time flush_deadline_ ABSL_GUARDED_BY(mutex_) = absl::InfiniteFuture();
  InfluxWriterStats stats_ ABSL_GUARDED_BY(mutex_);
  bool database_ready_ = false;  // writer thread only
  bool failing_ = false;         // writer thread only: in an outage
  std::thread thread_;
};

// The default log sink of the writer and the collector: "collector: <message>"
// on stderr.
void LogToStderr(const std::string& message);

// `text` percent-encoded for a URL query or a form body (everything but
// letters, digits and -_.~).
std::string InfluxUrlEncode(absl::string_view text);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_COLLECTOR_INFLUX_WRITER_H_
