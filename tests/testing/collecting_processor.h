// File: tests/testing/collecting_processor.h
//
// A span processor for tests that keeps every ended span and lets a test wait,
// with a deadline, until a condition over them holds.

#ifndef TRACEBRIDGE_TESTS_TESTING_COLLECTING_PROCESSOR_H_
#define TRACEBRIDGE_TESTS_TESTING_COLLECTING_PROCESSOR_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "tracebridge/core/trace/span_processor.h"

namespace tracebridge {
namespace testing {

class CollectingProcessor final : public SpanProcessor {
 public:
  void OnEnd(std::unique_ptr<SpanData> span) noexcept override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      spans_.push_back(std::move(span));
    }
    added_.notify_all();
  }
  absl::Status ForceFlush(absl::Duration) override { return absl::OkStatus(); }
  absl::Status Shutdown(absl::Duration) override { return absl::OkStatus(); }

  // A copy of every span received so far.
  std::vector<SpanData> Spans() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<SpanData> copy;
    for (const auto& span : spans_) copy.push_back(*span);
    return copy;
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return spans_.size();
  }

  // Waits until at least `count` spans arrived; false on timeout.
  bool WaitForCount(size_t count, absl::Duration timeout = absl::Seconds(10)) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return added_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                           [&] { return spans_.size() >= count; });
  }

 private:
  // std::mutex: ThreadSanitizer cannot see Debian's Abseil's absl::Mutex.
  mutable std::mutex mutex_;
  mutable std::condition_variable added_;
  std::vector<std::unique_ptr<SpanData>> spans_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_COLLECTING_PROCESSOR_H_
