// File: tracebridge/exporters/otlp/otlp_http_exporter.h
//
// `OtlpHttpExporter`: a `SpanExporter` that sends each batch to an OTLP/HTTP
// receiver (an OpenTelemetry Collector's port 4318, Jaeger, Tempo, most
// vendors) as one `POST /v1/traces` of a binary `ExportTraceServiceRequest`.
// It encodes with the same encoder as the gRPC exporter (otlp_encoder.h) and
// sends through `OtlpHttpTransport` (otlp_http_transport.h), whose retry and
// backoff rules are the gRPC exporter's, spelled in HTTP: 429, 502, 503 and
// 504 are retried (honouring Retry-After), every other failure status is not.
//
// Plain http only: for TLS use the OTLP/gRPC exporter, or a collector on the
// same host or network.
//
// Example:
//
//   auto options = tracebridge::OtlpExporterOptions::FromEnvironment();
//   if (!options.ok()) return options.status();
//   options->endpoint = "http://collector.internal:4318/v1/traces";  // code wins over env
//   options->compression = tracebridge::OtlpCompression::kGzip;
//   absl::StatusOr<std::unique_ptr<tracebridge::OtlpHttpExporter>> exporter =
//       tracebridge::OtlpHttpExporter::Create(*std::move(options));
//   if (!exporter.ok()) return exporter.status();
//   // hand *exporter to TelemetryBuilder::AddExporter

#ifndef TRACEBRIDGE_EXPORTERS_OTLP_OTLP_HTTP_EXPORTER_H_
#define TRACEBRIDGE_EXPORTERS_OTLP_OTLP_HTTP_EXPORTER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "tracebridge/core/export/span_exporter.h"
#include "tracebridge/core/trace/span_data.h"
#include "tracebridge/exporters/otlp/otlp_encoder.h"
#include "tracebridge/exporters/otlp/otlp_http_transport.h"
#include "tracebridge/exporters/otlp/otlp_options.h"

namespace tracebridge {

class OtlpHttpExporter final : public SpanExporter {
 public:
  // Validates `options` (whose protocol is ignored: this is HTTP; the
  // endpoint is the full URL, default "http://localhost:4318/v1/traces").
  // Does not connect: the first export does.
  static absl::StatusOr<std::unique_ptr<OtlpHttpExporter>> Create(OtlpExporterOptions options);

  OtlpHttpExporter(const OtlpHttpExporter&) = delete;
  OtlpHttpExporter& operator=(const OtlpHttpExporter&) = delete;

  // "otlp_http".
  absl::string_view Name() const noexcept override { return "otlp_http"; }

  // Sends `spans` in one request (see the file comment). OK when the server
  // accepted the batch, even partially (rejected spans are counted in
  // `Stats().spans_rejected`); FailedPrecondition after Shutdown; otherwise
  // the last attempt's error.
  absl::Status Export(const Resource& resource, absl::Span<const std::unique_ptr<SpanData>> spans,
                      absl::Time deadline) override;

  absl::Status Shutdown(absl::Duration timeout) override;

  OtlpExporterStats Stats() const noexcept;
  std::string last_partial_success_message() const;
  // The URL the spans go to.
  const std::string& url() const noexcept { return transport_->url(); }
  const OtlpHttpTransport& transport() const noexcept { return *transport_; }

 private:
  explicit OtlpHttpExporter(std::unique_ptr<OtlpHttpTransport> transport)
      : transport_(std::move(transport)) {}

  std::unique_ptr<OtlpHttpTransport> transport_;
  // Export's thread only: the encoder's scratch and the request bytes,
  // reused from batch to batch.
  OtlpTraceEncoder encoder_;
  std::string request_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_EXPORTERS_OTLP_OTLP_HTTP_EXPORTER_H_
