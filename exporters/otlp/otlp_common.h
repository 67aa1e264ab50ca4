// File: tracebridge/exporters/otlp/otlp_common.h
//
// The parts of OTLP every signal shares, as protobuf messages: the resource
// (with `service.name`), attributes, the instrumentation scope tracebridge
// exports under, and reading a response's partial success. The span and
// metric mappings both use these, so a process looks the same to a backend
// whatever it sends.
//
// Example:
//
//   opentelemetry::proto::metrics::v1::ResourceMetrics out;
//   tracebridge::FillOtlpResource(telemetry.resource(), out.mutable_resource());

#ifndef TRACEBRIDGE_EXPORTERS_OTLP_OTLP_COMMON_H_
#define TRACEBRIDGE_EXPORTERS_OTLP_OTLP_COMMON_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "opentelemetry/proto/resource/v1/resource.pb.h"
#include "tracebridge/core/export/span_exporter.h"
#include "tracebridge/core/trace/span_data.h"
#include "tracebridge/exporters/otlp/otlp_encoder.h"  // kOtlpScopeName, kOtlpScopeVersion

namespace tracebridge {

// Appends `attribute` as a KeyValue of the matching AnyValue type.
void AddOtlpAttribute(
    const Attribute& attribute,
    google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>* out);

// `service.name` first (the resource's `service_name`, authoritative; a
// `service.name` attribute counts only when that is empty; "unknown_service"
// when both are), then the other attributes in order.
void FillOtlpResource(const Resource& resource, opentelemetry::proto::resource::v1::Resource* out);

// `kOtlpScopeName` ("tracebridge") and `kOtlpScopeVersion`.
void FillOtlpScope(opentelemetry::proto::common::v1::InstrumentationScope* out);

// Read `partial_success` from the bytes of an ExportTraceServiceResponse or
// an ExportMetricsServiceResponse (`OtlpResponseParser`s, for either
// transport). An empty or undecodable body is a full success: the status
// said so.
void ParseOtlpTraceResponse(absl::string_view body, int64_t* rejected, std::string* message);
void ParseOtlpMetricsResponse(absl::string_view body, int64_t* rejected, std::string* message);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_EXPORTERS_OTLP_OTLP_COMMON_H_
