// File: exporters/otlp/otlp_exporter.cc
//
// The OTLP/gRPC span exporter: the SpanData → OTLP message mapping, and the
// encoder's bytes handed to the gRPC transport. See otlp_exporter.h.

#include "tracebridge/exporters/otlp/otlp_exporter.h"

#include <utility>

#include "tracebridge/exporters/otlp/otlp_common.h"

namespace tracebridge {
namespace {

namespace collector = ::opentelemetry::proto::collector::trace::v1;
namespace common = ::opentelemetry::proto::common::v1;
namespace otlp_trace = ::opentelemetry::proto::trace::v1;

// ---------------------------------------------------------------------------
// SpanData → OTLP.

uint32_t SpanFlags(TraceFlags flags, bool remote) {
  uint32_t bits = flags.bits() | otlp_trace::SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK;
  if (remote) bits |= otlp_trace::SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK;
  return bits;
}

otlp_trace::Span::SpanKind ToOtlpKind(SpanKind kind) {
  switch (kind) {
    case SpanKind::kInternal:
      return otlp_trace::Span::SPAN_KIND_INTERNAL;
    case SpanKind::kServer:
      return otlp_trace::Span::SPAN_KIND_SERVER;
    case SpanKind::kClient:
      return otlp_trace::Span::SPAN_KIND_CLIENT;
    case SpanKind::kProducer:
      return otlp_trace::Span::SPAN_KIND_PRODUCER;
    case SpanKind::kConsumer:
      return otlp_trace::Span::SPAN_KIND_CONSUMER;
  }
  return otlp_trace::Span::SPAN_KIND_UNSPECIFIED;
}

// Timestamps before 1970 cannot be represented in fixed64; they only arise
// from a badly set clock, and 0 ("unknown") is the honest value then.
uint64_t UnixNanos(int64_t nanos) { return nanos > 0 ? static_cast<uint64_t>(nanos) : 0; }

template <typename Attributes>
void AddAttributes(const Attributes& attributes,
                   google::protobuf::RepeatedPtrField<common::KeyValue>* out) {
  out->Reserve(static_cast<int>(attributes.size()));
  for (const Attribute& attribute : attributes) AddOtlpAttribute(attribute, out);
}

template <size_t N>
void SetBytes(const std::array<uint8_t, N>& bytes, std::string* out) {
  out->assign(reinterpret_cast<const char*>(bytes.data()), N);
}

void FillSpan(const SpanData& data, otlp_trace::Span* span) {
  const SpanContext& context = data.context;
  SetBytes(context.trace_id().bytes(), span->mutable_trace_id());
  SetBytes(context.span_id().bytes(), span->mutable_span_id());
  if (!context.trace_state().empty()) span->set_trace_state(context.trace_state().ToHeader());
  const bool has_parent = data.parent_span_id.IsValid();
  if (has_parent) SetBytes(data.parent_span_id.bytes(), span->mutable_parent_span_id());
  // The IS_REMOTE bits describe the parent; a root span's (absent) parent is
  // known not to be remote.
  span->set_flags(SpanFlags(context.trace_flags(), has_parent && data.parent_is_remote));
  span->set_name(data.name);
  span->set_kind(ToOtlpKind(data.kind));
  span->set_start_time_unix_nano(UnixNanos(data.start_unix_nanos));
  span->set_end_time_unix_nano(UnixNanos(data.end_unix_nanos));
  AddAttributes(data.attributes, span->mutable_attributes());
  span->set_dropped_attributes_count(data.dropped_attributes);

  if (!data.events.empty()) {
    span->mutable_events()->Reserve(static_cast<int>(data.events.size()));
    for (const SpanEvent& event : data.events) {
      otlp_trace::Span::Event* out = span->add_events();
      out->set_time_unix_nano(UnixNanos(event.time_unix_nanos));
      out->set_name(event.name);
      AddAttributes(event.attributes, out->mutable_attributes());
      out->set_dropped_attributes_count(event.dropped_attributes);
    }
  }
  span->set_dropped_events_count(data.dropped_events);

  if (!data.links.empty()) {
    span->mutable_links()->Reserve(static_cast<int>(data.links.size()));
    for (const SpanLink& link : data.links) {
      otlp_trace::Span::Link* out = span->add_links();
      SetBytes(link.context.trace_id().bytes(), out->mutable_trace_id());
      SetBytes(link.context.span_id().bytes(), out->mutable_span_id());
      if (!link.context.trace_state().empty()) {
        out->set_trace_state(link.context.trace_state().ToHeader());
      }
      AddAttributes(link.attributes, out->mutable_attributes());
      out->set_dropped_attributes_count(link.dropped_attributes);
      out->set_flags(SpanFlags(link.context.trace_flags(), link.context.IsRemote()));
    }
  }
  span->set_dropped_links_count(data.dropped_links);

  // An unset status is the absent message; the description travels only
  // with an error, as the OpenTelemetry API defines it.
  switch (data.status) {
    case StatusCode::kUnset:
      break;
    case StatusCode::kOk:
      span->mutable_status()->set_code(otlp_trace::Status::STATUS_CODE_OK);
      break;
    case StatusCode::kError:
      span->mutable_status()->set_code(otlp_trace::Status::STATUS_CODE_ERROR);
      span->mutable_status()->set_message(data.status_description);
      break;
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Free functions.

void FillOtlpExportRequest(const Resource& resource,
                           absl::Span<const std::unique_ptr<SpanData>> spans,
                           collector::ExportTraceServiceRequest* request) {
  otlp_trace::ResourceSpans* resource_spans = request->add_resource_spans();
  FillOtlpResource(resource, resource_spans->mutable_resource());

  otlp_trace::ScopeSpans* scope_spans = resource_spans->add_scope_spans();
  FillOtlpScope(scope_spans->mutable_scope());
  auto* out = scope_spans->mutable_spans();
  out->Reserve(static_cast<int>(spans.size()));
  for (const std::unique_ptr<SpanData>& span : spans) {
    if (span != nullptr) FillSpan(*span, out->Add());
  }
}

// ---------------------------------------------------------------------------
// The exporter.

absl::StatusOr<std::unique_ptr<OtlpGrpcExporter>> OtlpGrpcExporter::Create(
    OtlpExporterOptions options) {
  absl::StatusOr<std::unique_ptr<OtlpGrpcTransport>> transport =
      OtlpGrpcTransport::Create(std::move(options), kOtlpTraceExportMethod);
  if (!transport.ok()) return transport.status();
  return std::unique_ptr<OtlpGrpcExporter>(new OtlpGrpcExporter(*std::move(transport)));
}

OtlpGrpcExporter::~OtlpGrpcExporter() = default;

absl::Status OtlpGrpcExporter::Export(const Resource& resource,
                                      absl::Span<const std::unique_ptr<SpanData>> spans,
                                      absl::Time deadline) {
  const size_t size = spans.empty() ? 0 : encoder_.Prepare(resource, spans);
  return transport_->Export(
      size, [this](char* out) { encoder_.Write(out); }, spans.size(), deadline,
      ParseOtlpTraceResponse);
}

absl::Status OtlpGrpcExporter::Shutdown(absl::Duration timeout) {
  return transport_->Shutdown(timeout);
}

OtlpExporterStats OtlpGrpcExporter::Stats() const noexcept {
  return OtlpExporterStats::FromCounts(transport_->Counts());
}

std::string OtlpGrpcExporter::last_partial_success_message() const {
  return transport_->last_partial_success_message();
}

}  // namespace tracebridge
