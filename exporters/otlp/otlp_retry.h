// File: tracebridge/exporters/otlp/otlp_retry.h
//
// `OtlpExportRunner`: what every OTLP exporter wraps around its transport, so
// that gRPC and HTTP, traces and (later) metrics follow one set of rules:
//
//   - retries: an attempt the transport calls retryable is tried again after
//     the delay the server asked for (gRPC RetryInfo, HTTP Retry-After), or
//     else after an exponential backoff with full jitter (`OtlpRetryPolicy`);
//     never more than `max_attempts` in all, and never an attempt that would
//     start after the export's end (the earlier of its deadline and the
//     options' timeout): the caller is told at once instead of waiting;
//   - shutdown: later exports fail at once (FailedPrecondition), the call in
//     flight is cancelled through the hook it registered, a backoff wait
//     wakes, and `Shutdown` waits (bounded) for the running export to return;
//   - counts: batches and items exported, failed, rejected (partial success),
//     and retries, each exactly once.
//
// Threading: `Export` from one thread at a time; `Shutdown`, `Counts` and
// `last_partial_success_message` from any.
//
// Example (inside an exporter's Export):
//
//   return runner_.Export(destination_, spans.size(), end,
//       [&] { return Encode(spans); },  // before the first attempt
//       [&](absl::Time end) { return CallOnce(end); });

#ifndef TRACEBRIDGE_EXPORTERS_OTLP_OTLP_RETRY_H_
#define TRACEBRIDGE_EXPORTERS_OTLP_OTLP_RETRY_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "tracebridge/exporters/otlp/otlp_options.h"

namespace tracebridge {

// One attempt's outcome, as the transport reports it.
struct OtlpAttempt {
  // OK when the server accepted the request (maybe partially).
  absl::Status status;
  // For a failure: whether the OTLP rules allow another attempt.
  bool retryable = false;
  // The wait the server asked for, if any.
  absl::optional<absl::Duration> server_delay;
  // For a success: the items the server rejected, and why.
  int64_t rejected = 0;
  std::string partial_message;
};

// Decodes the body of an accepted request's response (an
// `Export<Signal>ServiceResponse`, whatever the transport): the items the
// server rejected and its message, both left alone for a full success or a
// body that does not decode.
using OtlpResponseParser =
    absl::FunctionRef<void(absl::string_view body, int64_t* rejected, std::string* message)>;

class OtlpExportRunner {
 public:
  using RetryCallback = std::function<void(const absl::Status& error, absl::Duration wait)>;

  // `policy` must be valid (see `internal::ValidateOtlpOptions`).
  OtlpExportRunner(OtlpRetryPolicy policy, RetryCallback on_retry);
  OtlpExportRunner(const OtlpExportRunner&) = delete;
  OtlpExportRunner& operator=(const OtlpExportRunner&) = delete;

  // Exports one batch of `items` items to `destination` (named in errors):
  // `prepare` runs first (encoding, compression; an error fails the batch
  // with no attempt), then `attempt` as often as the rules allow, each bounded
  // by `end`. OK when the server accepted the batch; FailedPrecondition after
  // Shutdown; otherwise the last attempt's status, the attempt count and why
  // retrying stopped in its message.
  absl::Status Export(absl::string_view destination, size_t items, absl::Time end,
                      absl::FunctionRef<absl::Status()> prepare,
                      absl::FunctionRef<OtlpAttempt(absl::Time end)> attempt);

  // For `attempt`: registers how to cancel the call it is about to make.
  // False when shut down (the call must not start). Pair with `EndCall`.
  bool BeginCall(std::function<void()> cancel);
  void EndCall();

  // Fails later exports, cancels the call in flight, wakes a backoff wait,
  // then waits up to `timeout` for a running export to return
  // (DeadlineExceeded when it did not).
  absl::Status Shutdown(absl::Duration timeout);

  OtlpExportCounts Counts() const noexcept;

  // The server's explanation of the last partial success, empty if none.
  std::string last_partial_success_message() const;

 private:
  // The jittered wait before retry number `retry` (1-based).
  absl::Duration Backoff(int retry);
  // Waits until `until` or shutdown; false when shut down.
  bool WaitForRetry(absl::Time until);
  absl::Status Fail(size_t items, absl::Status status);

  const OtlpRetryPolicy policy_;
  const RetryCallback on_retry_;
  absl::BitGen bitgen_;  // Export's thread only

  // std::mutex, not absl::Mutex: ThreadSanitizer cannot see the happens-
  // before edges of Debian's uninstrumented Abseil (see README, known limits).
  mutable std::mutex mutex_;
  // Signalled when `shutdown_` is set or `exporting_` cleared.
  std::condition_variable changed_;
  bool shutdown_ ABSL_GUARDED_BY(mutex_) = false;
  bool exporting_ ABSL_GUARDED_BY(mutex_) = false;
  std::function<void()> cancel_ ABSL_GUARDED_BY(mutex_);
  std::string last_partial_message_ ABSL_GUARDED_BY(mutex_);

  std::atomic<uint64_t> batches_exported_{0};
  std::atomic<uint64_t> items_exported_{0};
  std::atomic<uint64_t> batches_failed_{0};
  std::atomic<uint64_t> items_failed_{0};
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> items_rejected_{0};
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_EXPORTERS_OTLP_OTLP_RETRY_H_
