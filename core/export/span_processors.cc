#include "tracebridge/core/export/span_processors.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tracebridge/core/util/env.h"

namespace tracebridge {

// ---- SimpleSpanProcessor ----

SimpleSpanProcessor::SimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter, Resource resource)
    : exporter_(std::move(exporter)), resource_(std::move(resource)) {}

void SimpleSpanProcessor::OnEnd(std::unique_ptr<SpanData> span) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  if (shut_down_) {
    ++stats_.dropped_shutdown;
    internal::RecycleSpanData(std::move(span));
    return;
  }
  ++stats_.export_calls;
  absl::Status status =
      exporter_->Export(resource_, absl::MakeConstSpan(&span, 1), absl::Now() + absl::Seconds(30));
  if (status.ok()) {
    ++stats_.exported;
  } else {
    ++stats_.export_failures;
    ++stats_.dropped_export_failed;
  }
  internal::RecycleSpanData(std::move(span));
}

absl::Status SimpleSpanProcessor::ForceFlush(absl::Duration timeout) {
  std::lock_guard<std::mutex> lock(mutex_);
  return exporter_->ForceFlush(timeout);
}

absl::Status SimpleSpanProcessor::Shutdown(absl::Duration timeout) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (shut_down_) return absl::OkStatus();
  shut_down_ = true;
  return exporter_->Shutdown(timeout);
}

SpanProcessorStats SimpleSpanProcessor::Stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

// ---- BatchSpanProcessor::Ring ----

BatchSpanProcessor::Ring::Ring(size_t capacity) : cells_(capacity) {
  for (size_t i = 0; i < capacity; ++i) {
    cells_[i].sequence.store(i, std::memory_order_relaxed);
    cells_[i].span = nullptr;
  }
}

BatchSpanProcessor::Ring::~Ring() {
  while (SpanData* span = Pop()) internal::RecycleSpanData(std::unique_ptr<SpanData>(span));
}

bool BatchSpanProcessor::Ring::Push(SpanData* span) noexcept {
  const size_t capacity = cells_.size();
  size_t position = enqueue_position_.load(std::memory_order_relaxed);
  Cell* cell;
  for (;;) {
    cell = &cells_[position % capacity];
    const size_t sequence = cell->sequence.load(std::memory_order_acquire);
    const intptr_t difference = static_cast<intptr_t>(sequence) - static_cast<intptr_t>(position);
    if (difference == 0) {
      if (enqueue_position_.compare_exchange_weak(position, position + 1,
                                                  std::memory_order_relaxed)) {
        break;
      }
    } else if (difference < 0) {
      return false;  // full
    } else {
      position = enqueue_position_.load(std::memory_order_relaxed);
    }
  }
  cell->span = span;
  cell->sequence.store(position + 1, std::memory_order_release);
  return true;
}

SpanData* BatchSpanProcessor::Ring::Pop() noexcept {
  const size_t position = dequeue_position_.load(std::memory_order_relaxed);
  Cell& cell = cells_[position % cells_.size()];
  const size_t sequence = cell.sequence.load(std::memory_order_acquire);
  if (sequence != position + 1) return nullptr;  // empty (or a push in progress)
  dequeue_position_.store(position + 1, std::memory_order_relaxed);
  SpanData* span = cell.span;
  cell.sequence.store(position + cells_.size(), std::memory_order_release);
  return span;
}

size_t BatchSpanProcessor::Ring::Size() const noexcept {
  const size_t dequeued = dequeue_position_.load(std::memory_order_relaxed);
  const size_t enqueued = enqueue_position_.load(std::memory_order_relaxed);
  return enqueued > dequeued ? enqueued - dequeued : 0;
}

// ---- BatchSpanProcessor ----

