// CompositePropagator and MakePropagators, exercised with the B3, Jaeger,
// grpc-trace-bin and X-Trace-ID formats.

#include "tracebridge/core/propagation/composite_propagator.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tracebridge/core/propagation/b3_propagator.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/grpc_trace_bin_propagator.h"
#include "tracebridge/core/propagation/jaeger_propagator.h"
#include "tracebridge/core/propagation/propagator.h"
#include "tracebridge/core/propagation/propagators.h"
#include "tracebridge/core/propagation/xtrace_propagator.h"

namespace tracebridge {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kB3Trace[] = "80f198ee56343ba864fe8b2a57d3eff7";
constexpr char kB3Span[] = "e457b5a2e4d86bd1";
constexpr char kXTrace[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kXSpan[] = "00f067aa0ba902b7";

SpanContext Sentinel() {
  return SpanContext(TraceId::FromHex("0af7651916cd43dd8448eb211c80319c"),
                     SpanId::FromHex("b7ad6b7169203331"), TraceFlags(0), /*is_remote=*/false);
}

// A format that breaks the contract on purpose: it always overwrites the
// span context with an invalid one. The composite must not let it undo an
// earlier format's result.
class ClobberingPropagator final : public Propagator {
 public:
  absl::string_view Name() const noexcept override { return "clobber"; }
  void Extract(const CarrierReader&, PropagatedContext* context) const override {
    context->span_context = SpanContext();
  }
  void Inject(const PropagatedContext&, CarrierWriter* carrier) const override {
    carrier->Set("x-clobber", "1");
  }
  absl::Span<const absl::string_view> Fields() const noexcept override {
    static constexpr absl::string_view kFields[] = {"x-clobber", "b3"};
    return absl::MakeConstSpan(kFields);
  }
};

template <typename... Ps>
CompositePropagator Make(std::unique_ptr<Ps>... propagators) {
  std::vector<std::unique_ptr<Propagator>> list;
  (list.push_back(std::move(propagators)), ...);
  return CompositePropagator(std::move(list));
}

VectorCarrier BothFormats(const char* b3, const char* x_trace_id) {
  VectorCarrier carrier;
  carrier.Set("b3", b3);
  carrier.Set("x-trace-id", x_trace_id);
  carrier.Set("x-span-id", kXSpan);
  return carrier;
}

SpanContext ExtractWith(const Propagator& propagator, const CarrierReader& carrier) {
  PropagatedContext context;
  context.span_context = Sentinel();
  propagator.Extract(carrier, &context);
  return context.span_context;
}

TEST(CompositePropagatorTest, FirstValidFormatInOrderWins) {
  const VectorCarrier carrier =
      BothFormats("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0", kXTrace);
  const CompositePropagator b3_first =
      Make(std::make_unique<B3Propagator>(), std::make_unique<XTracePropagator>());
  EXPECT_EQ(ExtractWith(b3_first, carrier).span_id().ToHex(), kB3Span);
  EXPECT_FALSE(ExtractWith(b3_first, carrier).IsSampled());

  const CompositePropagator xtrace_first =
      Make(std::make_unique<XTracePropagator>(), std::make_unique<B3Propagator>());
  EXPECT_EQ(ExtractWith(xtrace_first, carrier).span_id().ToHex(), kXSpan);
  EXPECT_TRUE(ExtractWith(xtrace_first, carrier).IsSampled());
}

TEST(CompositePropagatorTest, MalformedFormatDoesNotDisturbAValidOne) {
  const CompositePropagator composite =
      Make(std::make_unique<B3Propagator>(), std::make_unique<XTracePropagator>());
  // Malformed earlier format, valid later one.
  EXPECT_EQ(ExtractWith(composite, BothFormats("80f198ee-garbage", kXTrace)).trace_id().ToHex(),
            kXTrace);
  // Valid earlier format, malformed later one.
  EXPECT_EQ(
      ExtractWith(composite, BothFormats("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1", "zz"))
          .trace_id()
          .ToHex(),
      kB3Trace);
  // Nothing valid: the caller's context stays as it was.
  EXPECT_EQ(ExtractWith(composite, BothFormats("1", "zz")), Sentinel());
  EXPECT_EQ(ExtractWith(composite, VectorCarrier()), Sentinel());
}

TEST(CompositePropagatorTest, LaterFormatCannotUndoEarlierResult) {
  const CompositePropagator composite =
      Make(std::make_unique<B3Propagator>(), std::make_unique<ClobberingPropagator>());
  const VectorCarrier carrier =
      BothFormats("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1", kXTrace);
  EXPECT_EQ(ExtractWith(composite, carrier).span_id().ToHex(), kB3Span);
  // And with nothing valid, the clobbering format cannot reset the caller's.
  EXPECT_EQ(ExtractWith(composite, VectorCarrier()), Sentinel());
}

TEST(CompositePropagatorTest, ExtractLeavesBaggageAloneWhenNoFormatCarriesIt) {
  const CompositePropagator composite = Make(std::make_unique<B3Propagator>());
  VectorCarrier carrier;
  carrier.Set("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1");
  PropagatedContext context;
  composite.Extract(carrier, &context);
  EXPECT_TRUE(context.span_context.IsValid());
  EXPECT_TRUE(context.baggage.empty());
}

TEST(CompositePropagatorTest, InjectWritesEveryFormat) {
  const CompositePropagator composite =
      Make(std::make_unique<B3Propagator>(),
           std::make_unique<B3Propagator>(B3Propagator::Encoding::kMulti),
           std::make_unique<JaegerPropagator>(), std::make_unique<GrpcTraceBinPropagator>(),
           std::make_unique<XTracePropagator>());
  PropagatedContext context;
  context.span_context = SpanContext(TraceId::FromHex(kB3Trace), SpanId::FromHex(kB3Span),
                                     TraceFlags::Sampled(), false);
  VectorCarrier carrier;
  composite.Inject(context, &carrier);
  std::vector<std::string> keys;
  for (const auto& entry : carrier.entries()) keys.push_back(entry.first);
  EXPECT_THAT(keys, ElementsAre("b3", "x-b3-traceid", "x-b3-spanid", "x-b3-sampled",
                                "uber-trace-id", "grpc-trace-bin", "x-trace-id", "x-span-id"));

  VectorCarrier empty;
  composite.Inject(PropagatedContext(), &empty);
  EXPECT_TRUE(empty.entries().empty());
}

TEST(CompositePropagatorTest, FieldsAreTheUnionAndNameListsFormats) {
  const CompositePropagator composite =
      Make(std::make_unique<B3Propagator>(), std::make_unique<ClobberingPropagator>(),
           std::unique_ptr<Propagator>(), std::make_unique<XTracePropagator>());
  EXPECT_THAT(composite.Fields(),
              ElementsAre("b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled",
                          "x-b3-flags", "x-clobber", "x-trace-id", "x-span-id"));
  EXPECT_EQ(composite.Name(), "b3,clobber,xtrace");
  EXPECT_EQ(composite.propagators().size(), 3u);  // the null entry is skipped
}

TEST(CompositePropagatorTest, EmptyCompositeDoesNothing) {
  const CompositePropagator composite(std::vector<std::unique_ptr<Propagator>>{});
  EXPECT_EQ(composite.Name(), "");
  EXPECT_TRUE(composite.Fields().empty());
  EXPECT_EQ(ExtractWith(composite, BothFormats("1", kXTrace)), Sentinel());
}

TEST(CompositePropagatorTest, RoundTripRandomIdsThroughEveryFormat) {
  const CompositePropagator composite =
      Make(std::make_unique<B3Propagator>(), std::make_unique<JaegerPropagator>(),
           std::make_unique<GrpcTraceBinPropagator>(), std::make_unique<XTracePropagator>());
  for (int i = 0; i < 500; ++i) {
    PropagatedContext out;
    out.span_context = SpanContext(TraceId::Generate(), SpanId::Generate(),
                                   TraceFlags(static_cast<uint8_t>(i & 1)), false);
    VectorCarrier carrier;
    composite.Inject(out, &carrier);
    // Each format alone recovers the ids.
    for (const auto& format : composite.propagators()) {
      PropagatedContext in;
      format->Extract(carrier, &in);
      EXPECT_EQ(in.span_context.trace_id(), out.span_context.trace_id()) << format->Name();
      EXPECT_EQ(in.span_context.span_id(), out.span_context.span_id()) << format->Name();
    }
  }
}

TEST(MakePropagatorsTest, BuildsListedFormatsInOrder) {
  auto propagator = MakePropagators(" B3multi, jaeger,,grpc-trace-bin ,xtrace,b3,jaeger ");
  ASSERT_TRUE(propagator.ok()) << propagator.status();
  EXPECT_EQ((*propagator)->Name(), "b3multi,jaeger,grpc-trace-bin,xtrace,b3");

  PropagatedContext context;
  context.span_context = SpanContext(TraceId::FromHex(kB3Trace), SpanId::FromHex(kB3Span),
                                     TraceFlags::Sampled(), false);
  VectorCarrier carrier;
  (*propagator)->Inject(context, &carrier);
  EXPECT_EQ(carrier.Get("x-b3-spanid"), kB3Span);
  EXPECT_EQ(carrier.Get("b3"), std::string(kB3Trace) + "-" + kB3Span + "-1");
  EXPECT_EQ(ExtractWith(**propagator, carrier).span_id().ToHex(), kB3Span);
}

TEST(MakePropagatorsTest, NoneAloneMeansNoPropagation) {
  auto propagator = MakePropagators("none");
  ASSERT_TRUE(propagator.ok()) << propagator.status();
  EXPECT_TRUE((*propagator)->Fields().empty());
  PropagatedContext context;
  context.span_context = Sentinel();
  VectorCarrier carrier;
  (*propagator)->Inject(context, &carrier);
  EXPECT_TRUE(carrier.entries().empty());
}

TEST(MakePropagatorsTest, Errors) {
  auto unknown = MakePropagators("b3,Zipkin,xtrace");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("\"Zipkin\""));

  auto none_mixed = MakePropagators("none,b3");
  ASSERT_FALSE(none_mixed.ok());
  EXPECT_EQ(none_mixed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(none_mixed.status().message()), HasSubstr("none"));

  for (const char* empty : {"", " , ,"}) {
    auto result = MakePropagators(empty);
    ASSERT_FALSE(result.ok()) << '"' << empty << '"';
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(MakePropagatorsTest, W3CNamesExtractAndInject) {
  auto result = MakePropagators("tracecontext,baggage");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ((*result)->Name(), "tracecontext,baggage");
  VectorCarrier carrier;
  carrier.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  carrier.Set("baggage", "tenant=acme");
  PropagatedContext context;
  (*result)->Extract(carrier, &context);
  ASSERT_TRUE(context.span_context.IsValid());
  EXPECT_EQ(context.span_context.trace_id().ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  ASSERT_TRUE(context.baggage.Get("tenant").has_value());
  EXPECT_EQ(*context.baggage.Get("tenant"), "acme");

  VectorCarrier out;
  (*result)->Inject(context, &out);
  EXPECT_EQ(out.Get("traceparent"), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(out.Get("baggage"), "tenant=acme");
}

}  // namespace
}  // namespace tracebridge
