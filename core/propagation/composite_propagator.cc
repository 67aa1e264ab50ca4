#include "tracebridge/core/propagation/composite_propagator.h"

#include <algorithm>
#include <utility>

namespace tracebridge {

CompositePropagator::CompositePropagator(std::vector<std::unique_ptr<Propagator>> propagators) {
  for (auto& propagator : propagators) {
    if (propagator == nullptr) continue;
    if (!name_.empty()) name_ += ',';
    name_.append(propagator->Name().data(), propagator->Name().size());
    for (absl::string_view field : propagator->Fields()) {
      if (std::find(fields_.begin(), fields_.end(), field) == fields_.end()) {
        fields_.push_back(field);
      }
    }
    propagators_.push_back(std::move(propagator));
  }
}

void CompositePropagator::Extract(const CarrierReader& carrier, PropagatedContext* context) const {
  bool have_span_context = false;
  bool have_baggage = false;
  for (const auto& propagator : propagators_) {
    // A fresh scratch per format: a format only ever sets fields from valid
    // input, so whatever is valid here came from this format alone.
    PropagatedContext scratch;
    propagator->Extract(carrier, &scratch);
    context->baggage_dropped_invalid += scratch.baggage_dropped_invalid;
    context->baggage_dropped_over_limit += scratch.baggage_dropped_over_limit;
    if (!have_span_context && scratch.span_context.IsValid()) {
      context->span_context = std::move(scratch.span_context);
      have_span_context = true;
    }
    if (!have_baggage && !scratch.baggage.empty()) {
      context->baggage = std::move(scratch.baggage);
      have_baggage = true;
    }
  }
}

void CompositePropagator::Inject(const PropagatedContext& context, CarrierWriter* carrier) const {
  for (const auto& propagator : propagators_) propagator->Inject(context, carrier);
}

}  // namespace tracebridge
