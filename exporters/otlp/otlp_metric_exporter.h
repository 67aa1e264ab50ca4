// File: tracebridge/exporters/otlp/otlp_metric_exporter.h
//
// `OtlpMetricExporter`: a `MetricExporter` (core/metric_reader.h) that sends
// each collection of the registry to an OpenTelemetry Collector (or any OTLP
// receiver) as one `ExportMetricsServiceRequest` (otlp_metrics_encoder.h),
// over OTLP/gRPC (`MetricsService/Export`, `OtlpGrpcTransport`) or OTLP/HTTP
// (`POST /v1/metrics`, `OtlpHttpTransport`): the span exporters' transports,
// so the same protocol choice, headers, compression, timeout and retry rules
// (otlp_retry.h) apply, counted in data points.
//
// Configuration from the environment (`FromEnvironment`), each
// OTEL_EXPORTER_OTLP_METRICS_* variable winning over its OTEL_EXPORTER_OTLP_*
// form, as for spans:
//
//   OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL, ENDPOINT (HTTP: the generic one is
//   a base URL to which "v1/metrics" is appended; default
//   "http://localhost:4318/v1/metrics", gRPC "localhost:4317"), HEADERS,
//   COMPRESSION, TIMEOUT
//   OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE  cumulative (default),
//                                                      delta, lowmemory
//   OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION
//       base2_exponential_bucket_histogram (default here), explicit_bucket_histogram
//
// Deltas: the exporter keeps the snapshot of the last collection the server
// accepted and sends the change since then, so a failed export is folded
// into the next one, never lost (a collection the server took but whose
// answer never arrived is sent again in the next delta: cumulative avoids
// that, which is one reason it is the default).
//
// Threading: `Export` from one thread at a time (the reader's); `Shutdown`,
// `Stats` from any. `Shutdown` cancels the export in flight.
//
// Example:
//
//   auto options = tracebridge::OtlpMetricExporterOptions::FromEnvironment();
//   if (!options.ok()) return options.status();
//   options->otlp.endpoint = "collector.internal:4317";  // code wins over env
//   auto exporter = tracebridge::OtlpMetricExporter::Create(*std::move(options));
//   if (!exporter.ok()) return exporter.status();
//   builder.AddMetricExporter(*std::move(exporter));

#ifndef TRACEBRIDGE_EXPORTERS_OTLP_OTLP_METRIC_EXPORTER_H_
#define TRACEBRIDGE_EXPORTERS_OTLP_OTLP_METRIC_EXPORTER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tracebridge/core/metric_reader.h"
#include "tracebridge/exporters/otlp/otlp_grpc_transport.h"
#include "tracebridge/exporters/otlp/otlp_http_transport.h"
#include "tracebridge/exporters/otlp/otlp_metrics_encoder.h"
#include "tracebridge/exporters/otlp/otlp_options.h"

namespace tracebridge {

// The gRPC method every OTLP metrics receiver serves.
inline constexpr absl::string_view kOtlpMetricsExportMethod =
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

// The OTLP/HTTP endpoint when none is configured.
inline constexpr absl::string_view kOtlpMetricsDefaultHttpEndpoint =
    "http://localhost:4318/v1/metrics";

struct OtlpMetricExporterOptions {
  // Transport settings, as for spans (otlp_options.h); an empty HTTP
  // endpoint means `kOtlpMetricsDefaultHttpEndpoint`.
  OtlpExporterOptions otlp;
  OtlpMetricsEncoding encoding;

  // The defaults overridden by the variables in the file comment. Empty
  // values count as unset; a malformed one is InvalidArgument naming it.
  static absl::StatusOr<OtlpMetricExporterOptions> FromEnvironment();
  static absl::StatusOr<OtlpMetricExporterOptions> FromEnvironment(
      const OtlpExporterOptions::EnvLookup& lookup);
};

class OtlpMetricExporter final : public MetricExporter {
 public:
  // Validates the options and creates the transport `options.otlp.protocol`
  // names. Does not connect: the first export does.
  static absl::StatusOr<std::unique_ptr<OtlpMetricExporter>> Create(
      OtlpMetricExporterOptions options);

  OtlpMetricExporter(const OtlpMetricExporter&) = delete;
  OtlpMetricExporter& operator=(const OtlpMetricExporter&) = delete;
  ~OtlpMetricExporter() override;

  // "otlp" (gRPC) or "otlp_http".
  absl::string_view Name() const noexcept override;

  // Sends `snapshot` in one request. OK when the server accepted it, even
  // partially (`Stats().items_rejected`, `last_partial_success_message()`);
  // FailedPrecondition after Shutdown; otherwise the last attempt's error.
  // Returns by the earlier of `deadline` and now + `options.otlp.timeout`.
  absl::Status Export(const Resource& resource, const MetricsSnapshot& snapshot,
                      absl::Time deadline) override;

  absl::Status Shutdown(absl::Duration timeout) override;

  // Batches are collections, items are data points.
  OtlpExportCounts Stats() const noexcept;
  std::string last_partial_success_message() const;
  // Where the metrics go: the gRPC target or the HTTP URL.
  const std::string& destination() const noexcept;

 private:
  OtlpMetricExporter(OtlpMetricsEncoding encoding, std::unique_ptr<OtlpGrpcTransport> grpc,
                     std::unique_ptr<OtlpHttpTransport> http);

  const OtlpMetricsEncoding encoding_;
  // Exactly one is set.
  std::unique_ptr<OtlpGrpcTransport> grpc_;
  std::unique_ptr<OtlpHttpTransport> http_;
  // Export's thread only: the last snapshot the server accepted (deltas).
  std::unique_ptr<MetricsSnapshot> delivered_;
  std::string request_bytes_;
};

// The push exporter OTEL_METRICS_EXPORTER names: "otlp" gives an
// `OtlpMetricExporter` configured from the environment; unset, empty,
// "none" or "prometheus" (tracebridge always serves Prometheus on the admin
// listener) give null, meaning no push; anything else (or a list naming
// more than one push exporter) is InvalidArgument. Unlike the
// specification's default ("otlp"), nothing is pushed unless asked for.
absl::StatusOr<std::unique_ptr<MetricExporter>> MetricExporterFromEnvironment();

}  // namespace tracebridge

#endif  // TRACEBRIDGE_EXPORTERS_OTLP_OTLP_METRIC_EXPORTER_H_
