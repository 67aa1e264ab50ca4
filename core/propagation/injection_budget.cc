#include "tracebridge/core/propagation/injection_budget.h"

#include <string>

#include "tracebridge/core/propagation/w3c_propagators.h"

namespace tracebridge {
namespace {

// Adds up what `Set` would write, as the budget counts it; stores nothing.
class MeasuringWriter final : public CarrierWriter {
 public:
  void Set(absl::string_view key, absl::string_view value) override {
    bytes_ += key.size() + value.size() + kInjectedFieldOverhead;
  }
  size_t bytes() const noexcept { return bytes_; }

 private:
  size_t bytes_ = 0;
};

}  // namespace

size_t InjectedSize(const Propagator& propagator, const PropagatedContext& context) {
  MeasuringWriter writer;
  propagator.Inject(context, &writer);
  return writer.bytes();
}

Baggage FitBaggage(const Baggage& baggage, size_t room) {
  const size_t field = BaggagePropagator::kBaggage.size() + kInjectedFieldOverhead;
  if (room <= field) return Baggage();
  const size_t header_room = room - field;
  BaggageBuilder builder;
  size_t header = 0;
  for (const Baggage::Entry& entry : baggage.entries()) {
    const size_t cost = Baggage::EncodedSize(entry) + (builder.size() == 0 ? 0 : 1);  // comma
    if (header + cost > header_room) continue;
    if (builder.Add(entry.key, entry.value, entry.properties)) header += cost;
  }
  return std::move(builder).Build();
}

size_t InjectWithinBudget(const Propagator& propagator, const PropagatedContext& context,
                          size_t budget, CarrierWriter* carrier) {
  if (context.baggage.empty() || InjectedSize(propagator, context) <= budget) {
    propagator.Inject(context, carrier);
    return 0;
  }
  PropagatedContext trimmed;
  trimmed.span_context = context.span_context;
  const size_t trace_context = InjectedSize(propagator, trimmed);
  trimmed.baggage =
      FitBaggage(context.baggage, budget > trace_context ? budget - trace_context : 0);
  if (!trimmed.baggage.empty() && InjectedSize(propagator, trimmed) > budget) {
    trimmed.baggage = Baggage();
  }
  propagator.Inject(trimmed, carrier);
  return context.baggage.size() - trimmed.baggage.size();
}

}  // namespace tracebridge
