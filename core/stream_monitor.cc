#include "tracebridge/core/stream_monitor.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tracebridge/core/trace/clock.h"
#include "tracebridge/core/util/env.h"

namespace tracebridge {

absl::StatusOr<StreamProgressOptions> StreamProgressOptions::FromEnvironment() {
  StreamProgressOptions options;
  int64_t messages = 0;
  int64_t interval_ms = 0;
  for (absl::Status status :
       {ReadPositiveEnv("TRACEBRIDGE_STREAM_PROGRESS_MESSAGES", &messages),
        ReadPositiveEnv("TRACEBRIDGE_STREAM_PROGRESS_INTERVAL_MS", &interval_ms)}) {
    if (!status.ok()) return status;
  }
  if (messages > int64_t{UINT32_MAX}) {
    return absl::InvalidArgumentError(
        "TRACEBRIDGE_STREAM_PROGRESS_MESSAGES: at most 4294967295 messages");
  }
  options.every_messages = static_cast<uint32_t>(messages);
  options.interval = absl::Milliseconds(interval_ms);
  if (absl::Status status = ReadBoolEnv("TRACEBRIDGE_STREAM_PROGRESS_SPANS", &options.child_spans);
      !status.ok()) {
    return status;
  }
  return options;
}

// ---- StreamWatch ----

StreamWatch::StreamWatch(StreamMonitor* monitor, Side side, absl::string_view method,
                         const Span& span)
    : monitor_(monitor),
      side_(side),
      method_(method),
      span_name_(span.data() != nullptr ? span.data()->name : std::string(method)),
      span_context_(span.context()),
      recording_(span.IsRecording()),
      start_monotonic_nanos_(MonotonicNanosNow()),
      start_unix_nanos_(UnixNanosAt(start_monotonic_nanos_)) {
  std::lock_guard<std::mutex> lock(mutex_);
  last_.monotonic_nanos = start_monotonic_nanos_;
}

void StreamWatch::OnMessage(bool sent, size_t bytes) noexcept {
  if (sent) {
    sent_.fetch_add(1, std::memory_order_relaxed);
    bytes_sent_.fetch_add(bytes, std::memory_order_relaxed);
  } else {
    received_.fetch_add(1, std::memory_order_relaxed);
    bytes_received_.fetch_add(bytes, std::memory_order_relaxed);
  }
  // Exactly one thread passes each multiple of N.
  const uint32_t every = monitor_->options_.every_messages;
  const uint64_t count = messages_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (every != 0 && count % every == 0) Record(Trigger::kMessages);
}

void StreamWatch::Record(Trigger trigger) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  if (ended_) return;
  Progress progress;
  progress.monotonic_nanos = MonotonicNanosNow();
  progress.trigger = trigger;
  progress.sent = sent_.load(std::memory_order_relaxed);
  progress.received = received_.load(std::memory_order_relaxed);
  progress.bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
  progress.bytes_received = bytes_received_.load(std::memory_order_relaxed);
  progress.delta_sent = progress.sent - last_.sent;
  progress.delta_received = progress.received - last_.received;
  progress.delta_bytes_sent = progress.bytes_sent - last_.bytes_sent;
  progress.delta_bytes_received = progress.bytes_received - last_.bytes_received;
  last_ = progress;
  const uint64_t sequence = events_.fetch_add(1, std::memory_order_relaxed) + 1;
  monitor_->progress_events_.fetch_add(1, std::memory_order_relaxed);
  if (recording_) {
    // The span cannot hold more than its event limit: count the rest now.
    if (pending_.size() < monitor_->max_span_events_) {
      pending_.push_back(progress);
    } else {
      ++dropped_;
    }
  }
  if (monitor_->options_.child_spans && span_context_.IsValid()) {
    // Under the watch's lock, so no child starts after End returns.
    StartSpanOptions options;
    options.kind = SpanKind::kInternal;
    options.parent_choice = ParentChoice::kExplicit;
    options.parent = span_context_;
    Span child = monitor_->tracer_.StartSpan(absl::StrCat(span_name_, " progress"), options);
    if (child.IsRecording()) {
      for (const Attribute& attribute : Attributes(progress, sequence)) {
        absl::visit([&](const auto& value) { child.SetAttribute(attribute.key, value); },
                    attribute.value);
      }
    }
  }
}

std::vector<Attribute> StreamWatch::Attributes(const Progress& p, uint64_t sequence) {
  auto i = [](uint64_t v) { return static_cast<int64_t>(v); };
  return {
      Attribute{"rpc.stream.progress.sequence", i(sequence)},
      Attribute{"rpc.stream.progress.trigger",
                std::string(p.trigger == Trigger::kInterval ? "interval" : "messages")},
      Attribute{"rpc.stream.messages_sent", i(p.sent)},
      Attribute{"rpc.stream.messages_received", i(p.received)},
      Attribute{"rpc.stream.bytes_sent", i(p.bytes_sent)},
      Attribute{"rpc.stream.bytes_received", i(p.bytes_received)},
      Attribute{"rpc.stream.messages_sent.delta", i(p.delta_sent)},
      Attribute{"rpc.stream.messages_received.delta", i(p.delta_received)},
      Attribute{"rpc.stream.bytes_sent.delta", i(p.delta_bytes_sent)},
      Attribute{"rpc.stream.bytes_received.delta", i(p.delta_bytes_received)},
  };
}

