// File: interceptors/otlp_encoder.cc
//
// Protobuf wire encoding of OTLP trace requests. Field numbers are those of
// proto/opentelemetry/proto/{collector/trace,trace,resource,common}/v1; each
// message has a `...Size` function and a `Write...` function that must agree
// field by field.

#include "tracebridge/exporters/otlp/otlp_encoder.h"

#include <cstring>
#include <string>

#include "absl/types/variant.h"

namespace tracebridge {
namespace {

// Wire types.
constexpr uint32_t kVarint = 0;
constexpr uint32_t kFixed64 = 1;
constexpr uint32_t kLengthDelimited = 2;
constexpr uint32_t kFixed32 = 5;

constexpr uint32_t Tag(uint32_t field, uint32_t wire_type) { return (field << 3) | wire_type; }

// Span.flags / Link.flags bits (trace.proto SpanFlags).
constexpr uint32_t kHasIsRemote = 0x100;
constexpr uint32_t kIsRemote = 0x200;

// SpanKind numbering in OTLP starts at UNSPECIFIED = 0.
uint32_t OtlpKind(SpanKind kind) {
  switch (kind) {
    case SpanKind::kInternal:
      return 1;
    case SpanKind::kServer:
      return 2;
    case SpanKind::kClient:
      return 3;
    case SpanKind::kProducer:
      return 4;
    case SpanKind::kConsumer:
      return 5;
  }
  return 0;
}

uint32_t Flags(TraceFlags flags, bool remote) {
  return flags.bits() | kHasIsRemote | (remote ? kIsRemote : 0);
}

uint64_t UnixNanos(int64_t nanos) { return nanos > 0 ? static_cast<uint64_t>(nanos) : 0; }

// --- primitive sizes -------------------------------------------------------

size_t VarintSize(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

size_t TagSize(uint32_t field) { return VarintSize(Tag(field, 0)); }

// A length-delimited field holding `length` bytes.
size_t LengthField(uint32_t field, size_t length) {
  return TagSize(field) + VarintSize(length) + length;
}

// proto3 leaves default scalars out.
size_t StringFieldIfSet(uint32_t field, size_t length) {
  return length == 0 ? 0 : LengthField(field, length);
}
size_t VarintFieldIfSet(uint32_t field, uint64_t value) {
  return value == 0 ? 0 : TagSize(field) + VarintSize(value);
}
size_t Fixed64FieldIfSet(uint32_t field, uint64_t value) {
  return value == 0 ? 0 : TagSize(field) + 8;
}

// --- primitive writers ------------------------------------------------------

char* WriteVarint(uint64_t value, char* out) {
  while (value >= 0x80) {
    *out++ = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  *out++ = static_cast<char>(value);
  return out;
}

char* WriteTag(uint32_t field, uint32_t wire_type, char* out) {
  return WriteVarint(Tag(field, wire_type), out);
}

char* WriteFixed64(uint64_t value, char* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(value >> (8 * i));
  return out + 8;
}

char* WriteFixed32(uint32_t value, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(value >> (8 * i));
  return out + 4;
}

char* WriteBytes(const void* data, size_t size, char* out) {
  if (size > 0) std::memcpy(out, data, size);
  return out + size;
}

char* WriteLengthField(uint32_t field, const void* data, size_t size, char* out) {
  out = WriteTag(field, kLengthDelimited, out);
  out = WriteVarint(size, out);
  return WriteBytes(data, size, out);
}

char* WriteStringFieldIfSet(uint32_t field, absl::string_view text, char* out) {
  return text.empty() ? out : WriteLengthField(field, text.data(), text.size(), out);
}

char* WriteVarintFieldIfSet(uint32_t field, uint64_t value, char* out) {
  if (value == 0) return out;
  out = WriteTag(field, kVarint, out);
  return WriteVarint(value, out);
}

char* WriteFixed64FieldIfSet(uint32_t field, uint64_t value, char* out) {
  if (value == 0) return out;
  out = WriteTag(field, kFixed64, out);
  return WriteFixed64(value, out);
}

// Opens a nested message of `size` bytes.
char* WriteMessageHeader(uint32_t field, size_t size, char* out) {
  out = WriteTag(field, kLengthDelimited, out);
  return WriteVarint(size, out);
}

// --- common.v1 --------------------------------------------------------------

// AnyValue: a oneof, so the chosen member is written even when it holds its
// type's default ("", 0, false).
struct AnyValueSize {
  size_t operator()(const std::string& v) const { return LengthField(1, v.size()); }
  size_t operator()(bool) const { return 2; }
  size_t operator()(int64_t v) const { return 1 + VarintSize(static_cast<uint64_t>(v)); }
  size_t operator()(double) const { return 9; }
};

struct AnyValueWriter {
  char* out;
  char* operator()(const std::string& v) const {
    return WriteLengthField(1, v.data(), v.size(), out);
  }
  char* operator()(bool v) const {
    char* p = WriteTag(2, kVarint, out);
    *p++ = v ? 1 : 0;
    return p;
  }
  char* operator()(int64_t v) const {
    return WriteVarint(static_cast<uint64_t>(v), WriteTag(3, kVarint, out));
  }
  char* operator()(double v) const {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    return WriteFixed64(bits, WriteTag(4, kFixed64, out));
  }
};

// KeyValue { key = 1; value = 2 }.
size_t KeyValueSize(const Attribute& attribute) {
  const size_t value = absl::visit(AnyValueSize{}, attribute.value);
  return StringFieldIfSet(1, attribute.key.size()) + LengthField(2, value);
}

char* WriteKeyValue(uint32_t field, const Attribute& attribute, char* out) {
  out = WriteMessageHeader(field, KeyValueSize(attribute), out);
  out = WriteStringFieldIfSet(1, attribute.key, out);
  out = WriteMessageHeader(2, absl::visit(AnyValueSize{}, attribute.value), out);
  return absl::visit(AnyValueWriter{out}, attribute.value);
}

template <typename Attributes>
size_t AttributesSize(uint32_t field, const Attributes& attributes) {
  size_t size = 0;
  for (const Attribute& attribute : attributes) {
    size += LengthField(field, KeyValueSize(attribute));
  }
  return size;
}

template <typename Attributes>
char* WriteAttributes(uint32_t field, const Attributes& attributes, char* out) {
  for (const Attribute& attribute : attributes) out = WriteKeyValue(field, attribute, out);
  return out;
}

// --- trace.v1 ---------------------------------------------------------------

constexpr size_t kTraceIdField = 1 + 1 + TraceId::kSize;
constexpr size_t kSpanIdField = 1 + 1 + SpanId::kSize;
// A fixed32 field numbered below 16: one tag byte and four bytes.
constexpr size_t kSmallFixed32Field = 1 + 4;

// Span.Event { time = 1 (fixed64); name = 2; attributes = 3; dropped = 4 }.
size_t EventSize(const SpanEvent& event) {
  return Fixed64FieldIfSet(1, UnixNanos(event.time_unix_nanos)) +
         StringFieldIfSet(2, event.name.size()) + AttributesSize(3, event.attributes) +
         VarintFieldIfSet(4, event.dropped_attributes);
}

char* WriteEvent(const SpanEvent& event, char* out) {
  out = WriteMessageHeader(11, EventSize(event), out);
  out = WriteFixed64FieldIfSet(1, UnixNanos(event.time_unix_nanos), out);
  out = WriteStringFieldIfSet(2, event.name, out);
  out = WriteAttributes(3, event.attributes, out);
  return WriteVarintFieldIfSet(4, event.dropped_attributes, out);
}

// Span.Link { trace_id = 1; span_id = 2; trace_state = 3; attributes = 4;
//             dropped = 5; flags = 6 (fixed32) }.
size_t LinkSize(const SpanLink& link, size_t trace_state_size) {
  return kTraceIdField + kSpanIdField + StringFieldIfSet(3, trace_state_size) +
         AttributesSize(4, link.attributes) + VarintFieldIfSet(5, link.dropped_attributes) +
         kSmallFixed32Field;
}

std::string TraceStateHeader(const TraceState& state) {
  return state.empty() ? std::string() : state.ToHeader();
}

char* WriteLink(const SpanLink& link, char* out) {
  const std::string trace_state = TraceStateHeader(link.context.trace_state());
  out = WriteMessageHeader(13, LinkSize(link, trace_state.size()), out);
  out = WriteLengthField(1, link.context.trace_id().bytes().data(), TraceId::kSize, out);
  out = WriteLengthField(2, link.context.span_id().bytes().data(), SpanId::kSize, out);
  out = WriteStringFieldIfSet(3, trace_state, out);
  out = WriteAttributes(4, link.attributes, out);
  out = WriteVarintFieldIfSet(5, link.dropped_attributes, out);
  out = WriteTag(6, kFixed32, out);
  return WriteFixed32(Flags(link.context.trace_flags(), link.context.IsRemote()), out);
}

// Status { message = 2; code = 3 }; absent for an unset status, the message
// only with an error.
size_t StatusSize(const SpanData& span) {
  switch (span.status) {
    case StatusCode::kUnset:
      return 0;
    case StatusCode::kOk:
      return 2;
    case StatusCode::kError:
      return StringFieldIfSet(2, span.status_description.size()) + 2;
  }
  return 0;
}

bool ParentIsRemote(const SpanData& span) {
  return span.parent_span_id.IsValid() && span.parent_is_remote;
}

// Span, fields in number order (as protobuf writes them): 1-15, then flags
// (16) last.
size_t SpanSize(const SpanData& span) {
  size_t size = kTraceIdField + kSpanIdField;
  if (!span.context.trace_state().empty()) {
    size += StringFieldIfSet(3, span.context.trace_state().ToHeader().size());
  }
  if (span.parent_span_id.IsValid()) size += kSpanIdField;
  size += StringFieldIfSet(5, span.name.size());
  size += VarintFieldIfSet(6, OtlpKind(span.kind));
  size += Fixed64FieldIfSet(7, UnixNanos(span.start_unix_nanos));
  size += Fixed64FieldIfSet(8, UnixNanos(span.end_unix_nanos));
  size += AttributesSize(9, span.attributes);
  size += VarintFieldIfSet(10, span.dropped_attributes);
  for (const SpanEvent& event : span.events) size += LengthField(11, EventSize(event));
  size += VarintFieldIfSet(12, span.dropped_events);
  for (const SpanLink& link : span.links) {
    size += LengthField(13, LinkSize(link, TraceStateHeader(link.context.trace_state()).size()));
  }
  size += VarintFieldIfSet(14, span.dropped_links);
  if (span.status != StatusCode::kUnset) size += LengthField(15, StatusSize(span));
  size += TagSize(16) + 4;
  return size;
}

char* WriteSpan(const SpanData& span, size_t size, char* out) {
  out = WriteMessageHeader(2, size, out);
  out = WriteLengthField(1, span.context.trace_id().bytes().data(), TraceId::kSize, out);
  out = WriteLengthField(2, span.context.span_id().bytes().data(), SpanId::kSize, out);
  if (!span.context.trace_state().empty()) {
    out = WriteStringFieldIfSet(3, span.context.trace_state().ToHeader(), out);
  }
  if (span.parent_span_id.IsValid()) {
    out = WriteLengthField(4, span.parent_span_id.bytes().data(), SpanId::kSize, out);
  }
  out = WriteStringFieldIfSet(5, span.name, out);
  out = WriteVarintFieldIfSet(6, OtlpKind(span.kind), out);
  out = WriteFixed64FieldIfSet(7, UnixNanos(span.start_unix_nanos), out);
  out = WriteFixed64FieldIfSet(8, UnixNanos(span.end_unix_nanos), out);
  out = WriteAttributes(9, span.attributes, out);
  out = WriteVarintFieldIfSet(10, span.dropped_attributes, out);
  for (const SpanEvent& event : span.events) out = WriteEvent(event, out);
  out = WriteVarintFieldIfSet(12, span.dropped_events, out);
  for (const SpanLink& link : span.links) out = WriteLink(link, out);
  out = WriteVarintFieldIfSet(14, span.dropped_links, out);
  if (span.status != StatusCode::kUnset) {
    out = WriteMessageHeader(15, StatusSize(span), out);
    if (span.status == StatusCode::kError) {
      out = WriteStringFieldIfSet(2, span.status_description, out);
    }
    out = WriteVarintFieldIfSet(3, span.status == StatusCode::kOk ? 1 : 2, out);
  }
  out = WriteTag(16, kFixed32, out);
  return WriteFixed32(Flags(span.context.trace_flags(), ParentIsRemote(span)), out);
}

}  // namespace

size_t OtlpTraceEncoder::Prepare(const Resource& resource,
                                 absl::Span<const std::unique_ptr<SpanData>> spans) {
  resource_ = &resource;
  spans_ = spans;

  // Resource { attributes = 1 }: `service_name` is authoritative; a
  // `service.name` attribute counts only when it is empty (keys are unique).
  resource_attributes_.clear();
  const Attribute* service_attribute = nullptr;
  for (const Attribute& attribute : resource.attributes) {
    if (attribute.key == "service.name") service_attribute = &attribute;
  }
  if (!resource.service_name.empty() || service_attribute == nullptr) {
    service_name_.key = "service.name";
    service_name_.value =
        resource.service_name.empty() ? std::string("unknown_service") : resource.service_name;
    resource_attributes_.push_back(&service_name_);
    service_attribute = nullptr;
  }
  for (const Attribute& attribute : resource.attributes) {
    if (attribute.key == "service.name" && &attribute != service_attribute) continue;
    resource_attributes_.push_back(&attribute);
  }
  resource_size_ = 0;
  for (const Attribute* attribute : resource_attributes_) {
    resource_size_ += LengthField(1, KeyValueSize(*attribute));
  }

  // InstrumentationScope { name = 1; version = 2 }.
  scope_size_ = LengthField(1, kOtlpScopeName.size()) + LengthField(2, kOtlpScopeVersion.size());

  // ScopeSpans { scope = 1; spans = 2 }.
  scope_spans_size_ = LengthField(1, scope_size_);
  span_sizes_.clear();
  span_sizes_.reserve(spans.size());
  for (const std::unique_ptr<SpanData>& span : spans) {
    if (span == nullptr) continue;
    const size_t size = SpanSize(*span);
    span_sizes_.push_back(size);
    scope_spans_size_ += LengthField(2, size);
  }

  // ResourceSpans { resource = 1; scope_spans = 2 }; the request holds one.
  resource_spans_size_ = LengthField(1, resource_size_) + LengthField(2, scope_spans_size_);
  return LengthField(1, resource_spans_size_);
}

char* OtlpTraceEncoder::Write(char* out) const {
  out = WriteMessageHeader(1, resource_spans_size_, out);  // request.resource_spans
  out = WriteMessageHeader(1, resource_size_, out);        // .resource
  for (const Attribute* attribute : resource_attributes_) out = WriteKeyValue(1, *attribute, out);
  out = WriteMessageHeader(2, scope_spans_size_, out);  // .scope_spans
  out = WriteMessageHeader(1, scope_size_, out);        // .scope
  out = WriteLengthField(1, kOtlpScopeName.data(), kOtlpScopeName.size(), out);
  out = WriteLengthField(2, kOtlpScopeVersion.data(), kOtlpScopeVersion.size(), out);
  size_t index = 0;
  for (const std::unique_ptr<SpanData>& span : spans_) {
    if (span == nullptr) continue;
    out = WriteSpan(*span, span_sizes_[index++], out);
  }
  return out;
}

std::string EncodeOtlpExportRequest(const Resource& resource,
                                    absl::Span<const std::unique_ptr<SpanData>> spans) {
  OtlpTraceEncoder encoder;
  std::string bytes(encoder.Prepare(resource, spans), '\0');
  encoder.Write(&bytes[0]);
  return bytes;
}

}  // namespace tracebridge
