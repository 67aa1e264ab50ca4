// File: tracebridge/core/export/span_processors.h
//
// The two span processors:
//
// `SimpleSpanProcessor` exports each span as it ends, on the ending thread.
// For tests and debugging only: a slow exporter slows the application.
//
// `BatchSpanProcessor` is the production path. `OnEnd` puts the span on a
// bounded lock-free queue and returns; a background thread exports batches.
// When the queue is full the span is dropped and counted, so a slow or dead
// backend costs spans, never request latency. One export call runs at a time.
//
// Options default to the OpenTelemetry values (queue 2048, batch 512, delay
// 5 s, export timeout 30 s) and can be read from the `OTEL_BSP_*`
// environment variables; values set in code after `FromEnvironment()` win.
//
// Counting: every span handed to `OnEnd` ends up in exactly one of
// `exported`, `dropped_queue_full`, `dropped_shutdown`, `dropped_export_failed`
// or is still queued (`queue_length`), so
//   spans ended == exported + dropped (all reasons) + queued
// holds at every quiescent point (the tracer counts spans ended).
//
// Example:
//
//   auto options = tracebridge::BatchSpanProcessorOptions::FromEnvironment();
//   auto processor = tracebridge::BatchSpanProcessor::Create(
//       std::move(exporter), resource, *options);
//   tracebridge::Tracer tracer({"orders", sampler, processor->get()});
//   ...
//   (*processor)->Shutdown(absl::Seconds(5));

#ifndef TRACEBRIDGE_CORE_EXPORT_SPAN_PROCESSORS_H_
#define TRACEBRIDGE_CORE_EXPORT_SPAN_PROCESSORS_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tracebridge/core/export/span_exporter.h"
#include "tracebridge/core/trace/span_processor.h"
#include "tracebridge/core/util/sharded_counter.h"

namespace tracebridge {

// Counts for the span pipeline's self-metrics.
struct SpanProcessorStats {
  uint64_t exported = 0;
  uint64_t dropped_queue_full = 0;
  uint64_t dropped_shutdown = 0;
  uint64_t dropped_export_failed = 0;
  uint64_t export_calls = 0;
  uint64_t export_failures = 0;
  uint64_t queue_length = 0;
  uint64_t queue_capacity = 0;
};

class SimpleSpanProcessor final : public SpanProcessor {
 public:
  SimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter, Resource resource);

  void OnEnd(std::unique_ptr<SpanData> span) noexcept override;
  absl::Status ForceFlush(absl::Duration timeout) override;
  absl::Status Shutdown(absl::Duration timeout) override;
  SpanProcessorStats Stats() const;

 private:
  std::unique_ptr<SpanExporter> exporter_;
  const Resource resource_;
  mutable std::mutex mutex_;  // one export at a time
  bool shut_down_ = false;
  SpanProcessorStats stats_;
};

struct BatchSpanProcessorOptions {
  size_t max_queue_size = 2048;
  size_t max_export_batch_size = 512;
  absl::Duration schedule_delay = absl::Seconds(5);
  absl::Duration export_timeout = absl::Seconds(30);

  // The defaults overridden by OTEL_BSP_MAX_QUEUE_SIZE,
  // OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_SCHEDULE_DELAY and
  // OTEL_BSP_EXPORT_TIMEOUT (milliseconds) where set. An unparsable or
  // non-positive value is an InvalidArgument error naming the variable.
  static absl::StatusOr<BatchSpanProcessorOptions> FromEnvironment();
};

class BatchSpanProcessor final : public SpanProcessor {
 public:
  // Validates `options` (sizes positive, batch no larger than the queue,
  // positive durations) and starts the export thread.
  static absl::StatusOr<std::unique_ptr<BatchSpanProcessor>> Create(
      std::unique_ptr<SpanExporter> exporter, Resource resource,
      BatchSpanProcessorOptions options = {});

  // Shuts down (with the export timeout) if not done already, and joins the
  // export thread, which waits for an export in progress to return.
  ~BatchSpanProcessor() override;

  // Never blocks on export or I/O; drops and counts when the queue is full or
  // after Shutdown.
  void OnEnd(std::unique_ptr<SpanData> span) noexcept override;

  // Exports everything queued before the call. DeadlineExceeded when that
  // did not finish within `timeout` (the export goes on in the background).
  absl::Status ForceFlush(absl::Duration timeout) override;

  // Stops accepting spans, flushes within `timeout`, shuts the exporter down.
  absl::Status Shutdown(absl::Duration timeout) override;

  SpanProcessorStats Stats() const noexcept;

  const BatchSpanProcessorOptions& options() const noexcept { return options_; }

 private:
  // A bounded multi-producer queue of span pointers (Vyukov's sequenced
  // ring): push and pop are a few atomic operations, never a lock.
  class Ring {
   public:
    explicit Ring(size_t capacity);
    ~Ring();
    bool Push(SpanData* span) noexcept;
    SpanData* Pop() noexcept;  // nullptr when empty; single consumer
    // Approximate under concurrent pushes; exact when quiescent.
    size_t Size() const noexcept;
    size_t capacity() const noexcept { return cells_.size(); }

   private:
    struct alignas(64) Cell {
      std::atomic<size_t> sequence;
      SpanData* span;
    };
    std::vector<Cell> cells_;
    alignas(64) std::atomic<size_t> enqueue_position_{0};
    alignas(64) std::atomic<size_t> dequeue_position_{0};
  };

  BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter, Resource resource,
                     BatchSpanProcessorOptions options);
  void Run();
  // Pops up to `limit` spans in batches and exports them.
  void ExportQueued(size_t limit);
  // Deletes whatever is still queued, counting it as dropped at shutdown.
  void DropQueued() noexcept;
  void Wake() noexcept;

  std::unique_ptr<SpanExporter> exporter_;
  const Resource resource_;
  const BatchSpanProcessorOptions options_;
  Ring ring_;

  // Hot-path state: drops are rare, so plain sharded counters; the queue
  // length is read from the ring's positions, not counted separately.
  ShardedCounter dropped_queue_full_;
  ShardedCounter dropped_shutdown_;
  std::atomic<bool> accepting_{true};
  std::atomic<bool> wake_pending_{false};

  // Export-thread counters (one writer).
  std::atomic<uint64_t> exported_{0};
  std::atomic<uint64_t> dropped_export_failed_{0};
  std::atomic<uint64_t> export_calls_{0};
  std::atomic<uint64_t> export_failures_{0};

  // Wake-ups and flush bookkeeping. OnEnd takes `mutex_` only when the
  // queue reaches a full batch (once per batch), for a handful of
  // instructions, so the export thread cannot miss the wake-up.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  uint64_t flush_requested_ = 0;  // guarded by mutex_
  uint64_t flush_completed_ = 0;  // guarded by mutex_
  bool stop_ = false;             // guarded by mutex_
  bool shut_down_ = false;        // guarded by mutex_
  std::thread thread_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_EXPORT_SPAN_PROCESSORS_H_