absl::StatusOr<BatchSpanProcessorOptions> BatchSpanProcessorOptions::FromEnvironment() {
  BatchSpanProcessorOptions options;
  int64_t queue = static_cast<int64_t>(options.max_queue_size);
  int64_t batch = static_cast<int64_t>(options.max_export_batch_size);
  int64_t delay_ms = absl::ToInt64Milliseconds(options.schedule_delay);
  int64_t timeout_ms = absl::ToInt64Milliseconds(options.export_timeout);
  for (absl::Status status : {ReadPositiveEnv("OTEL_BSP_MAX_QUEUE_SIZE", &queue),
                              ReadPositiveEnv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", &batch),
                              ReadPositiveEnv("OTEL_BSP_SCHEDULE_DELAY", &delay_ms),
                              ReadPositiveEnv("OTEL_BSP_EXPORT_TIMEOUT", &timeout_ms)}) {
    if (!status.ok()) return status;
  }
  options.max_queue_size = static_cast<size_t>(queue);
  options.max_export_batch_size = static_cast<size_t>(batch);
  options.schedule_delay = absl::Milliseconds(delay_ms);
  options.export_timeout = absl::Milliseconds(timeout_ms);
  return options;
}

absl::StatusOr<std::unique_ptr<BatchSpanProcessor>> BatchSpanProcessor::Create(
    std::unique_ptr<SpanExporter> exporter, Resource resource, BatchSpanProcessorOptions options) {
  if (exporter == nullptr) return absl::InvalidArgumentError("BatchSpanProcessor: no exporter");
  if (options.max_queue_size == 0 || options.max_queue_size > (size_t{1} << 24)) {
    return absl::InvalidArgumentError("BatchSpanProcessor: max_queue_size must be in [1, 2^24]");
  }
  if (options.max_export_batch_size == 0 ||
      options.max_export_batch_size > options.max_queue_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("BatchSpanProcessor: max_export_batch_size (", options.max_export_batch_size,
                     ") must be in [1, max_queue_size (", options.max_queue_size, ")]"));
  }
  if (options.schedule_delay <= absl::ZeroDuration() ||
      options.export_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "BatchSpanProcessor: schedule_delay and export_timeout must be positive");
  }
  return std::unique_ptr<BatchSpanProcessor>(
      new BatchSpanProcessor(std::move(exporter), std::move(resource), options));
}

BatchSpanProcessor::BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter, Resource resource,
                                       BatchSpanProcessorOptions options)
    : exporter_(std::move(exporter)),
      resource_(std::move(resource)),
      options_(options),
      ring_(options.max_queue_size),
      thread_([this] { Run(); }) {}

BatchSpanProcessor::~BatchSpanProcessor() {
  Shutdown(options_.export_timeout).IgnoreError();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  DropQueued();
}

void BatchSpanProcessor::OnEnd(std::unique_ptr<SpanData> span) noexcept {
  if (!accepting_.load(std::memory_order_acquire)) {
    dropped_shutdown_.Add();
    internal::RecycleSpanData(std::move(span));
    return;
  }
  if (!ring_.Push(span.get())) {
    dropped_queue_full_.Add();
    internal::RecycleSpanData(std::move(span));
    return;
  }
  span.release();
  // A full batch wakes the export thread, once per batch. This exchange and
  // Run's are read-modify-writes of one flag, so they are ordered: either
  // Run re-armed the flag first and this call sees `false` and wakes it, or
  // this call came first and Run's exchange, reading what it wrote, makes
  // this span visible to Run's size check.
  if (ring_.Size() >= options_.max_export_batch_size &&
      !wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    Wake();
  }
}

void BatchSpanProcessor::Wake() noexcept {
  // Taking the mutex orders this wake-up after the export thread's predicate
  // check, so it cannot be lost; the export thread holds it only briefly.
  { std::lock_guard<std::mutex> lock(mutex_); }
  wake_.notify_one();
}

