#include "tracebridge/exporters/otlp/otlp_span_exporter.h"

#include <utility>

#include "tracebridge/exporters/otlp/otlp_exporter.h"
#include "tracebridge/exporters/otlp/otlp_http_exporter.h"

namespace tracebridge {

absl::StatusOr<std::unique_ptr<SpanExporter>> CreateOtlpSpanExporter(OtlpExporterOptions options) {
  if (options.protocol == OtlpProtocol::kHttpProtobuf) {
    absl::StatusOr<std::unique_ptr<OtlpHttpExporter>> exporter =
        OtlpHttpExporter::Create(std::move(options));
    if (!exporter.ok()) return exporter.status();
    return std::unique_ptr<SpanExporter>(*std::move(exporter));
  }
  absl::StatusOr<std::unique_ptr<OtlpGrpcExporter>> exporter =
      OtlpGrpcExporter::Create(std::move(options));
  if (!exporter.ok()) return exporter.status();
  return std::unique_ptr<SpanExporter>(*std::move(exporter));
}

}  // namespace tracebridge
