// File: tests/testing/collecting_processor.h
//
// A span processor for tests that keeps every ended span and lets a test wait,
// with a deadline, until a condition over them holds.

#ifndef TRACEBRIDGE_TESTS_TESTING_COLLECTING_PROCESSOR_H_
#define TRACEBRIDGE_TESTS_TESTING_COLLECTING_PROCESSOR_H_

#include <functional>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/span_processor.h"

namespace tracebridge {
namespace testing {

class CollectingProcessor final : public SpanProcessor {
 public:
  void OnEnd(std::unique_ptr<SpanData> span) noexcept override {
    absl::MutexLock lock(&mutex_);
    spans_.push_back(std::move(span));
  }
  absl::Status ForceFlush(absl::Duration) override { return absl::OkStatus(); }
  absl::Status Shutdown(absl::Duration) override { return absl::OkStatus(); }

  // A copy of every span received so far.
  std::vector<SpanData> Spans() const {
    absl::MutexLock lock(&mutex_);
    std::vector<SpanData> copy;
    for (const auto& span : spans_) copy.push_back(*span);
    return copy;
  }

  size_t size() const {
    absl::MutexLock lock(&mutex_);
    return spans_.size();
  }

  // Waits until at least `count` spans arrived; false on timeout.
  bool WaitForCount(size_t count, absl::Duration timeout = absl::Seconds(10)) const {
    absl::MutexLock lock(&mutex_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return spans_.size() >= count; };
    return mutex_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

 private:
  mutable absl::Mutex mutex_;
  std::vector<std::unique_ptr<SpanData>> spans_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_COLLECTING_PROCESSOR_H_
