// File: tracebridge/core/propagation/xtrace_propagator.h
//
// `XTracePropagator`: the legacy `X-Trace-ID` / `X-Span-ID` headers that
// gin-monitor style services send and expect; OTEL_PROPAGATORS name "xtrace"
// (ours, not an OpenTelemetry name).
//
// Liberal in what it accepts, strict in shape: each value may carry
// surrounding spaces or tabs and uppercase hex (folded to lowercase in a
// fixed buffer); after that the trace id must be exactly 32 hex digits (or 16,
// left-padded with zeros) and the span id exactly 16. Both headers are
// required: a trace id alone yields no context, because a span context needs
// the caller's span id and we do not invent one. All-zero ids are invalid.
// Values longer than `kMaxValueSize` are rejected before any scanning.
//
// The wire carries no sampling decision. Callers using these headers expect
// their trace to be recorded, so an extracted context is sampled by default;
// `XTracePropagatorOptions::sampled` changes that. Inject writes both headers
// in lowercase hex under lowercase keys (`x-trace-id`, `x-span-id`): HTTP is
// case-insensitive and gRPC metadata requires lowercase.
//
// Thread safety: immutable; share freely.
//
// Example:
//
//   tracebridge::XTracePropagator xtrace;  // extracted contexts are sampled
//   tracebridge::VectorCarrier headers;
//   headers.Set("X-Trace-ID", " 4BF92F3577B34DA6A3CE929D0E0E4736 ");
//   headers.Set("X-Span-ID", "00f067aa0ba902b7");
//   tracebridge::PropagatedContext incoming;
//   xtrace.Extract(headers, &incoming);

#ifndef TRACEBRIDGE_CORE_PROPAGATION_XTRACE_PROPAGATOR_H_
#define TRACEBRIDGE_CORE_PROPAGATION_XTRACE_PROPAGATOR_H_

#include <cstddef>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/propagator.h"
#include "tracebridge/core/trace/span_context.h"

namespace tracebridge {

// Options for `XTracePropagator`.
struct XTracePropagatorOptions {
  // The sampled flag an extracted context gets (the wire has none).
  bool sampled = true;
};

class XTracePropagator final : public Propagator {
 public:
  // The longest header value read, whitespace included.
  static constexpr size_t kMaxValueSize = 64;

  // The two header values of one context, lowercase hex.
  struct Formatted {
    char trace_id[32];
    char span_id[16];
  };

  explicit XTracePropagator(XTracePropagatorOptions options = XTracePropagatorOptions()) noexcept
      : options_(options) {}

  // "xtrace".
  absl::string_view Name() const noexcept override;

  void Extract(const CarrierReader& carrier, PropagatedContext* context) const override;
  void Inject(const PropagatedContext& context, CarrierWriter* carrier) const override;

  // "x-trace-id", "x-span-id".
  absl::Span<const absl::string_view> Fields() const noexcept override;

  // Parses the two header values as described above, giving the context the
  // `sampled` flag. On success sets `*out` (remote) and returns true;
  // otherwise returns false and leaves `*out` untouched. Allocation-free.
  static bool Parse(absl::string_view trace_id, absl::string_view span_id, bool sampled,
                    SpanContext* out) noexcept;

  // Fills `*out` for a valid `context`; returns false for an invalid one.
  static bool Format(const SpanContext& context, Formatted* out) noexcept;

 private:
  XTracePropagatorOptions options_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_PROPAGATION_XTRACE_PROPAGATOR_H_
