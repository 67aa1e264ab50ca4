// File: core/metric_reader.cc

#include "tracebridge/core/metric_reader.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tracebridge/core/util/env.h"

namespace tracebridge {
namespace {

// The wait left until `until`, never negative, for std::condition_variable.
std::chrono::nanoseconds Until(absl::Time until) {
  return absl::ToChronoNanoseconds(std::max(until - absl::Now(), absl::ZeroDuration()));
}

}  // namespace

absl::StatusOr<MetricReaderOptions> MetricReaderOptions::FromEnvironment() {
  MetricReaderOptions options;
  int64_t interval_ms = absl::ToInt64Milliseconds(options.interval);
  int64_t timeout_ms = absl::ToInt64Milliseconds(options.timeout);
  for (absl::Status status : {ReadPositiveEnv("OTEL_METRIC_EXPORT_INTERVAL", &interval_ms),
                              ReadPositiveEnv("OTEL_METRIC_EXPORT_TIMEOUT", &timeout_ms)}) {
    if (!status.ok()) return status;
  }
  options.interval = absl::Milliseconds(interval_ms);
  options.timeout = absl::Milliseconds(timeout_ms);
  return options;
}

absl::StatusOr<std::unique_ptr<PeriodicMetricReader>> PeriodicMetricReader::Create(
    const Registry& registry, Resource resource,
    std::vector<std::unique_ptr<MetricExporter>> exporters, MetricReaderOptions options) {
  if (options.interval <= absl::ZeroDuration() || options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "metric reader: the export interval and timeout must be positive");
  }
  if (exporters.empty()) return absl::InvalidArgumentError("metric reader: no exporter");
  for (const auto& exporter : exporters) {
    if (exporter == nullptr) return absl::InvalidArgumentError("metric reader: null exporter");
  }
  return std::unique_ptr<PeriodicMetricReader>(
      new PeriodicMetricReader(registry, std::move(resource), std::move(exporters), options));
}

PeriodicMetricReader::PeriodicMetricReader(const Registry& registry, Resource resource,
                                           std::vector<std::unique_ptr<MetricExporter>> exporters,
                                           MetricReaderOptions options)
    : registry_(registry),
      resource_(std::move(resource)),
      exporters_(std::move(exporters)),
      options_(options),
      thread_([this] { Run(); }) {}

PeriodicMetricReader::~PeriodicMetricReader() { Shutdown(absl::Seconds(5)).IgnoreError(); }

void PeriodicMetricReader::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  absl::Time next = absl::Now() + options_.interval;
  while (!stop_) {
    if (flushes_requested_ == flushes_done_) {
      changed_.wait_for(lock, Until(next),
                        [this] { return stop_ || flushes_requested_ != flushes_done_; });
      if (stop_) break;
      if (flushes_requested_ == flushes_done_ && absl::Now() < next) continue;
    }
    // Flushes requested from here on need a collection that starts later.
    const uint64_t covered = flushes_requested_;
    const absl::Time start = absl::Now();
    lock.unlock();
    absl::Status status = CollectAndExport(start + options_.timeout);
    lock.lock();
    flushes_done_ = covered;
    last_flush_status_ = std::move(status);
    changed_.notify_all();
    next = start + options_.interval;
  }
  // The last collection, for Shutdown.
  const absl::Time deadline = std::min(final_deadline_, absl::Now() + options_.timeout);
  lock.unlock();
  absl::Status status = CollectAndExport(deadline);
  lock.lock();
  flushes_done_ = flushes_requested_;
  last_flush_status_ = status;
  shutdown_status_ = std::move(status);
  finished_ = true;
  changed_.notify_all();
}

absl::Status PeriodicMetricReader::CollectAndExport(absl::Time deadline) {
  const MetricsSnapshot snapshot = registry_.Snapshot();
  collections_.fetch_add(1, std::memory_order_relaxed);
  absl::Status result;
  for (const auto& exporter : exporters_) {
    exports_.fetch_add(1, std::memory_order_relaxed);
    absl::Status status = exporter->Export(resource_, snapshot, deadline);
    if (status.ok()) continue;
    export_failures_.fetch_add(1, std::memory_order_relaxed);
    if (result.ok()) {
      result = absl::Status(status.code(), absl::StrCat(exporter->Name(), ": ", status.message()));
    }
  }
  return result;
}

absl::Status PeriodicMetricReader::ForceFlush(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::unique_lock<std::mutex> lock(mutex_);
  if (stop_) return absl::FailedPreconditionError("metric reader is shut down");
  const uint64_t ticket = ++flushes_requested_;
  changed_.notify_all();
  if (!changed_.wait_for(lock, Until(deadline), [&] { return flushes_done_ >= ticket; })) {
    return absl::DeadlineExceededError(
        absl::StrCat("metric flush did not finish within ", absl::FormatDuration(timeout)));
  }
  return last_flush_status_;
}

absl::Status PeriodicMetricReader::Shutdown(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shut_down_) return absl::OkStatus();
    shut_down_ = true;
    stop_ = true;
    final_deadline_ = deadline;
    changed_.notify_all();
  }
  bool cancelled = false;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!changed_.wait_for(lock, Until(deadline), [this] { return finished_; })) {
      // An export is overrunning the bound: cancel it (Shutdown does).
      lock.unlock();
      for (const auto& exporter : exporters_) {
        exporter->Shutdown(absl::ZeroDuration()).IgnoreError();
      }
      cancelled = true;
    }
  }
  thread_.join();
  absl::Status result;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    result = shutdown_status_;
  }
  if (!cancelled) {
    for (const auto& exporter : exporters_) {
      absl::Status status =
          exporter->Shutdown(std::max(deadline - absl::Now(), absl::ZeroDuration()));
      if (!status.ok() && result.ok()) result = status;
    }
  }
  return result;
}

MetricReaderStats PeriodicMetricReader::Stats() const noexcept {
  MetricReaderStats stats;
  stats.collections = collections_.load(std::memory_order_relaxed);
  stats.exports = exports_.load(std::memory_order_relaxed);
  stats.export_failures = export_failures_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace tracebridge
