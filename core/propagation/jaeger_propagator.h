// File: tracebridge/core/propagation/jaeger_propagator.h
//
// `JaegerPropagator`: Jaeger's native `uber-trace-id` header,
// `{trace-id}:{span-id}:{parent-span-id}:{flags}`, OTEL_PROPAGATORS name
// "jaeger".
//
// Accepted on extract:
// - trace id: 1 to 32 lowercase hex digits, left-padded with zeros (Jaeger
//   clients print ids without leading zeros); span id: 1 to 16 digits. All-zero
//   ids are invalid; uppercase hex is invalid (lowercase convention).
// - parent span id: 1 to 16 hex digits, checked for shape and ignored (it is
//   deprecated; the caller's span id is the parent).
// - flags: 1 or 2 hex digits; bit 0x01 sampled, bit 0x02 debug (debug implies
//   sampled and is kept with `SpanContext::WithDebug`); other bits ignored.
// - The value may be URL-encoded (`%3A` or `%3a` for each `:`), as some
//   HTTP clients send it; any other `%` escape is malformed.
// - Values longer than `kMaxHeaderSize` are rejected before any decoding.
//
// Inject writes `{32 hex}:{16 hex}:0:{flags}` with flags `0`, `1` or `3`
// (debug is sent with the sampled bit, as Jaeger clients do).
//
// Jaeger baggage (`uberctx-{key}` headers) is not read or written: Baggage
// building lands with the W3C baggage work (core/baggage.cc); use the W3C
// `baggage` header alongside `jaeger` meanwhile.
//
// Thread safety: immutable; share freely.
//
// Example:
//
//   tracebridge::JaegerPropagator jaeger;
//   tracebridge::VectorCarrier headers;
//   headers.Set("uber-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736:f067aa0ba902b7:0:1");
//   tracebridge::PropagatedContext incoming;
//   jaeger.Extract(headers, &incoming);  // span id 00f067aa0ba902b7, sampled

#ifndef TRACEBRIDGE_CORE_PROPAGATION_JAEGER_PROPAGATOR_H_
#define TRACEBRIDGE_CORE_PROPAGATION_JAEGER_PROPAGATOR_H_

#include <cstddef>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/propagator.h"
#include "tracebridge/core/trace/span_context.h"

namespace tracebridge {

class JaegerPropagator final : public Propagator {
 public:
  // The longest (possibly URL-encoded) value read: the longest valid
  // decoded value is 32+16+16+2 digits and 3 separators (69 bytes); encoded
  // separators add 6, and the rest is slack.
  static constexpr size_t kMaxHeaderSize = 128;

  // The size of a formatted value: `{32 hex}:{16 hex}:0:{flag digit}`.
  static constexpr size_t kHeaderSize = 53;

  JaegerPropagator() noexcept = default;

  // "jaeger".
  absl::string_view Name() const noexcept override;

  void Extract(const CarrierReader& carrier, PropagatedContext* context) const override;
  void Inject(const PropagatedContext& context, CarrierWriter* carrier) const override;

  // "uber-trace-id".
  absl::Span<const absl::string_view> Fields() const noexcept override;

  // Parses an `uber-trace-id` value. On success sets `*out` (remote) and
  // returns true; otherwise returns false and leaves `*out` untouched.
  // Allocation-free.
  static bool Parse(absl::string_view value, SpanContext* out) noexcept;

  // Writes the value for a valid `context` to `out` and returns its length
  // (always `kHeaderSize`); returns 0 for an invalid context.
  static size_t Format(const SpanContext& context, char (&out)[kHeaderSize]) noexcept;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_PROPAGATION_JAEGER_PROPAGATOR_H_
