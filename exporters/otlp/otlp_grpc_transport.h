// File: tracebridge/exporters/otlp/otlp_grpc_transport.h
//
// `OtlpGrpcTransport`: OTLP/gRPC for any signal. It sends an encoded
// `Export<Signal>ServiceRequest` as one unary call to the signal's method
// (`/opentelemetry.proto.collector.trace.v1.TraceService/Export`,
// `…metrics.v1.MetricsService/Export`) on its own channel, with the
// configured metadata and gzip when asked, and applies the OTLP/gRPC response
// rules inside the shared retry loop (otlp_retry.h):
//
//   OK                  accepted; the response goes to the caller's parser
//                       for a partial success
//   CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE,
//   DATA_LOSS           retried, after the `google.rpc.RetryInfo` delay when
//                       the server sends one (UNAVAILABLE and
//                       RESOURCE_EXHAUSTED only), else after the policy's
//                       jittered exponential backoff
//   RESOURCE_EXHAUSTED  retried only with a RetryInfo
//   anything else       failed at once
//
// A request over `max_request_bytes` is never sent (a failed batch). The
// channel does not connect until the first export, reconnects on the retry
// policy's scale, and has gRPC's own retries off (the loop's are the OTLP
// ones, and counted).
//
// Threading: `Export` from one thread at a time; `Shutdown`, `Counts` from
// any. `Shutdown` cancels the call in flight.
//
// Example:
//
//   auto transport = tracebridge::OtlpGrpcTransport::Create(options, kOtlpMetricsExportMethod);
//   if (!transport.ok()) return transport.status();
//   absl::Status status = (*transport)->Export(
//       request.ByteSizeLong(), [&](char* out) { request.SerializeWithCachedSizesToArray(…); },
//       points, deadline, ParseMetricsResponse);

#ifndef TRACEBRIDGE_EXPORTERS_OTLP_OTLP_GRPC_TRANSPORT_H_
#define TRACEBRIDGE_EXPORTERS_OTLP_OTLP_GRPC_TRANSPORT_H_

#include <cstddef>
#include <memory>
#include <string>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "tracebridge/exporters/otlp/otlp_options.h"
#include "tracebridge/exporters/otlp/otlp_retry.h"

namespace tracebridge {

// The delay a `google.rpc.Status` (the bytes of a `grpc-status-details-bin`
// trailer) asks for in a `google.rpc.RetryInfo` detail, or nullopt when there
// is none or the bytes do not parse. Exposed for tests.
absl::optional<absl::Duration> RetryDelayFromStatusDetails(absl::string_view details);

// True for the gRPC codes the OTLP specification lists as retryable, given
// whether the server sent a RetryInfo delay (which RESOURCE_EXHAUSTED needs).
bool IsRetryableOtlpCode(grpc::StatusCode code, bool has_retry_info);

class OtlpGrpcTransport {
 public:
  // Validates `options` (whose protocol is ignored: this is gRPC) and
  // creates the channel to call `method` ("/pkg.Service/Export") on.
  static absl::StatusOr<std::unique_ptr<OtlpGrpcTransport>> Create(OtlpExporterOptions options,
                                                                   absl::string_view method);

  OtlpGrpcTransport(const OtlpGrpcTransport&) = delete;
  OtlpGrpcTransport& operator=(const OtlpGrpcTransport&) = delete;
  ~OtlpGrpcTransport();

  // Sends a request of `size` bytes, which `write` puts into the buffer it is
  // given (once, shared by every attempt), holding `items` items, under the
  // rules of the file comment. Returns by the earlier of `deadline` and now +
  // `options.timeout`: OK when accepted (even partially; `parse` reads the
  // response's partial success); FailedPrecondition after Shutdown;
  // otherwise the last call's status, with the attempt count in the message.
  absl::Status Export(size_t size, absl::FunctionRef<void(char* out)> write, size_t items,
                      absl::Time deadline, OtlpResponseParser parse);

  // Fails later exports, cancels the call in flight, wakes a backoff wait,
  // then waits up to `timeout` for a running Export to return.
  absl::Status Shutdown(absl::Duration timeout) { return runner_.Shutdown(timeout); }

  OtlpExportCounts Counts() const noexcept { return runner_.Counts(); }
  std::string last_partial_success_message() const {
    return runner_.last_partial_success_message();
  }
  // The gRPC target the channel connects to (the endpoint without scheme).
  const std::string& target() const noexcept { return target_; }

 private:
  OtlpGrpcTransport(OtlpExporterOptions options, std::string target, absl::string_view method,
                    std::shared_ptr<grpc::Channel> channel);

  // One call, bounded by `end`.
  OtlpAttempt Call(const grpc::ByteBuffer& request, absl::Time end, OtlpResponseParser parse);

  const OtlpExporterOptions options_;
  const std::string target_;
  const std::string method_;
  std::shared_ptr<grpc::Channel> channel_;
  // A generic stub sends the encoded bytes as they are.
  grpc::TemplatedGenericStub<grpc::ByteBuffer, grpc::ByteBuffer> stub_;
  // Only touched by Export (one thread at a time).
  grpc::CompletionQueue cq_;
  // Retries, shutdown and counts (thread-safe).
  OtlpExportRunner runner_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_EXPORTERS_OTLP_OTLP_GRPC_TRANSPORT_H_
