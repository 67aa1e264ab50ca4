// File: tests/testing/fake_exporter.h
//
// A `SpanExporter` for tests: records every batch, can be stalled (Export
// blocks until released or its deadline passes) and can be told to fail.
// All waits are condition waits with deadlines. Its lock is a std::mutex, as
// everywhere in tracebridge (ThreadSanitizer cannot see Debian's Abseil's).

#ifndef TRACEBRIDGE_TESTS_TESTING_FAKE_EXPORTER_H_
#define TRACEBRIDGE_TESTS_TESTING_FAKE_EXPORTER_H_

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tracebridge/core/export/span_exporter.h"

namespace tracebridge {
namespace testing {

class FakeExporter final : public SpanExporter {
 public:
  // Shared state, so a test keeps a handle after handing the exporter over.
  struct State {
    mutable std::mutex mutex;
    // Signalled on every change of the fields below.
    mutable std::condition_variable changed;
    bool stalled ABSL_GUARDED_BY(mutex) = false;
    bool in_export ABSL_GUARDED_BY(mutex) = false;
    absl::Status next_status ABSL_GUARDED_BY(mutex);
    std::vector<std::string> names ABSL_GUARDED_BY(mutex);
    std::vector<size_t> batch_sizes ABSL_GUARDED_BY(mutex);
    std::string service_name ABSL_GUARDED_BY(mutex);
    int shutdown_calls ABSL_GUARDED_BY(mutex) = 0;

    void Stall() {
      std::lock_guard<std::mutex> lock(mutex);
      stalled = true;
      changed.notify_all();
    }
    void Release() {
      std::lock_guard<std::mutex> lock(mutex);
      stalled = false;
      changed.notify_all();
    }
    void FailWith(absl::Status status) {
      std::lock_guard<std::mutex> lock(mutex);
      next_status = std::move(status);
    }
    size_t exported() const {
      std::lock_guard<std::mutex> lock(mutex);
      return names.size();
    }
    // Waits until an Export call is blocked in the stall.
    bool WaitUntilStuck(absl::Duration timeout = absl::Seconds(10)) const {
      std::unique_lock<std::mutex> lock(mutex);
      return changed.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                              [this] { return in_export && stalled; });
    }
    bool WaitForExported(size_t count, absl::Duration timeout = absl::Seconds(10)) const {
      std::unique_lock<std::mutex> lock(mutex);
      return changed.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                              [&] { return names.size() >= count; });
    }
  };

  FakeExporter() : state_(std::make_shared<State>()) {}
  std::shared_ptr<State> state() const { return state_; }

  absl::string_view Name() const noexcept override { return "fake"; }

  absl::Status Export(const Resource& resource, absl::Span<const std::unique_ptr<SpanData>> spans,
                      absl::Time deadline) override {
    State& s = *state_;
    std::unique_lock<std::mutex> lock(s.mutex);
    s.in_export = true;
    s.changed.notify_all();
    // A stalled backend: blocks until released or the export deadline.
    const bool released = s.changed.wait_for(
        lock, absl::ToChronoNanoseconds(std::max(deadline - absl::Now(), absl::ZeroDuration())),
        [&s] { return !s.stalled; });
    s.in_export = false;
    if (!released) return absl::DeadlineExceededError("stalled");
    if (!s.next_status.ok()) return s.next_status;
    s.service_name = resource.service_name;
    s.batch_sizes.push_back(spans.size());
    for (const auto& span : spans) s.names.push_back(span->name);
    s.changed.notify_all();
    return absl::OkStatus();
  }

  absl::Status Shutdown(absl::Duration) override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    ++state_->shutdown_calls;
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<State> state_;
};

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_FAKE_EXPORTER_H_
