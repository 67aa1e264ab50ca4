#include "tracebridge/exporters/otlp/otlp_http_exporter.h"

#include <utility>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

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
  return transport_->Export(
      request_, spans.size(), deadline,
      [](absl::string_view body, int64_t* rejected, std::string* message) {
        opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse response;
        // An empty or undecodable body is a full success: the status said so.
        if (!response.ParseFromArray(body.data(), static_cast<int>(body.size())) ||
            !response.has_partial_success()) {
          return;
        }
        *rejected = response.partial_success().rejected_spans();
        *message = response.partial_success().error_message();
      });
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
