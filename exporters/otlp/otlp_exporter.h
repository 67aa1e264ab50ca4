// File: tracebridge/exporters/otlp/otlp_exporter.h
//
// `OtlpGrpcExporter`: a `SpanExporter` that sends each batch to an
// OpenTelemetry Collector (or any OTLP receiver) as one
// `opentelemetry.proto.collector.trace.v1.TraceService/Export` call.
//
// Options (otlp_options.h) are shared with the OTLP/HTTP exporter, and so are
// the retry rules (otlp_retry.h); the call itself is `OtlpGrpcTransport`'s
// (otlp_grpc_transport.h), shared with the metric exporter. It retries what the OTLP specification
// calls retryable (CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE,
// UNAVAILABLE, DATA_LOSS, and RESOURCE_EXHAUSTED when the server says when to
// come back) with exponential backoff and full jitter, waits as long as the
// server asks when it sends a `google.rpc.RetryInfo`, and never retries
// anything else. The whole export, retries and waits included, ends by the
// earlier of the `Export` deadline and `OtlpExporterOptions::timeout`: a slow
// or dead collector makes the batch processor drop spans, never the
// application wait.
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

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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
#include "tracebridge/exporters/otlp/otlp_grpc_transport.h"
#include "tracebridge/exporters/otlp/otlp_options.h"
#include "tracebridge/exporters/otlp/otlp_retry.h"

namespace tracebridge {

// The gRPC method every OTLP trace receiver serves.
inline constexpr absl::string_view kOtlpTraceExportMethod =
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

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

class OtlpGrpcExporter final : public SpanExporter {
 public:
  // Validates `options` (whose protocol is ignored: this is gRPC) and
  // creates the channel. Does not connect: the first export does, so a
  // collector that starts later is fine.
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
  const std::string& target() const noexcept { return transport_->target(); }

 private:
  explicit OtlpGrpcExporter(std::unique_ptr<OtlpGrpcTransport> transport)
      : transport_(std::move(transport)) {}

  std::unique_ptr<OtlpGrpcTransport> transport_;
  // Export's thread only: the encoder's scratch, reused from batch to batch.
  OtlpTraceEncoder encoder_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_EXPORTERS_OTLP_OTLP_EXPORTER_H_
