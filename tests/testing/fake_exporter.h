// File: tests/testing/fake_exporter.h
//
// A `SpanExporter` for tests: records every batch, can be stalled (Export
// blocks until released or its deadline passes) and can be told to fail.
// All waits are condition waits with deadlines.

#ifndef TRACEBRIDGE_TESTS_TESTING_FAKE_EXPORTER_H_
#define TRACEBRIDGE_TESTS_TESTING_FAKE_EXPORTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/span_exporter.h"

namespace tracebridge {
namespace testing {

class FakeExporter final : public SpanExporter {
 public:
  // Shared state, so a test keeps a handle after handing the exporter over.
  struct State {
    mutable absl::Mutex mutex;
    bool stalled ABSL_GUARDED_BY(mutex) = false;
    bool in_export ABSL_GUARDED_BY(mutex) = false;
    absl::Status next_status ABSL_GUARDED_BY(mutex);
    std::vector<std::string> names ABSL_GUARDED_BY(mutex);
    std::vector<size_t> batch_sizes ABSL_GUARDED_BY(mutex);
    std::string service_name ABSL_GUARDED_BY(mutex);
    int shutdown_calls ABSL_GUARDED_BY(mutex) = 0;

    void Stall() {
      absl::MutexLock lock(&mutex);
      stalled = true;
    }
    void Release() {
      absl::MutexLock lock(&mutex);
      stalled = false;
    }
    void FailWith(absl::Status status) {
      absl::MutexLock lock(&mutex);
      next_status = std::move(status);
    }
    size_t exported() const {
      absl::MutexLock lock(&mutex);
      return names.size();
    }
    // Waits until an Export call is blocked in the stall.
    bool WaitUntilStuck(absl::Duration timeout = absl::Seconds(10)) const {
      absl::MutexLock lock(&mutex);
      auto stuck = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) { return in_export && stalled; };
      return mutex.AwaitWithTimeout(absl::Condition(&stuck), timeout);
    }
    bool WaitForExported(size_t count, absl::Duration timeout = absl::Seconds(10)) const {
      absl::MutexLock lock(&mutex);
      auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) { return names.size() >= count; };
      return mutex.AwaitWithTimeout(absl::Condition(&enough), timeout);
    }
  };

  FakeExporter() : state_(std::make_shared<State>()) {}
  std::shared_ptr<State> state() const { return state_; }

  absl::string_view Name() const noexcept override { return "fake"; }

  absl::Status Export(const Resource& resource, absl::Span<const std::unique_ptr<SpanData>> spans,
                      absl::Time deadline) override {
    State& s = *state_;
    absl::MutexLock lock(&s.mutex);
    s.in_export = true;
    auto released = [&s]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mutex) { return !s.stalled; };
    // A stalled backend: blocks until released or the export deadline.
    if (!s.mutex.AwaitWithDeadline(absl::Condition(&released), deadline)) {
      s.in_export = false;
      return absl::DeadlineExceededError("stalled");
    }
    s.in_export = false;
    if (!s.next_status.ok()) return s.next_status;
    s.service_name = resource.service_name;
    s.batch_sizes.push_back(spans.size());
    for (const auto& span : spans) s.names.push_back(span->name);
    return absl::OkStatus();
  }

  absl::Status Shutdown(absl::Duration) override {
    absl::MutexLock lock(&state_->mutex);
    ++state_->shutdown_calls;
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<State> state_;
};

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_FAKE_EXPORTER_H_
