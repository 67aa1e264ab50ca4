// Jaeger `uber-trace-id` propagation.

#include "tracebridge/core/propagation/jaeger_propagator.h"

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

SpanContext ExtractValue(absl::string_view value) {
  VectorCarrier carrier;
  carrier.Set("uber-trace-id", value);
  PropagatedContext context;
  context.span_context = Sentinel();
  JaegerPropagator().Extract(carrier, &context);
  return context.span_context;
}

TEST(JaegerPropagatorTest, FullWidthIds) {
  const SpanContext context = ExtractValue("4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1");
  EXPECT_EQ(context.trace_id().ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(context.span_id().ToHex(), "00f067aa0ba902b7");
  EXPECT_TRUE(context.IsSampled());
  EXPECT_FALSE(context.IsDebug());
  EXPECT_TRUE(context.IsRemote());
}

TEST(JaegerPropagatorTest, ShortIdsAreLeftPadded) {
  const SpanContext context = ExtractValue("a3ce929d0e0e4736:f067aa0ba902b7:0:0");
  EXPECT_EQ(context.trace_id().ToHex(), "0000000000000000a3ce929d0e0e4736");
  EXPECT_EQ(context.span_id().ToHex(), "00f067aa0ba902b7");
  EXPECT_FALSE(context.IsSampled());
  const SpanContext odd = ExtractValue("abc:1:0:1");
  EXPECT_EQ(odd.trace_id().ToHex(), "00000000000000000000000000000abc");
  EXPECT_EQ(odd.span_id().ToHex(), "0000000000000001");
}

TEST(JaegerPropagatorTest, ParentIsIgnored) {
  EXPECT_EQ(ExtractValue("4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:53ce929d0e0e4736:1"),
            ExtractValue("4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1"));
}

TEST(JaegerPropagatorTest, Flags) {
  struct Case {
    const char* flags;
    bool sampled;
    bool debug;
  };
  for (const Case& c : {Case{"0", false, false}, Case{"1", true, false}, Case{"3", true, true},
                        Case{"2", true, true}, Case{"01", true, false}, Case{"ff", true, true},
                        Case{"8", false, false}}) {
    const SpanContext context =
        ExtractValue(std::string("4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:") + c.flags);
    ASSERT_NE(context, Sentinel()) << c.flags;
    EXPECT_EQ(context.IsSampled(), c.sampled) << c.flags;
    EXPECT_EQ(context.IsDebug(), c.debug) << c.flags;
  }
}

TEST(JaegerPropagatorTest, UrlEncodedSeparators) {
  const SpanContext plain = ExtractValue("4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1");
  EXPECT_EQ(ExtractValue("4bf92f3577b34da6a3ce929d0e0e4736%3A00f067aa0ba902b7%3A0%3A1"), plain);
  EXPECT_EQ(ExtractValue("4bf92f3577b34da6a3ce929d0e0e4736%3a00f067aa0ba902b7:0%3a1"), plain);
}

TEST(JaegerPropagatorTest, MalformedLeavesContextUntouched) {
  for (const char* value : {
           "",
           ":::",
           "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0",      // three parts
           "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1:0",  // five parts
           "4BF92F3577B34DA6A3CE929D0E0E4736:00f067aa0ba902b7:0:1",    // uppercase
           "04bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1",   // 33 digits
           "4bf92f3577b34da6a3ce929d0e0e4736:000f067aa0ba902b7:0:1",   // 17 digits
           "00000000000000000000000000000000:00f067aa0ba902b7:0:1",    // zero trace id
           "4bf92f3577b34da6a3ce929d0e0e4736:0:0:1",                   // zero span id
           "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7::1",     // empty parent
           "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:",     // empty flags
           "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:100",  // 3 flag digits
           "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:x",
           "4bf92f3577b34da6a3ce929d0e0e4736%3B00f067aa0ba902b7%3A0%3A1",  // other escape
           "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1%3",      // cut escape
           "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1%",
           " 4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1",
       }) {
    EXPECT_EQ(ExtractValue(value), Sentinel()) << '"' << value << '"';
  }
  EXPECT_EQ(ExtractValue(std::string(1 << 20, ':')), Sentinel());
}

TEST(JaegerPropagatorTest, InjectFormat) {
  PropagatedContext context;
  context.span_context =
      SpanContext(TraceId::FromHex("0000000000000000a3ce929d0e0e4736"),
                  SpanId::FromHex("00f067aa0ba902b7"), TraceFlags::Sampled(), false);
  VectorCarrier carrier;
  JaegerPropagator().Inject(context, &carrier);
  ASSERT_EQ(carrier.entries().size(), 1u);
  EXPECT_EQ(carrier.entries()[0].first, "uber-trace-id");
  EXPECT_EQ(carrier.entries()[0].second, "0000000000000000a3ce929d0e0e4736:00f067aa0ba902b7:0:1");

  context.span_context = context.span_context.WithDebug(true);
  JaegerPropagator().Inject(context, &carrier);
  EXPECT_EQ(carrier.Get("uber-trace-id"), "0000000000000000a3ce929d0e0e4736:00f067aa0ba902b7:0:3");

  VectorCarrier empty;
  JaegerPropagator().Inject(PropagatedContext(), &empty);
  EXPECT_TRUE(empty.entries().empty());
}

TEST(JaegerPropagatorTest, NameAndFields) {
  EXPECT_EQ(JaegerPropagator().Name(), "jaeger");
  ASSERT_EQ(JaegerPropagator().Fields().size(), 1u);
  EXPECT_EQ(JaegerPropagator().Fields()[0], "uber-trace-id");
}

TEST(JaegerPropagatorTest, RoundTripRandomIds) {
  for (int i = 0; i < 1000; ++i) {
    const bool sampled = (i % 2) == 0;
    const bool debug = (i % 3) == 0;
    PropagatedContext out;
    out.span_context = SpanContext(TraceId::Generate(), SpanId::Generate(),
                                   TraceFlags(sampled ? 1 : 0), /*is_remote=*/false)
                           .WithDebug(debug);
    VectorCarrier carrier;
    JaegerPropagator().Inject(out, &carrier);
    PropagatedContext in;
    JaegerPropagator().Extract(carrier, &in);
    EXPECT_EQ(in.span_context.trace_id(), out.span_context.trace_id());
    EXPECT_EQ(in.span_context.span_id(), out.span_context.span_id());
    EXPECT_EQ(in.span_context.IsSampled(), sampled || debug);
    EXPECT_EQ(in.span_context.IsDebug(), debug);
  }
}

}  // namespace
}  // namespace tracebridge
