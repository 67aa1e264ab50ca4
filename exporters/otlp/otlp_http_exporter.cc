#include "tracebridge/exporters/otlp/otlp_http_exporter.h"

#include <utility>

#include "tracebridge/exporters/otlp/otlp_common.h"

namespace tracebridge {

absl::StatusOr<std::unique_ptr<OtlpHttpExporter>> OtlpHttpExporter::Create(
    OtlpExporterOptions options) {
  absl::StatusOr<std::unique_ptr<OtlpHttpTransport>> transport =
      OtlpHttpTransport::Create(std::move(options));
  if (!transport.ok()) return transport.status();
  return std::unique_ptr<OtlpHttpExporter>(new OtlpHttpExporter(*std::move(transport)));
}

absl::Status OtlpHttpExporter::Export(const Resource& resource,
                                      absl::Span<const std::unique_ptr<SpanData>> spans,
                                      absl::Time deadline) {
  request_.resize(spans.empty() ? 0 : encoder_.Prepare(resource, spans));
  if (!spans.empty()) encoder_.Write(&request_[0]);
  return transport_->Export(request_, spans.size(), deadline, ParseOtlpTraceResponse);
}

absl::Status OtlpHttpExporter::Shutdown(absl::Duration timeout) {
  return transport_->Shutdown(timeout);
}

OtlpExporterStats OtlpHttpExporter::Stats() const noexcept {
  return OtlpExporterStats::FromCounts(transport_->Counts());
}

std::string OtlpHttpExporter::last_partial_success_message() const {
  return transport_->last_partial_success_message();
}

}  // namespace tracebridge
