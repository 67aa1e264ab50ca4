// CompositePropagator's baggage rule: the first format that yields non-empty
// baggage supplies it, whatever order the span-context formats come in.

#include <memory>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tracebridge/core/propagation/b3_propagator.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/composite_propagator.h"
#include "tracebridge/core/propagation/propagator.h"

namespace tracebridge {
namespace {

// Yields fixed baggage whenever its header is present, and no span context.
class FixedBaggagePropagator final : public Propagator {
 public:
  FixedBaggagePropagator(absl::string_view header, Baggage baggage)
      : header_(header), baggage_(std::move(baggage)) {}
  absl::string_view Name() const noexcept override { return "fixed-baggage"; }
  void Extract(const CarrierReader& carrier, PropagatedContext* context) const override {
    bool found = false;
    carrier.Get(header_, &found);
    if (found) context->baggage = baggage_;
  }
  void Inject(const PropagatedContext&, CarrierWriter*) const override {}
  absl::Span<const absl::string_view> Fields() const noexcept override { return {}; }

 private:
  absl::string_view header_;
  Baggage baggage_;
};

TEST(CompositePropagatorBaggageTest, FirstNonEmptyBaggageWins) {
  std::vector<std::unique_ptr<Propagator>> formats;
  formats.push_back(std::make_unique<FixedBaggagePropagator>("absent", Baggage().Set("k", "0")));
  formats.push_back(std::make_unique<B3Propagator>());
  formats.push_back(std::make_unique<FixedBaggagePropagator>("first", Baggage().Set("k", "1")));
  formats.push_back(std::make_unique<FixedBaggagePropagator>("second", Baggage().Set("k", "2")));
  const CompositePropagator composite(std::move(formats));

  VectorCarrier carrier;
  carrier.Set("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1");
  carrier.Set("first", "");
  carrier.Set("second", "");
  PropagatedContext context;
  composite.Extract(carrier, &context);
  EXPECT_TRUE(context.span_context.IsValid());
  EXPECT_EQ(context.baggage.Get("k"), absl::optional<absl::string_view>("1"));

  // No format yields baggage: the caller's baggage stays.
  PropagatedContext untouched;
  untouched.baggage = Baggage().Set("k", "mine");
  composite.Extract(VectorCarrier(), &untouched);
  EXPECT_EQ(untouched.baggage.Get("k"), absl::optional<absl::string_view>("mine"));
}

}  // namespace
}  // namespace tracebridge