void StreamWatch::End(Span* span) noexcept {
  std::vector<Progress> pending;
  uint32_t dropped = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ended_) return;
    ended_ = true;
    pending.swap(pending_);
    dropped = dropped_;
  }
  monitor_->Unwatch(this);
  if (span == nullptr) return;
  // Every event of a recording stream is pending or dropped until now.
  uint64_t sequence = 0;
  for (const Progress& progress : pending) {
    span->AddEventAt(progress.monotonic_nanos, kStreamProgressEvent,
                     Attributes(progress, ++sequence));
  }
  if (dropped != 0) span->CountDroppedEvents(dropped);
}

// ---- StreamMonitor ----

StreamMonitor::StreamMonitor(Tracer& tracer, StreamProgressOptions options,
                             uint32_t max_span_events)
    : tracer_(tracer),
      options_(options),
      enabled_(options.enabled()),
      interval_nanos_(absl::ToInt64Nanoseconds(std::max(options.interval, absl::ZeroDuration()))),
      max_span_events_(max_span_events) {
  if (interval_nanos_ > 0) timer_ = std::thread([this] { Run(); });
}

StreamMonitor::~StreamMonitor() { Stop(); }

void StreamMonitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (timer_.joinable() && timer_.get_id() != std::this_thread::get_id()) timer_.join();
}

std::shared_ptr<StreamWatch> StreamMonitor::Watch(Side side, absl::string_view method,
                                                  const Span& span) {
  if (!enabled_) return nullptr;
  std::shared_ptr<StreamWatch> watch(new StreamWatch(this, side, method, span));
  bool first = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (entries_.size() >= options_.max_streams) {
      unwatched_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    first = entries_.empty();
    entries_.emplace(watch.get(), Entry{watch, watch->start_monotonic_nanos_ + interval_nanos_});
  }
  // An idle timer waits without a deadline; give it one.
  if (first && interval_nanos_ > 0) wake_.notify_all();
  return watch;
}

void StreamMonitor::Unwatch(StreamWatch* watch) {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.erase(watch);
}

void StreamMonitor::Run() {
  std::vector<std::shared_ptr<StreamWatch>> due;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    const int64_t now = MonotonicNanosNow();
    int64_t next = INT64_MAX;
    for (auto& [key, entry] : entries_) {
      if (entry.next_due_monotonic_nanos <= now) {
        due.push_back(entry.watch);
        // A timer that fell behind skips the intervals it missed.
        const int64_t behind = now - entry.next_due_monotonic_nanos;
        entry.next_due_monotonic_nanos += (behind / interval_nanos_ + 1) * interval_nanos_;
      }
      next = std::min(next, entry.next_due_monotonic_nanos);
    }
    if (!due.empty()) {
      // Outside the monitor's lock: streams start and end meanwhile.
      lock.unlock();
      for (const auto& watch : due) watch->Record(StreamWatch::Trigger::kInterval);
      due.clear();
      lock.lock();
      continue;
    }
    if (next == INT64_MAX) {
      wake_.wait(lock);
    } else {
      wake_.wait_for(lock, std::chrono::nanoseconds(next - now));
    }
  }
}

std::vector<InFlightStream> StreamMonitor::InFlight(size_t max) const {
  std::vector<InFlightStream> streams;
  const int64_t now = MonotonicNanosNow();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    streams.reserve(entries_.size());
    for (const auto& [key, entry] : entries_) {
      const StreamWatch& watch = *entry.watch;
      InFlightStream stream;
      stream.side = watch.side_;
      stream.method = watch.method_;
      stream.start_unix_nanos = watch.start_unix_nanos_;
      stream.age_nanos = now - watch.start_monotonic_nanos_;
      stream.messages_sent = watch.sent_.load(std::memory_order_relaxed);
      stream.messages_received = watch.received_.load(std::memory_order_relaxed);
      stream.bytes_sent = watch.bytes_sent_.load(std::memory_order_relaxed);
      stream.bytes_received = watch.bytes_received_.load(std::memory_order_relaxed);
      stream.progress_events = watch.events_.load(std::memory_order_relaxed);
      stream.span_context = watch.span_context_;
      streams.push_back(std::move(stream));
    }
  }
  std::sort(streams.begin(), streams.end(), [](const InFlightStream& a, const InFlightStream& b) {
    return a.age_nanos > b.age_nanos;
  });
  if (streams.size() > max) streams.resize(max);
  return streams;
}

StreamMonitorStats StreamMonitor::Stats() const {
  StreamMonitorStats stats;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats.watched = entries_.size();
  }
  stats.unwatched = unwatched_.load(std::memory_order_relaxed);
  stats.progress_events = progress_events_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace tracebridge
