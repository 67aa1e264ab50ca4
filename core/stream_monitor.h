// File: tracebridge/core/stream_monitor.h
//
// Progress of long-lived streams. A streaming call's span is recorded when
// the call ends, so a stream that lives for minutes says nothing until then.
// With progress on, the `StreamMonitor` a `Telemetry` owns watches every
// streaming call in flight and records, on the call's span, an
// `rpc.stream.progress` event every `every_messages` messages and/or every
// `interval` (also while no message flows), with the messages and bytes so
// far and since the previous event; optionally each event also becomes a
// short internal child span ("<span name> progress"), exported at once, so
// the stream is visible in the trace while it is still open. The monitor
// also lists the streams in flight (method, age, messages, trace) for the
// query service and `/rpcz`.
//
// Time-based progress comes from one timer thread per monitor (started only
// when `interval` is set) that walks the watched streams: a stream costs no
// thread, and the walk is bounded by `max_streams`. Message-based progress is
// recorded on the thread that passes the N-th message.
//
// Threading: every method is thread-safe. Events are kept in the watch
// (bounded by the span's event limit, excess counted) and handed to the span
// when the stream ends, on the thread that ends it, so the timer never
// touches a span another thread owns. A stream ending while the timer fires
// is safe: `End` waits for an event being recorded and later ones are
// skipped; no child span starts after `End` returns.
//
// Off by default (`StreamProgressOptions::enabled()` false): the doors then
// watch nothing and pay one branch per streaming call.
//
// Example:
//
//   StreamProgressOptions progress;
//   progress.interval = absl::Seconds(30);
//   progress.every_messages = 1000;
//   auto telemetry = TelemetryBuilder().SetStreamProgress(progress).Build();
//   // per streaming call (what the gRPC interceptors do):
//   std::shared_ptr<StreamWatch> watch =
//       (*telemetry)->streams().Watch(Side::kServer, "pkg.Chat/Talk", span);
//   watch->OnMessage(/*sent=*/true, bytes);  // per message
//   watch->End(&span);                       // before span.End()

#ifndef TRACEBRIDGE_CORE_STREAM_MONITOR_H_
#define TRACEBRIDGE_CORE_STREAM_MONITOR_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/trace/span.h"
#include "tracebridge/core/trace/tracer.h"

namespace tracebridge {

// The span event's name and its attributes' keys.
inline constexpr char kStreamProgressEvent[] = "rpc.stream.progress";

struct StreamProgressOptions {
  // A progress event every this many messages (sent plus received); 0: off.
  // Env: TRACEBRIDGE_STREAM_PROGRESS_MESSAGES.
  uint32_t every_messages = 0;
  // A progress event every `interval` since the stream started, whether
  // messages flow or not; zero: off. Env:
  // TRACEBRIDGE_STREAM_PROGRESS_INTERVAL_MS.
  absl::Duration interval = absl::ZeroDuration();
  // Each progress event also becomes a child span of the stream's span
  // (kind internal, named "<span name> progress"). Env:
  // TRACEBRIDGE_STREAM_PROGRESS_SPANS=true.
  bool child_spans = false;
  // Streams watched at once; streams starting beyond it are not watched
  // (counted in `StreamMonitorStats::unwatched`).
  size_t max_streams = 1024;

  bool enabled() const noexcept { return every_messages > 0 || interval > absl::ZeroDuration(); }

  // The defaults, overridden by the environment variables named above.
  // InvalidArgument naming the variable for a malformed value.
  static absl::StatusOr<StreamProgressOptions> FromEnvironment();
};

// One stream in flight, as the monitor lists it.
struct InFlightStream {
  Side side = Side::kServer;
  // "pkg.Service/Method".
  std::string method;
  int64_t start_unix_nanos = 0;
  int64_t age_nanos = 0;
  uint64_t messages_sent = 0;
  uint64_t messages_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  // Progress events recorded so far.
  uint64_t progress_events = 0;
  // The stream's span (invalid when the call is not traced).
  SpanContext span_context;
};

struct StreamMonitorStats {
  uint64_t watched = 0;          // streams watched now
  uint64_t unwatched = 0;        // streams not watched: `max_streams` was reached
  uint64_t progress_events = 0;  // progress events recorded
};

class StreamMonitor;

// One watched stream; see the file comment.
class StreamWatch {
 public:
  // Counts one message and its bytes; records a progress event when the
  // message count reaches a multiple of `every_messages`.
  void OnMessage(bool sent, size_t bytes) noexcept;

