// File: tracebridge/exporters/otlp/otlp_exporter.h
//
// `OtlpGrpcExporter`: a `SpanExporter` that sends each batch to an
// OpenTelemetry Collector (or any OTLP receiver) as one
// `opentelemetry.proto.collector.trace.v1.TraceService/Export` call.
//
// It retries what the OTLP specification calls retryable (CANCELLED,
// DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS, and
// RESOURCE_EXHAUSTED when the server says when to come back) with exponential
// backoff and full jitter, waits as long as the server asks when it sends a
// `google.rpc.RetryInfo`, and never retries anything else. The whole export,
// retries and waits included, ends by the earlier of the `Export` deadline and
// `OtlpExporterOptions::timeout`: a slow or dead collector makes the batch
// processor drop spans, never the application wait.
//
// Threading: `Export` is called from one thread at a time (the batch
// processor's). `Shutdown` and `Stats` may be called from any thread;
// `Shutdown` cancels an export in flight and wakes one waiting to retry.
//
// Transport security: `credentials` defaults to plaintext, which is what a
// collector on localhost or a sidecar expects. For TLS pass
// `grpc::SslCredentials(grpc::SslCredentialsOptions{...})` (or use an
// `https://` endpoint, which picks the system roots).
//
// Example:
//
//   auto options = tracebridge::OtlpExporterOptions::FromEnvironment();
//   if (!options.ok()) return options.status();
//   options->endpoint = "collector.internal:4317";         // code wins over env
//   options->headers.push_back({"api-key", key});
//   options->compression = tracebridge::OtlpCompression::kGzip;
//   absl::StatusOr<std::unique_ptr<tracebridge::OtlpGrpcExporter>> exporter =
//       tracebridge::OtlpGrpcExporter::Create(*std::move(options));
//   if (!exporter.ok()) return exporter.status();
//   // hand *exporter to the batch span processor

#ifndef TRACEBRIDGE_EXPORTERS_OTLP_OTLP_EXPORTER_H_
#define TRACEBRIDGE_EXPORTERS_OTLP_OTLP_EXPORTER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "tracebridge/core/export/span_exporter.h"
#include "tracebridge/core/trace/span_data.h"
#include "tracebridge/exporters/otlp/otlp_encoder.h"

namespace tracebridge {

// The gRPC method every OTLP trace receiver serves.
inline constexpr absl::string_view kOtlpTraceExportMethod =
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

// How a failed export is retried. `max_attempts` counts the first try, so 1
// means no retry. The n-th wait is drawn uniformly from
// [0, min(max_backoff, initial_backoff * multiplier^(n-1))] ("full jitter":
// many exporters that failed together do not come back together), unless the
// server asked for a specific delay with RetryInfo.
struct OtlpRetryPolicy {
  int max_attempts = 5;
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Seconds(5);
  double backoff_multiplier = 1.5;
};

// Request compression.
enum class OtlpCompression : uint8_t { kNone, kGzip };

// One gRPC metadata entry sent with every export (an API key, a tenant id).
struct OtlpHeader {
  std::string key;
  std::string value;
};

struct OtlpExporterOptions {
  // The collector, as "host:port" (any gRPC target works, e.g.
  // "dns:///collector:4317"). An "http://" prefix is dropped; an "https://"
  // prefix is dropped and selects TLS with the system roots unless
  // `credentials` is set.
  std::string endpoint = "localhost:4317";

  // The most one export may take, retries included. The `Export` deadline
  // shortens it further, never lengthens it.
  absl::Duration timeout = absl::Seconds(10);

  OtlpCompression compression = OtlpCompression::kNone;

  // Metadata sent with every call. Keys must be lowercase gRPC metadata keys
  // ([0-9a-z_.-], not starting with "grpc-"); values printable ASCII, except
  // for keys ending in "-bin", whose values are raw bytes. `Create` rejects
  // anything else.
  std::vector<OtlpHeader> headers;

  // Channel credentials; null means plaintext (see the file comment for TLS).
  std::shared_ptr<grpc::ChannelCredentials> credentials;

  OtlpRetryPolicy retry;

  // Called on the exporting thread before each wait to retry, with the failed
  // attempt's status and the wait about to start: for logging and tests.
  // Must return promptly (it delays the export it reports on).
  std::function<void(const absl::Status& error, absl::Duration wait)> on_retry;

  // Returns a variable's value, or nullopt when unset.
  using EnvLookup = std::function<absl::optional<std::string>(const char* name)>;

