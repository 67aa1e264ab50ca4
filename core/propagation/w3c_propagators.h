// File: tracebridge/core/propagation/w3c_propagators.h
//
// The W3C propagators: Trace Context level 2 (`traceparent`, `tracestate`)
// and Baggage (`baggage`), plus the pure parse and format functions under
// them, which fuzzers and benchmarks call directly.
//
// Trace Context. `Extract` accepts exactly the `traceparent` grammar:
// lowercase hex only, version `ff` rejected, version `00` exactly 55
// characters, a higher version parsed by its first 55 characters when the
// next character is `-` or the end; all-zero ids rejected; spaces and tabs
// around the value trimmed. Two or more `traceparent` values mean no parent.
// `tracestate` values are parsed as if joined with "," in order, and only
// when `traceparent` is valid; an invalid `tracestate` is dropped while the
// parent still applies. The flags byte is kept as received. `Inject` writes
// version `00`, which defines only the `sampled` and `random` bits, so the
// reserved bits are cleared on the wire (the spec's "vendors MUST set those
// to zero"). Extracting and injecting the parent allocate nothing; only a
// non-empty `tracestate` allocates on extract, and never on inject.
//
// Baggage. `Extract` reads every `baggage` value in order as one list. Each
// member is judged alone: a malformed member (bad key, a byte outside the
// baggage-octet set in its value, a malformed property, an empty member) is
// skipped and the rest kept. Members are taken in order while they fit in 64
// members and 8192 bytes (as re-encoded, with commas); a member that does not
// fit is dropped whole and a later one that still fits is kept. A repeated
// key replaces the earlier value in place. Values are percent-decoded (`%`
// not followed by two hex digits stays a literal `%`), then invalid UTF-8 is
// replaced with U+FFFD per maximal invalid subsequence. Properties are kept
// as received, trimmed. When no member survives, the context's baggage is
// left as it was. Memory stays bounded whatever the header size: a member is
// validated before anything is copied, and its value is decoded only up to
// the remaining byte budget.
//
// Example:
//
//   tracebridge::TraceContextPropagator trace_context;
//   tracebridge::BaggagePropagator baggage;
//   tracebridge::PropagatedContext incoming;
//   trace_context.Extract(request_headers, &incoming);
//   baggage.Extract(request_headers, &incoming);
//
//   char text[tracebridge::kTraceparentSize];
//   tracebridge::FormatTraceparent(incoming.span_context, text);

#ifndef TRACEBRIDGE_CORE_PROPAGATION_W3C_PROPAGATORS_H_
#define TRACEBRIDGE_CORE_PROPAGATION_W3C_PROPAGATORS_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/propagator.h"
#include "tracebridge/core/trace/baggage.h"
#include "tracebridge/core/trace/ids.h"
#include "tracebridge/core/trace/span_context.h"

namespace tracebridge {

// The length of a version-00 `traceparent` value:
// `00-` + 32 hex + `-` + 16 hex + `-` + 2 hex.
inline constexpr size_t kTraceparentSize = 55;

// Parses a `traceparent` value by the rules in the file comment. On success
// writes all three outputs and returns true; on failure writes nothing.
// Allocates nothing.
bool ParseTraceparent(absl::string_view value, TraceId* trace_id, SpanId* span_id,
                      TraceFlags* flags) noexcept;

// Writes the version-00 `traceparent` for `context` (ids as they are, flags
// masked to `sampled | random`). Allocates nothing; `out` is not terminated.
void FormatTraceparent(const SpanContext& context, char (&out)[kTraceparentSize]) noexcept;

// Adds the members of one `baggage` header value to `*builder` by the rules
// in the file comment. Call once per received value, in order.
void AppendBaggageMembers(absl::string_view header, BaggageBuilder* builder);

// Parses one `baggage` header value. When at least one member survives,
// replaces `*out` and returns true; otherwise leaves it and returns false.
bool ParseBaggageHeader(absl::string_view header, Baggage* out);

// The `baggage` header value for `baggage`: `key=percent-encoded-value` plus
// `;properties` when present, comma-separated. Never longer than 8192 bytes
// nor more than 64 members (members past a bound are left out whole; a
// `Baggage` built through `Set` or `BaggageBuilder` always fits).
std::string FormatBaggageHeader(const Baggage& baggage);

// Percent-decodes a baggage value (`%XX`, either case; a `%` without two hex
// digits is kept literally), replaces invalid UTF-8 with U+FFFD, and stores
// the result in `*out`. Returns false, with `*out` unspecified, when the
// decoded text would be longer than `max_size` bytes; the work done is then
// bounded by `max_size`, not by the input.
bool DecodeBaggageValue(absl::string_view encoded, size_t max_size, std::string* out);

// W3C Trace Context level 2: `traceparent` and `tracestate`.
class TraceContextPropagator final : public Propagator {
 public:
  static constexpr absl::string_view kTraceparent = "traceparent";
  static constexpr absl::string_view kTracestate = "tracestate";

  // "tracecontext".
  absl::string_view Name() const noexcept override;

  // Sets `context->span_context` (remote, flags as received) from a valid
  // `traceparent`; leaves `*context` untouched otherwise. Never touches the
  // baggage.
  void Extract(const CarrierReader& carrier, PropagatedContext* context) const override;

  // Writes `traceparent` (version 00) and, when the trace state formats to
  // something non-empty, `tracestate`. Writes nothing for an invalid context.
  void Inject(const PropagatedContext& context, CarrierWriter* carrier) const override;

  // {"traceparent", "tracestate"}.
  absl::Span<const absl::string_view> Fields() const noexcept override;
};

// W3C Baggage: `baggage`.
class BaggagePropagator final : public Propagator {
 public:
  static constexpr absl::string_view kBaggage = "baggage";

  // "baggage".
  absl::string_view Name() const noexcept override;

  // Replaces `context->baggage` with the members read from every `baggage`
  // value, when at least one survives; never touches the span context.
  void Extract(const CarrierReader& carrier, PropagatedContext* context) const override;

  // Writes `baggage` unless the baggage is empty.
  void Inject(const PropagatedContext& context, CarrierWriter* carrier) const override;

  // {"baggage"}.
  absl::Span<const absl::string_view> Fields() const noexcept override;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_PROPAGATION_W3C_PROPAGATORS_H_