  // Stops watching and adds the progress events to `span` (the stream's
  // span, still open). Later calls do nothing.
  void End(Span* span) noexcept;

 private:
  friend class StreamMonitor;
  enum class Trigger { kMessages, kInterval };
  // What a progress event says, kept until the span takes it.
  struct Progress {
    int64_t monotonic_nanos;
    Trigger trigger;
    uint64_t sent, received, bytes_sent, bytes_received;
    uint64_t delta_sent, delta_received, delta_bytes_sent, delta_bytes_received;
  };

  StreamWatch(StreamMonitor* monitor, Side side, absl::string_view method, const Span& span);
  void Record(Trigger trigger) noexcept;
  static std::vector<Attribute> Attributes(const Progress& progress, uint64_t sequence);

  StreamMonitor* const monitor_;
  const Side side_;
  const std::string method_;
  const std::string span_name_;
  const SpanContext span_context_;
  const bool recording_;
  const int64_t start_monotonic_nanos_;
  const int64_t start_unix_nanos_;

  std::atomic<uint64_t> messages_{0};
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> bytes_sent_{0};
  std::atomic<uint64_t> bytes_received_{0};
  std::atomic<uint64_t> events_{0};

  std::mutex mutex_;
  bool ended_ ABSL_GUARDED_BY(mutex_) = false;
  Progress last_ ABSL_GUARDED_BY(mutex_) = {};
  std::vector<Progress> pending_ ABSL_GUARDED_BY(mutex_);
  uint32_t dropped_ ABSL_GUARDED_BY(mutex_) = 0;
};

class StreamMonitor {
 public:
  // `tracer` starts the child spans; it must outlive the monitor. A stream
  // keeps at most `max_span_events` progress events (the tracer's
  // `SpanLimits::max_events`) and counts the rest as dropped.
  StreamMonitor(Tracer& tracer, StreamProgressOptions options, uint32_t max_span_events);
  ~StreamMonitor();  // stops the timer thread
  StreamMonitor(const StreamMonitor&) = delete;
  StreamMonitor& operator=(const StreamMonitor&) = delete;

  const StreamProgressOptions& options() const noexcept { return options_; }
  bool enabled() const noexcept { return enabled_; }

  // Starts watching a stream whose span is `span` (started, recording or
  // not) on `side` of `method` ("pkg.Service/Method"). Null when progress is
  // off or `max_streams` streams are watched already (counted).
  std::shared_ptr<StreamWatch> Watch(Side side, absl::string_view method, const Span& span);

  // The watched streams, oldest first, at most `max`.
  std::vector<InFlightStream> InFlight(size_t max) const;

  StreamMonitorStats Stats() const;

  // Stops the timer thread (no interval events afterwards). Idempotent.
  void Stop();

 private:
  friend class StreamWatch;
  struct Entry {
    std::shared_ptr<StreamWatch> watch;
    int64_t next_due_monotonic_nanos;
  };
  void Unwatch(StreamWatch* watch);
  void Run();

  Tracer& tracer_;
  const StreamProgressOptions options_;
  const bool enabled_;
  const int64_t interval_nanos_;
  const uint32_t max_span_events_;
  std::atomic<uint64_t> unwatched_{0};
  std::atomic<uint64_t> progress_events_{0};

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ ABSL_GUARDED_BY(mutex_) = false;
  absl::flat_hash_map<StreamWatch*, Entry> entries_ ABSL_GUARDED_BY(mutex_);
  std::thread timer_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_STREAM_MONITOR_H_
