// File: tests/testing/otlp_receiver.h
//
// `OtlpReceiver`: a real OTLP/gRPC TraceService and MetricsService on
// 127.0.0.1 (an ephemeral port) for tests and benchmarks. It records every
// Export call it receives (request, metadata, arrival time on the monotonic
// clock, the reply it gave) and answers from a script: a queue of replies
// consumed one per call of either service, OK once the queue is empty. A
// reply can carry any gRPC code, a RetryInfo delay in
// `grpc-status-details-bin`, a partial success, or a stall.
//
// Threading: all methods are thread-safe; gRPC calls arrive on server threads.
//
// Example:
//
//   auto receiver = tracebridge::testing::OtlpReceiver::Start();
//   (*receiver)->Script({{.code = grpc::StatusCode::UNAVAILABLE}, {}});
//   ... export to (*receiver)->address() ...
//   ASSERT_TRUE((*receiver)->WaitForSpans(3, absl::Seconds(10)));
//   std::vector<opentelemetry::proto::trace::v1::Span> spans = (*receiver)->Spans();
//   ASSERT_TRUE((*receiver)->WaitForMetricsCalls(1, absl::Seconds(10)));
//   auto metrics = (*receiver)->ReceivedMetrics();

#ifndef TRACEBRIDGE_TESTS_TESTING_OTLP_RECEIVER_H_
#define TRACEBRIDGE_TESTS_TESTING_OTLP_RECEIVER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace tracebridge {
namespace testing {

// How the receiver answers one Export call.
struct OtlpReply {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
  // Sent as a google.rpc.RetryInfo detail when set (error codes only).
  absl::optional<absl::Duration> retry_delay;
  // Holds the call this long before answering, cut short by the call's
  // deadline or by the receiver shutting down.
  absl::Duration stall = absl::ZeroDuration();
  // With code OK: a partial success rejecting this many spans (or, for a
  // metrics call, data points).
  int64_t rejected_spans = 0;
  std::string partial_error;
};

// One Export call as the receiver saw it.
template <typename Request>
struct ReceivedCall {
  Request request;
  // Request metadata (lowercase keys), as the server application sees it.
  std::multimap<std::string, std::string> metadata;
  // MonotonicNanosNow() when the call arrived.
  int64_t arrival_monotonic_nanos = 0;
  // The code the receiver answered with.
  grpc::StatusCode answered = grpc::StatusCode::OK;
};
using ReceivedExport =
    ReceivedCall<opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest>;
using ReceivedMetricsExport =
    ReceivedCall<opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest>;

struct OtlpReceiverOptions {
  // False: requests are only counted (for benchmarks); `Received()` and
  // `Spans()` stay empty.
  bool store_requests = true;
  // False: the server accepts only uncompressed messages and fails a gzip
  // one with UNIMPLEMENTED, which proves a client really compressed.
  bool accept_gzip = true;
};

class OtlpReceiver {
 public:
  // Starts the server on 127.0.0.1:0.
  static absl::StatusOr<std::unique_ptr<OtlpReceiver>> Start(OtlpReceiverOptions options = {});

  ~OtlpReceiver();

  int port() const { return port_; }
  // "127.0.0.1:<port>".
  std::string address() const;

  // Replaces the script: the next calls are answered with `replies`, in
  // order; afterwards with OK.
  void Script(std::vector<OtlpReply> replies);

  // Every call received so far, in arrival order.
  std::vector<ReceivedExport> Received() const;
  // The number of calls received.
  size_t calls() const;
  // The spans of every call answered OK, in order.
  std::vector<opentelemetry::proto::trace::v1::Span> Spans() const;
  // The number of spans in calls answered OK.
  size_t span_count() const;

  // Waits until calls answered OK held at least `count` spans; false on
  // timeout.
  bool WaitForSpans(size_t count, absl::Duration timeout) const;
  // Waits until at least `count` calls arrived; false on timeout.
  bool WaitForCalls(size_t count, absl::Duration timeout) const;

  // Every metrics call received so far, in arrival order, and how many there
  // were. Waits until at least `count` metrics calls arrived (whatever the
  // answer); false on timeout.
  std::vector<ReceivedMetricsExport> ReceivedMetrics() const;
  size_t metrics_calls() const;
  bool WaitForMetricsCalls(size_t count, absl::Duration timeout) const;

  // Stops the server, waking stalled calls. Idempotent.
  void Shutdown();

 private:
  class Service;
  class MetricsService;
  explicit OtlpReceiver(bool store_requests);

  grpc::Status Handle(
      grpc::ServerContext* context,
      const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request,
      opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse* response);
  grpc::Status HandleMetrics(
      grpc::ServerContext* context,
      const opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest& request,
      opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceResponse* response);
  // Takes the next scripted reply, records the call in `calls` (when
  // storing requests) and counts it in `count`, then stalls as the reply
  // says and returns it.
  template <typename Request>
  OtlpReply Arrive(grpc::ServerContext* context, const Request& request,
                   std::vector<ReceivedCall<Request>>* calls, size_t* count);
  static grpc::Status StatusOf(const OtlpReply& reply);

  const bool store_requests_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<MetricsService> metrics_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

  // std::mutex: ThreadSanitizer cannot see Debian's Abseil's absl::Mutex.
  mutable std::mutex mutex_;
  // Signalled when a call arrives, spans are accepted, or shutdown begins.
  mutable std::condition_variable changed_;
  std::deque<OtlpReply> script_ ABSL_GUARDED_BY(mutex_);
  std::vector<ReceivedExport> received_ ABSL_GUARDED_BY(mutex_);
  std::vector<ReceivedMetricsExport> received_metrics_ ABSL_GUARDED_BY(mutex_);
  size_t metrics_calls_ ABSL_GUARDED_BY(mutex_) = 0;
  size_t calls_ ABSL_GUARDED_BY(mutex_) = 0;
  size_t accepted_spans_ ABSL_GUARDED_BY(mutex_) = 0;
  bool shutting_down_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_OTLP_RECEIVER_H_
