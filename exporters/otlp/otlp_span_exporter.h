// File: tracebridge/exporters/otlp/otlp_span_exporter.h
//
// The OTLP span exporter the options' protocol names: `OtlpGrpcExporter`
// for `OtlpProtocol::kGrpc`, `OtlpHttpExporter` for `kHttpProtobuf`. With
// `OtlpExporterOptions::FromEnvironment()` this makes OTEL_EXPORTER_OTLP_PROTOCOL
// choose the transport.
//
// Example:
//
//   auto options = tracebridge::OtlpExporterOptions::FromEnvironment();
//   if (!options.ok()) return options.status();
//   auto exporter = tracebridge::CreateOtlpSpanExporter(*std::move(options));
//   if (!exporter.ok()) return exporter.status();
//   builder.AddExporter(*std::move(exporter));

#ifndef TRACEBRIDGE_EXPORTERS_OTLP_OTLP_SPAN_EXPORTER_H_
#define TRACEBRIDGE_EXPORTERS_OTLP_OTLP_SPAN_EXPORTER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "tracebridge/core/export/span_exporter.h"
#include "tracebridge/exporters/otlp/otlp_options.h"

namespace tracebridge {

absl::StatusOr<std::unique_ptr<SpanExporter>> CreateOtlpSpanExporter(OtlpExporterOptions options);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_EXPORTERS_OTLP_OTLP_SPAN_EXPORTER_H_
