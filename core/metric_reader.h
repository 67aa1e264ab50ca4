// File: tracebridge/core/metric_reader.h
//
// Pushing metrics: `MetricExporter` is where a snapshot of the registry
// leaves the process (an OTLP exporter, exporters/otlp/otlp_metric_exporter.h,
// or your own), and `PeriodicMetricReader` is the thread that takes a
// snapshot every `interval` and hands it to the exporters. A `Telemetry`
// built with `TelemetryBuilder::AddMetricExporter` owns one; its `ForceFlush`
// and `Shutdown` flush it.
//
// Recording never waits for the reader: a snapshot reads the series with
// relaxed loads and takes no lock a recorder takes (core/metrics/registry.h).
// An export that overruns is bounded by `timeout`; the next collection is
// due `interval` after the start of the previous one (at once if that has
// passed), so a slow collector delays collections, never stacks them.
//
// Threading: `ForceFlush`, `Shutdown` and `Stats` may be called from any
// thread. Exporters' `Export` runs on the reader's thread (or, for the final
// collection, on the thread that calls `Shutdown`), one call at a time.
//
// Example:
//
//   absl::StatusOr<tracebridge::MetricReaderOptions> options =
//       tracebridge::MetricReaderOptions::FromEnvironment();  // OTEL_METRIC_EXPORT_*
//   builder.AddMetricExporter(std::move(exporter)).SetMetricReaderOptions(*options);
//   ...
//   telemetry->Shutdown(absl::Seconds(5));  // exports the last figures

#ifndef TRACEBRIDGE_CORE_METRIC_READER_H_
#define TRACEBRIDGE_CORE_METRIC_READER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tracebridge/core/export/span_exporter.h"
#include "tracebridge/core/metrics/registry.h"

namespace tracebridge {

class MetricExporter {
 public:
  virtual ~MetricExporter() = default;

  // A short name for diagnostics ("otlp", "otlp_http", ...).
  virtual absl::string_view Name() const noexcept = 0;

  // Sends one collection: every series and collector family of `snapshot`
  // (cumulative since `SeriesSnapshot::start_unix_nanos` and
  // `MetricsSnapshot::start_unix_nanos`), described by `resource`. Returns by
  // `deadline`; OK when the backend accepted it. Called from one thread at a
  // time.
  virtual absl::Status Export(const Resource& resource, const MetricsSnapshot& snapshot,
                              absl::Time deadline) = 0;

  // Releases the backend and cancels an export in flight; later exports
  // fail. Waits at most `timeout` for a running `Export` to return. May be
  // called more than once.
  virtual absl::Status Shutdown(absl::Duration timeout) = 0;
};

struct MetricReaderOptions {
  // From the start of one collection to the start of the next.
  absl::Duration interval = absl::Seconds(60);
  // The most one collection's exports may take (each exporter gets this
  // deadline; an OTLP exporter's own timeout may end it sooner).
  absl::Duration timeout = absl::Seconds(30);

  // The defaults, overridden by OTEL_METRIC_EXPORT_INTERVAL and
  // OTEL_METRIC_EXPORT_TIMEOUT (positive milliseconds; empty counts as
  // unset). InvalidArgument naming the variable for anything else.
  static absl::StatusOr<MetricReaderOptions> FromEnvironment();
};

// The reader's counts, since it started.
struct MetricReaderStats {
  uint64_t collections = 0;      // snapshots taken
  uint64_t exports = 0;          // Export calls, over all exporters
  uint64_t export_failures = 0;  // of those, the ones that did not return OK
};

class PeriodicMetricReader final {
 public:
  // Starts the thread; the first collection is one `interval` away.
  // InvalidArgument for a non-positive interval or timeout, no exporter or a
  // null one. `registry` must outlive the reader.
  static absl::StatusOr<std::unique_ptr<PeriodicMetricReader>> Create(
      const Registry& registry, Resource resource,
      std::vector<std::unique_ptr<MetricExporter>> exporters, MetricReaderOptions options);

  PeriodicMetricReader(const PeriodicMetricReader&) = delete;
  PeriodicMetricReader& operator=(const PeriodicMetricReader&) = delete;
  // Shuts down (with a 5 s bound) if that has not happened.
  ~PeriodicMetricReader();

  // Collects and exports now, on the reader's thread, and waits up to
  // `timeout` for it: OK when every exporter accepted the collection;
  // otherwise the first error, DeadlineExceeded when the wait ran out, or
  // FailedPrecondition after Shutdown.
  absl::Status ForceFlush(absl::Duration timeout);

  // Stops the thread and exports one last collection, then shuts the
  // exporters down, all within `timeout` (an export still running then is
  // cancelled). Later calls return OK at once.
  absl::Status Shutdown(absl::Duration timeout);

  MetricReaderStats Stats() const noexcept;
  const MetricReaderOptions& options() const noexcept { return options_; }

 private:
  PeriodicMetricReader(const Registry& registry, Resource resource,
                       std::vector<std::unique_ptr<MetricExporter>> exporters,
                       MetricReaderOptions options);
  void Run();
  // Takes a snapshot and exports it to every exporter by `deadline`.
  absl::Status CollectAndExport(absl::Time deadline);

  const Registry& registry_;
  const Resource resource_;
  const std::vector<std::unique_ptr<MetricExporter>> exporters_;
  const MetricReaderOptions options_;

  std::atomic<uint64_t> collections_{0};
  std::atomic<uint64_t> exports_{0};
  std::atomic<uint64_t> export_failures_{0};

  // std::mutex: ThreadSanitizer cannot see Debian's Abseil's absl::Mutex.
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stop_ ABSL_GUARDED_BY(mutex_) = false;
  absl::Time final_deadline_ ABSL_GUARDED_BY(mutex_) = absl::InfinitePast();
  bool finished_ ABSL_GUARDED_BY(mutex_) = false;  // the thread's loop is over
  uint64_t flushes_requested_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t flushes_done_ ABSL_GUARDED_BY(mutex_) = 0;
  absl::Status last_flush_status_ ABSL_GUARDED_BY(mutex_);
  bool shut_down_ ABSL_GUARDED_BY(mutex_) = false;
  absl::Status shutdown_status_ ABSL_GUARDED_BY(mutex_);
  std::thread thread_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_METRIC_READER_H_
