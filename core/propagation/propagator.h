// File: tracebridge/core/propagation/propagator.h
//
// The propagator interface and what it carries across a process boundary: a
// remote parent `SpanContext` and the `Baggage`. Every wire format (W3C Trace
// Context and Baggage, B3 single and multi, Jaeger, `grpc-trace-bin`, the
// legacy `X-Trace-ID`/`X-Span-ID` headers) implements it against the carrier
// interface, so the gRPC and HTTP doors share them.
//
// Contract for every implementation:
// - `Extract` sets only the fields its format carries, and only from valid
//   input. Absent or malformed input leaves `*context` exactly as it was.
// - Nothing throws. Work and memory are bounded by the format's documented
//   limits, never by the size of an attacker's header.
// - `Inject` writes nothing for an invalid span context (or empty baggage).
//
// Example:
//
//   std::unique_ptr<tracebridge::Propagator> propagator = ...;
//   tracebridge::PropagatedContext incoming;
//   propagator->Extract(request_headers, &incoming);
//   ...
//   propagator->Inject(outgoing, &outgoing_headers);

#ifndef TRACEBRIDGE_CORE_PROPAGATION_PROPAGATOR_H_
#define TRACEBRIDGE_CORE_PROPAGATION_PROPAGATOR_H_

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/trace/span_context.h"

namespace tracebridge {

class Propagator {
 public:
  virtual ~Propagator() = default;

  // The format's conventional name, as `OTEL_PROPAGATORS` spells it:
  // "tracecontext", "baggage", "b3", "b3multi", "jaeger", "grpc-trace-bin",
  // "xtrace".
  virtual absl::string_view Name() const noexcept = 0;

  // Reads this format from `carrier` into `*context` (see the contract above).
  // An extracted span context has `IsRemote() == true`.
  virtual void Extract(const CarrierReader& carrier, PropagatedContext* context) const = 0;

  // Writes this format's fields for `context` to `carrier`.
  virtual void Inject(const PropagatedContext& context, CarrierWriter* carrier) const = 0;

  // The lowercase keys this format reads and writes.
  virtual absl::Span<const absl::string_view> Fields() const noexcept = 0;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_PROPAGATION_PROPAGATOR_H_
