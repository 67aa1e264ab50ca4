// File: tracebridge/core/propagation/composite_propagator.h
//
// `CompositePropagator`: several wire formats behind one `Propagator`, for a
// service that must understand more than one kind of caller (say W3C from
// OpenTelemetry peers, B3 from a Zipkin-instrumented proxy and `X-Trace-ID`
// from a legacy gateway).
//
// Extract runs every configured format, in order, each into a fresh
// `PropagatedContext`, so no format sees or disturbs another's result:
// - the first format that yields a valid span context supplies it; later
//   formats cannot override it;
// - the first format that yields non-empty baggage supplies the baggage;
// - a format with absent or malformed input contributes nothing, whether it
//   comes before or after the one that succeeds;
// - when no format yields a field, that field of `*context` is left as it
//   was (the `Propagator` contract).
// Inject writes every configured format. `Fields()` is the union of the
// formats' fields, in order, without duplicates.
//
// Thread safety: immutable after construction; share freely.
//
// Example:
//
//   std::vector<std::unique_ptr<tracebridge::Propagator>> formats;
//   formats.push_back(std::make_unique<tracebridge::B3Propagator>());
//   formats.push_back(std::make_unique<tracebridge::XTracePropagator>());
//   tracebridge::CompositePropagator propagator(std::move(formats));
//   propagator.Extract(request_headers, &incoming);   // B3 first, then X-Trace-ID
//   propagator.Inject(outgoing, &outgoing_headers);   // both

#ifndef TRACEBRIDGE_CORE_PROPAGATION_COMPOSITE_PROPAGATOR_H_
#define TRACEBRIDGE_CORE_PROPAGATION_COMPOSITE_PROPAGATOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/propagator.h"

namespace tracebridge {

class CompositePropagator final : public Propagator {
 public:
  // Takes ownership of `propagators`, tried in this order; null entries are
  // skipped. An empty list extracts and injects nothing.
  explicit CompositePropagator(std::vector<std::unique_ptr<Propagator>> propagators);

  // The configured formats' names joined with "," (e.g. "b3,xtrace"); empty
  // for no formats. Composites have no OTEL_PROPAGATORS name of their own.
  absl::string_view Name() const noexcept override { return name_; }

  void Extract(const CarrierReader& carrier, PropagatedContext* context) const override;
  void Inject(const PropagatedContext& context, CarrierWriter* carrier) const override;

  // The union of the formats' fields, first occurrence order.
  absl::Span<const absl::string_view> Fields() const noexcept override {
    return absl::MakeConstSpan(fields_);
  }

  // The configured formats, in order.
  const std::vector<std::unique_ptr<Propagator>>& propagators() const noexcept {
    return propagators_;
  }

 private:
  std::vector<std::unique_ptr<Propagator>> propagators_;
  std::string name_;
  // Views into the formats' own field names, which live as long as they do.
  std::vector<absl::string_view> fields_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_PROPAGATION_COMPOSITE_PROPAGATOR_H_
