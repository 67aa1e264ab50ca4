// File: tracebridge/exporters/otlp/otlp_encoder.h
//
// `OtlpTraceEncoder`: writes the protobuf bytes of an OTLP
// `ExportTraceServiceRequest` straight from `SpanData`, without building
// protobuf message objects first. Building messages costs a dozen string
// copies and allocations per span; this writes each byte once, into a buffer
// the caller sizes exactly (two passes: sizes, then bytes).
//
// The output is byte-for-byte what `FillOtlpExportRequest` followed by
// protobuf's `SerializeToString` produces (fields in number order, proto3
// defaults omitted, oneof members always written), which the tests check; so
// the mapping has one definition in prose (otlp_exporter.h) and two
// implementations that are held equal.
//
// Uses only std and Abseil (no gRPC, no protobuf runtime), so an OTLP/HTTP
// exporter could share it.
//
// Threading: an encoder is used by one thread at a time; it keeps scratch
// space between calls so steady-state encoding allocates nothing.
//
// Example:
//
//   tracebridge::OtlpTraceEncoder encoder;
//   std::string bytes(encoder.Prepare(resource, spans), '\0');
//   encoder.Write(&bytes[0]);

#ifndef TRACEBRIDGE_EXPORTERS_OTLP_OTLP_ENCODER_H_
#define TRACEBRIDGE_EXPORTERS_OTLP_OTLP_ENCODER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tracebridge/core/export/span_exporter.h"
#include "tracebridge/core/trace/span_data.h"

namespace tracebridge {

// The instrumentation scope every tracebridge span is exported under.
inline constexpr absl::string_view kOtlpScopeName = "tracebridge";
// The scope version: the tracebridge release the spans come from.
inline constexpr absl::string_view kOtlpScopeVersion = "0.1.0";

class OtlpTraceEncoder {
 public:
  OtlpTraceEncoder() = default;
  OtlpTraceEncoder(const OtlpTraceEncoder&) = delete;
  OtlpTraceEncoder& operator=(const OtlpTraceEncoder&) = delete;

  // Measures the request for `resource` and `spans` (null entries skipped)
  // and returns its size in bytes. Both must stay alive and unchanged until
  // `Write` returns.
  size_t Prepare(const Resource& resource, absl::Span<const std::unique_ptr<SpanData>> spans);

  // Writes exactly the size `Prepare` returned to `out`. Returns the end.
  char* Write(char* out) const;

 private:
  const Resource* resource_ = nullptr;
  absl::Span<const std::unique_ptr<SpanData>> spans_;
  // The resource's attributes in output order: `service.name` first.
  std::vector<const Attribute*> resource_attributes_;
  Attribute service_name_;
  std::vector<size_t> span_sizes_;
  size_t resource_size_ = 0;
  size_t scope_size_ = 0;
  size_t scope_spans_size_ = 0;
  size_t resource_spans_size_ = 0;
};

// The request's bytes as one string (tests, one-off use).
std::string EncodeOtlpExportRequest(const Resource& resource,
                                    absl::Span<const std::unique_ptr<SpanData>> spans);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_EXPORTERS_OTLP_OTLP_ENCODER_H_