void BatchSpanProcessor::Run() {
  for (;;) {
    uint64_t flush_target;
    bool stopping;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // A year at most, so that a very long delay cannot overflow the clock.
      const auto deadline =
          std::chrono::steady_clock::now() +
          absl::ToChronoNanoseconds(std::min(options_.schedule_delay, absl::Hours(24 * 365)));
      for (;;) {
        // Re-arm the wake-up before every look at the queue (see OnEnd).
        // Re-arming after the export lost wake-ups: a span pushed during the
        // export set the flag, and when the export left fewer than a batch no
        // later span woke this thread. Re-arming only once per export lost
        // them too: a producer whose size reading ran ahead of an export
        // (a stale read of the dequeue position) set the flag and woke this
        // thread, which found less than a batch and slept again with the
        // flag still set, so the next full batch woke nobody.
        wake_pending_.exchange(false, std::memory_order_acq_rel);
        if (stop_ || flush_requested_ > flush_completed_ ||
            ring_.Size() >= options_.max_export_batch_size) {
          break;
        }
        if (wake_.wait_until(lock, deadline) == std::cv_status::timeout) break;
      }
      flush_target = flush_requested_;
      stopping = stop_;
    }
    // Everything queued now, and no more, so a steady stream cannot keep
    // this loop from answering flushes.
    ExportQueued(ring_.Size());
    {
      std::lock_guard<std::mutex> lock(mutex_);
      flush_completed_ = flush_target;
    }
    flushed_.notify_all();
    if (stopping) return;
  }
}

void BatchSpanProcessor::ExportQueued(size_t limit) {
  std::vector<std::unique_ptr<SpanData>> batch;
  batch.reserve(std::min(limit, options_.max_export_batch_size));
  while (limit > 0) {
    batch.clear();
    while (batch.size() < options_.max_export_batch_size && limit > 0) {
      SpanData* span = ring_.Pop();
      if (span == nullptr) break;
      batch.emplace_back(span);
      --limit;
    }
    if (batch.empty()) return;
    export_calls_.fetch_add(1, std::memory_order_relaxed);
    absl::Status status =
        exporter_->Export(resource_, batch, absl::Now() + options_.export_timeout);
    if (status.ok()) {
      exported_.fetch_add(batch.size(), std::memory_order_relaxed);
    } else {
      export_failures_.fetch_add(1, std::memory_order_relaxed);
      dropped_export_failed_.fetch_add(batch.size(), std::memory_order_relaxed);
    }
    // Back to the tracers' free list (span_data.h), not to the allocator.
    for (std::unique_ptr<SpanData>& span : batch) internal::RecycleSpanData(std::move(span));
  }
}

void BatchSpanProcessor::DropQueued() noexcept {
  while (SpanData* span = ring_.Pop()) {
    internal::RecycleSpanData(std::unique_ptr<SpanData>(span));
    dropped_shutdown_.Add();
  }
}

absl::Status BatchSpanProcessor::ForceFlush(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (stop_) return absl::OkStatus();
  const uint64_t ticket = ++flush_requested_;
  wake_.notify_one();
  const bool done = flushed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                                      [&] { return flush_completed_ >= ticket || stop_; });
  if (!done) {
    return absl::DeadlineExceededError(
        absl::StrCat("span flush did not finish within ", absl::FormatDuration(timeout)));
  }
  return absl::OkStatus();
}

absl::Status BatchSpanProcessor::Shutdown(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shut_down_) return absl::OkStatus();
    shut_down_ = true;
  }
  accepting_.store(false, std::memory_order_release);
  absl::Status flushed = ForceFlush(timeout);
  absl::Status exporter =
      exporter_->Shutdown(std::max(deadline - absl::Now(), absl::ZeroDuration()));
  if (flushed.ok()) {
    // Stop the thread now; spans that raced past `accepting_` are counted
    // as dropped for the shutdown.
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    DropQueued();
  }
  return flushed.ok() ? exporter : flushed;
}

SpanProcessorStats BatchSpanProcessor::Stats() const noexcept {
  SpanProcessorStats stats;
  stats.exported = exported_.load(std::memory_order_relaxed);
  stats.dropped_queue_full = dropped_queue_full_.Value();
  stats.dropped_shutdown = dropped_shutdown_.Value();
  stats.dropped_export_failed = dropped_export_failed_.load(std::memory_order_relaxed);
  stats.export_calls = export_calls_.load(std::memory_order_relaxed);
  stats.export_failures = export_failures_.load(std::memory_order_relaxed);
  stats.queue_length = ring_.Size();
  stats.queue_capacity = ring_.capacity();
  return stats;
}

}  // namespace tracebridge
