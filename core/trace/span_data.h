// File: tracebridge/core/trace/span_data.h
//
// The record of one sampled span, as processors and exporters receive it when
// the span ends, plus the vocabulary it is written in: kinds, status codes,
// attribute values, events, links, and the per-span limits.
//
// Example (in an exporter):
//
//   void Export(absl::Span<const std::unique_ptr<SpanData>> batch) {
//     for (const auto& span : batch) {
//       Write(span->name, span->context.trace_id().ToHex(), span->DurationNanos());
//     }
//   }

#ifndef TRACEBRIDGE_CORE_TRACE_SPAN_DATA_H_
#define TRACEBRIDGE_CORE_TRACE_SPAN_DATA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "absl/types/variant.h"
#include "tracebridge/core/trace/span_context.h"

namespace tracebridge {

// What a span describes, as the OpenTelemetry data model defines it.
enum class SpanKind : uint8_t { kInternal, kServer, kClient, kProducer, kConsumer };

// The lowercase name of `kind` ("server", "client", ...).
absl::string_view SpanKindName(SpanKind kind) noexcept;

// A span's outcome. `kOk` is final once set; `kError` carries a description.
enum class StatusCode : uint8_t { kUnset, kOk, kError };

// "unset", "ok" or "error".
absl::string_view StatusCodeName(StatusCode code) noexcept;

// An attribute value: string, 64-bit integer, double or bool.
using AttributeValue = absl::variant<std::string, int64_t, double, bool>;

struct Attribute {
  std::string key;
  AttributeValue value;
};

// Attributes stored inline up to this many before the first allocation:
// enough for the semantic-convention set of one RPC or HTTP request.
inline constexpr size_t kInlineAttributes = 8;
using AttributeList = absl::InlinedVector<Attribute, kInlineAttributes>;

// A timestamped annotation on a span.
struct SpanEvent {
  std::string name;
  int64_t time_unix_nanos = 0;
  std::vector<Attribute> attributes;
  uint32_t dropped_attributes = 0;
};

// A reference to another span (for example the untrusted caller a server
// restarted the trace from).
struct SpanLink {
  SpanContext context;
  std::vector<Attribute> attributes;
  uint32_t dropped_attributes = 0;
};

// Bounds on what one span may hold; what goes over is dropped and counted in
// the span's `dropped_*` fields, never stored.
struct SpanLimits {
  uint32_t max_attributes = 128;
  uint32_t max_events = 128;
  uint32_t max_links = 128;
  uint32_t max_attributes_per_event = 128;
  uint32_t max_attributes_per_link = 128;
  // Longer string values (and names) are cut at a UTF-8 boundary to this many
  // bytes: header-derived values come from untrusted peers.
  uint32_t max_string_length = 4096;
};

// One ended, sampled span.
//
// Every string in a `SpanData` that a `Tracer` produced is valid UTF-8 (the
// span API repairs what it takes in), and the exporters and the query service
// write these strings as they are. A `SpanData` built by hand and handed to
// an exporter directly must hold valid UTF-8 too (see core/util/utf8.h).
struct SpanData {
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  SpanContext context;
  // Invalid for a root span.
  SpanId parent_span_id;
  bool parent_is_remote = false;
  int64_t start_unix_nanos = 0;
  int64_t end_unix_nanos = 0;
  AttributeList attributes;
  uint32_t dropped_attributes = 0;
  std::vector<SpanEvent> events;
  uint32_t dropped_events = 0;
  std::vector<SpanLink> links;
  uint32_t dropped_links = 0;
  StatusCode status = StatusCode::kUnset;
  std::string status_description;

  int64_t DurationNanos() const noexcept { return end_unix_nanos - start_unix_nanos; }

  // The value of attribute `key`, or nullptr.
  const AttributeValue* FindAttribute(absl::string_view key) const noexcept;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_TRACE_SPAN_DATA_H_