  // The defaults above, overridden by the standard OTLP environment
  // variables. Precedence, highest first:
  //   1. what the caller assigns to the returned options afterwards;
  //   2. OTEL_EXPORTER_OTLP_TRACES_{ENDPOINT,HEADERS,COMPRESSION,TIMEOUT};
  //   3. OTEL_EXPORTER_OTLP_{ENDPOINT,HEADERS,COMPRESSION,TIMEOUT};
  //   4. the defaults.
  // HEADERS is "key=value,key2=value2" with percent-encoded values; keys are
  // lowercased. COMPRESSION is "gzip" or "none"; TIMEOUT is milliseconds.
  // A malformed value is an InvalidArgument error naming the variable,
  // rather than a silently different configuration.
  static absl::StatusOr<OtlpExporterOptions> FromEnvironment();
  // The same, reading variables through `lookup` (for tests).
  static absl::StatusOr<OtlpExporterOptions> FromEnvironment(const EnvLookup& lookup);
};

// Counts for the exporter's self-metrics. Monotonic since `Create`.
struct OtlpExporterStats {
  uint64_t batches_exported = 0;  // batches the server accepted (maybe partially)
  uint64_t spans_exported = 0;    // spans in those batches, rejected ones included
  uint64_t batches_failed = 0;    // batches given up on
  uint64_t spans_failed = 0;      // spans in those batches
  uint64_t retries = 0;           // attempts after the first
  uint64_t spans_rejected = 0;    // `partial_success.rejected_spans`, summed
};

// Fills `request` with one ResourceSpans (the resource, with `service.name`)
// holding one ScopeSpans (scope "tracebridge") holding `spans`, mapped field
// by field as the OTLP specification defines. `request` should be empty (and
// may live on an arena). The exporter itself writes the same bytes directly
// with `OtlpTraceEncoder` (otlp_encoder.h), which is several times cheaper;
// this message-building form is the readable reference the tests hold the
// encoder to, and what a caller wanting message objects can use.
void FillOtlpExportRequest(
    const Resource& resource, absl::Span<const std::unique_ptr<SpanData>> spans,
    opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest* request);

// The delay a `google.rpc.Status` (the bytes of a `grpc-status-details-bin`
// trailer) asks for in a `google.rpc.RetryInfo` detail, or nullopt when there
// is none or the bytes do not parse. Exposed for tests.
absl::optional<absl::Duration> RetryDelayFromStatusDetails(absl::string_view details);

// True for the gRPC codes the OTLP specification lists as retryable, given
// whether the server sent a RetryInfo delay (which RESOURCE_EXHAUSTED needs).
bool IsRetryableOtlpCode(grpc::StatusCode code, bool has_retry_info);

class OtlpGrpcExporter final : public SpanExporter {
 public:
  // Validates `options` and creates the channel. Does not connect: the first
  // export does, so a collector that starts later is fine.
  static absl::StatusOr<std::unique_ptr<OtlpGrpcExporter>> Create(OtlpExporterOptions options);

  OtlpGrpcExporter(const OtlpGrpcExporter&) = delete;
  OtlpGrpcExporter& operator=(const OtlpGrpcExporter&) = delete;
  ~OtlpGrpcExporter() override;

  // "otlp".
  absl::string_view Name() const noexcept override { return "otlp"; }

  // Sends `spans` in one request, retrying as described in the file comment.
  // OK when the server accepted the batch, even partially (rejected spans are
  // counted in `Stats().spans_rejected`, and the server's explanation kept in
  // `last_partial_success_message()`). Otherwise the last call's status, with
  // the attempt count in the message; FailedPrecondition after `Shutdown`.
  // Returns by the earlier of `deadline` and now + `options.timeout`.
  absl::Status Export(const Resource& resource, absl::Span<const std::unique_ptr<SpanData>> spans,
                      absl::Time deadline) override;

  // Makes later exports fail, cancels the call in flight and wakes a
  // backoff wait, then waits up to `timeout` for a running `Export` to return.
  // DeadlineExceeded when it did not return in time.
  absl::Status Shutdown(absl::Duration timeout) override;

  // A snapshot of the counters.
  OtlpExporterStats Stats() const noexcept;

  // The `error_message` of the last partial success, empty if none.
  std::string last_partial_success_message() const;

  // The gRPC target the channel connects to (the endpoint without scheme).
  const std::string& target() const noexcept { return target_; }

 private:
  OtlpGrpcExporter(OtlpExporterOptions options, std::string target,
                   std::shared_ptr<grpc::Channel> channel);

  // One attempt's outcome as the retry loop needs it.
  struct Attempt {
    grpc::Status status;
    absl::optional<absl::Duration> server_delay;
    int64_t rejected_spans = 0;
    std::string partial_message;
  };
  Attempt Call(const grpc::ByteBuffer& request, absl::Time end);

  // The jittered wait before retry number `retry` (1-based).
  absl::Duration Backoff(int retry);

  // Waits until `until` or shutdown; false when shut down.
  bool WaitForRetry(absl::Time until);

  void CountFailure(size_t spans);

  const OtlpExporterOptions options_;
  const std::string target_;
  std::shared_ptr<grpc::Channel> channel_;
  // A generic stub sends the encoder's bytes as they are; the generated stub
  // would need a message object to serialise.
  grpc::TemplatedGenericStub<grpc::ByteBuffer,
                             opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse>
      stub_;
  const std::string method_;
  // Only touched by Export (one thread at a time):
  grpc::CompletionQueue cq_;
  OtlpTraceEncoder encoder_;
  absl::BitGen bitgen_;

  // std::mutex, not absl::Mutex: ThreadSanitizer cannot see the happens-
  // before edges of Debian's uninstrumented Abseil (see README, known limits).
  mutable std::mutex mutex_;
  // Signalled when `shutdown_` is set or `exporting_` cleared.
  std::condition_variable changed_;
  bool shutdown_ ABSL_GUARDED_BY(mutex_) = false;
  bool exporting_ ABSL_GUARDED_BY(mutex_) = false;
  // The call in flight, so Shutdown can cancel it.
  grpc::ClientContext* call_ ABSL_GUARDED_BY(mutex_) = nullptr;
  std::string last_partial_message_ ABSL_GUARDED_BY(mutex_);

  std::atomic<uint64_t> batches_exported_{0};
  std::atomic<uint64_t> spans_exported_{0};
  std::atomic<uint64_t> batches_failed_{0};
  std::atomic<uint64_t> spans_failed_{0};
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> spans_rejected_{0};
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_EXPORTERS_OTLP_OTLP_EXPORTER_H_
