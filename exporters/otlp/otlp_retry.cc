#include "tracebridge/exporters/otlp/otlp_retry.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/random/distributions.h"
#include "absl/strings/str_cat.h"

namespace tracebridge {

OtlpExportRunner::OtlpExportRunner(OtlpRetryPolicy policy, RetryCallback on_retry)
    : policy_(policy), on_retry_(std::move(on_retry)) {}

absl::Status OtlpExportRunner::Export(absl::string_view destination, size_t items, absl::Time end,
                                      absl::FunctionRef<absl::Status()> prepare,
                                      absl::FunctionRef<OtlpAttempt(absl::Time end)> attempt) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shutdown_) {
      return Fail(items, absl::FailedPreconditionError("OTLP exporter is shut down"));
    }
    exporting_ = true;
  }
  absl::Cleanup done = [this] {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      exporting_ = false;
    }
    changed_.notify_all();
  };
  if (items == 0) return absl::OkStatus();
  if (absl::Status prepared = prepare(); !prepared.ok()) {
    return Fail(items, absl::Status(prepared.code(), absl::StrCat("OTLP export to ", destination,
                                                                  ": ", prepared.message())));
  }

  absl::Status last;
  absl::string_view gave_up;
  int attempts = 0;
  for (;;) {
    ++attempts;
    OtlpAttempt result = attempt(end);
    if (result.status.ok()) {
      batches_exported_.fetch_add(1, std::memory_order_relaxed);
      items_exported_.fetch_add(items, std::memory_order_relaxed);
      if (result.rejected > 0 || !result.partial_message.empty()) {
        items_rejected_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(result.rejected, 0)),
                                  std::memory_order_relaxed);
        std::lock_guard<std::mutex> lock(mutex_);
        last_partial_message_ = std::move(result.partial_message);
      }
      return absl::OkStatus();
    }
    last = std::move(result.status);
    if (!result.retryable) break;
    if (attempts >= policy_.max_attempts) {
      gave_up = " (retries exhausted)";
      break;
    }
    const absl::Duration wait = result.server_delay ? *result.server_delay : Backoff(attempts);
    const absl::Time retry_at = absl::Now() + wait;
    if (retry_at >= end) {
      gave_up = " (no time left before the export deadline)";
      break;
    }
    if (on_retry_) on_retry_(last, wait);
    if (!WaitForRetry(retry_at)) {
      gave_up = " (exporter shut down)";
      break;
    }
    retries_.fetch_add(1, std::memory_order_relaxed);
  }
  return Fail(
      items, absl::Status(last.code(),
                          absl::StrCat("OTLP export to ", destination, " failed after ", attempts,
                                       attempts == 1 ? " attempt: " : " attempts: ", last.message(),
                                       gave_up)));
}

absl::Status OtlpExportRunner::Fail(size_t items, absl::Status status) {
  batches_failed_.fetch_add(1, std::memory_order_relaxed);
  items_failed_.fetch_add(items, std::memory_order_relaxed);
  return status;
}

bool OtlpExportRunner::BeginCall(std::function<void()> cancel) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (shutdown_) return false;
  cancel_ = std::move(cancel);
  return true;
}

void OtlpExportRunner::EndCall() {
  std::lock_guard<std::mutex> lock(mutex_);
  cancel_ = nullptr;
}

absl::Duration OtlpExportRunner::Backoff(int retry) {
  const double scale = std::pow(policy_.backoff_multiplier, retry - 1);
  const absl::Duration cap = std::min(policy_.max_backoff, policy_.initial_backoff * scale);
  const int64_t cap_ns = absl::ToInt64Nanoseconds(cap);
  if (cap_ns <= 0) return absl::ZeroDuration();
  return absl::Nanoseconds(absl::Uniform<int64_t>(absl::IntervalClosed, bitgen_, 0, cap_ns));
}

bool OtlpExportRunner::WaitForRetry(absl::Time until) {
  std::unique_lock<std::mutex> lock(mutex_);
  // A relative wait on the steady clock: a wall-clock step neither cuts the
  // backoff short nor stretches it.
  changed_.wait_for(lock,
                    absl::ToChronoNanoseconds(std::max(until - absl::Now(), absl::ZeroDuration())),
                    [this] { return shutdown_; });
  return !shutdown_;
}

absl::Status OtlpExportRunner::Shutdown(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  shutdown_ = true;
  if (cancel_) cancel_();
  changed_.notify_all();
  if (!changed_.wait_for(lock, absl::ToChronoNanoseconds(std::max(timeout, absl::ZeroDuration())),
                         [this] { return !exporting_; })) {
    return absl::DeadlineExceededError("OTLP export still running at the end of Shutdown");
  }
  return absl::OkStatus();
}

OtlpExportCounts OtlpExportRunner::Counts() const noexcept {
  OtlpExportCounts counts;
  counts.batches_exported = batches_exported_.load(std::memory_order_relaxed);
  counts.items_exported = items_exported_.load(std::memory_order_relaxed);
  counts.batches_failed = batches_failed_.load(std::memory_order_relaxed);
  counts.items_failed = items_failed_.load(std::memory_order_relaxed);
  counts.retries = retries_.load(std::memory_order_relaxed);
  counts.items_rejected = items_rejected_.load(std::memory_order_relaxed);
  return counts;
}

std::string OtlpExportRunner::last_partial_success_message() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_partial_message_;
}

}  // namespace tracebridge
