// Legacy X-Trace-ID / X-Span-ID propagation.

#include "tracebridge/core/propagation/xtrace_propagator.h"

#include <string>

#include "gtest/gtest.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/propagator.h"

namespace tracebridge {
namespace {

SpanContext Sentinel() {
  return SpanContext(TraceId::FromHex("0af7651916cd43dd8448eb211c80319c"),
                     SpanId::FromHex("b7ad6b7169203331"), TraceFlags(0), /*is_remote=*/false);
}

SpanContext Extract(absl::string_view trace_id, absl::string_view span_id,
                    XTracePropagatorOptions options = XTracePropagatorOptions()) {
  VectorCarrier carrier;
  carrier.Set("X-Trace-ID", trace_id);
  carrier.Set("X-Span-ID", span_id);
  PropagatedContext context;
  context.span_context = Sentinel();
  XTracePropagator(options).Extract(carrier, &context);
  return context.span_context;
}

TEST(XTracePropagatorTest, ExtractsAndSamplesByDefault) {
  const SpanContext context = Extract("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
  EXPECT_EQ(context.trace_id().ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(context.span_id().ToHex(), "00f067aa0ba902b7");
  EXPECT_TRUE(context.IsSampled());
  EXPECT_TRUE(context.IsRemote());
}

TEST(XTracePropagatorTest, SampledIsAnOption) {
  XTracePropagatorOptions options;
  options.sampled = false;
  const SpanContext context =
      Extract("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", options);
  ASSERT_TRUE(context.IsValid());
  EXPECT_FALSE(context.IsSampled());
}

TEST(XTracePropagatorTest, LiberalInCaseAndWhitespace) {
  const SpanContext expected = Extract("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
  EXPECT_EQ(Extract("4BF92F3577B34DA6A3CE929D0E0E4736", "00F067AA0BA902B7"), expected);
  EXPECT_EQ(Extract(" \t4bf92f3577B34DA6a3ce929d0e0e4736 ", "\t00f067aa0ba902b7  "), expected);
}

TEST(XTracePropagatorTest, SixteenDigitTraceIdIsLeftPadded) {
  const SpanContext context = Extract("a3ce929d0e0e4736", "00f067aa0ba902b7");
  EXPECT_EQ(context.trace_id().ToHex(), "0000000000000000a3ce929d0e0e4736");
}

TEST(XTracePropagatorTest, StrictOnLengthAndCharacters) {
  struct Case {
    const char* trace_id;
    const char* span_id;
  };
  for (const Case& c : {
           Case{"4bf92f3577b34da6a3ce929d0e0e473", "00f067aa0ba902b7"},    // 31
           Case{"4bf92f3577b34da6a3ce929d0e0e47361", "00f067aa0ba902b7"},  // 33
           Case{"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b"},    // 15
           Case{"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7a"},  // 17
           Case{"4bf92f3577b34da6a3ce929d0e0e473g", "00f067aa0ba902b7"},
           Case{"4bf92f3577b34da6-3ce929d0e0e4736", "00f067aa0ba902b7"},
           Case{"4bf92f3577b34da6 a3ce929d0e0e473", "00f067aa0ba902b7"},  // inner space
           Case{"00000000000000000000000000000000", "00f067aa0ba902b7"},
           Case{"4bf92f3577b34da6a3ce929d0e0e4736", "0000000000000000"},
           Case{"", "00f067aa0ba902b7"},
           Case{"4bf92f3577b34da6a3ce929d0e0e4736", ""},
           Case{"\n4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"},
       }) {
    EXPECT_EQ(Extract(c.trace_id, c.span_id), Sentinel()) << c.trace_id << " / " << c.span_id;
  }
  const std::string padded = std::string(40, ' ') + "4bf92f3577b34da6a3ce929d0e0e4736";
  EXPECT_EQ(Extract(padded, "00f067aa0ba902b7"), Sentinel());  // over kMaxValueSize
}

TEST(XTracePropagatorTest, BothHeadersAreRequired) {
  for (const char* key : {"x-trace-id", "x-span-id"}) {
    VectorCarrier carrier;
    carrier.Set(key, "4bf92f3577b34da6a3ce929d0e0e4736");
    PropagatedContext context;
    context.span_context = Sentinel();
    XTracePropagator().Extract(carrier, &context);
    EXPECT_EQ(context.span_context, Sentinel()) << key;
  }
}

TEST(XTracePropagatorTest, InjectsLowercaseKeysAndHex) {
  PropagatedContext context;
  context.span_context = SpanContext(TraceId::FromHex("0000000000000000a3ce929d0e0e4736"),
                                     SpanId::FromHex("00f067aa0ba902b7"), TraceFlags(0), false);
  VectorCarrier carrier;
  XTracePropagator().Inject(context, &carrier);
  ASSERT_EQ(carrier.entries().size(), 2u);
  EXPECT_EQ(carrier.entries()[0].first, "x-trace-id");
  EXPECT_EQ(carrier.entries()[0].second, "0000000000000000a3ce929d0e0e4736");
  EXPECT_EQ(carrier.entries()[1].first, "x-span-id");
  EXPECT_EQ(carrier.entries()[1].second, "00f067aa0ba902b7");

  VectorCarrier empty;
  XTracePropagator().Inject(PropagatedContext(), &empty);
  EXPECT_TRUE(empty.entries().empty());
}

TEST(XTracePropagatorTest, NameAndFields) {
  EXPECT_EQ(XTracePropagator().Name(), "xtrace");
  ASSERT_EQ(XTracePropagator().Fields().size(), 2u);
  EXPECT_EQ(XTracePropagator().Fields()[0], "x-trace-id");
  EXPECT_EQ(XTracePropagator().Fields()[1], "x-span-id");
}

TEST(XTracePropagatorTest, RoundTripRandomIds) {
  for (int i = 0; i < 1000; ++i) {
    PropagatedContext out;
    out.span_context =
        SpanContext(TraceId::Generate(), SpanId::Generate(), TraceFlags::Sampled(), false);
    VectorCarrier carrier;
    XTracePropagator().Inject(out, &carrier);
    PropagatedContext in;
    XTracePropagator().Extract(carrier, &in);
    EXPECT_EQ(in.span_context.trace_id(), out.span_context.trace_id());
    EXPECT_EQ(in.span_context.span_id(), out.span_context.span_id());
    EXPECT_TRUE(in.span_context.IsSampled());
  }
}

}  // namespace
}  // namespace tracebridge
