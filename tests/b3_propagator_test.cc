// B3 single and multi header propagation, against the examples of the
// openzipkin/b3-propagation README.

#include "tracebridge/core/propagation/b3_propagator.h"

#include <cstdint>
#include <string>
#include <tuple>

#include "gtest/gtest.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/propagator.h"

namespace tracebridge {
namespace {

// A context that Extract must not touch when it finds nothing valid.
SpanContext Sentinel() {
  return SpanContext(TraceId::FromHex("0af7651916cd43dd8448eb211c80319c"),
                     SpanId::FromHex("b7ad6b7169203331"), TraceFlags(0), /*is_remote=*/false);
}

PropagatedContext ExtractFrom(const VectorCarrier& carrier) {
  PropagatedContext context;
  context.span_context = Sentinel();
  B3Propagator().Extract(carrier, &context);
  return context;
}

TEST(B3PropagatorTest, SpecSingleHeaderWithParent) {
  VectorCarrier carrier;
  carrier.Set("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90");
  const SpanContext context = ExtractFrom(carrier).span_context;
  EXPECT_EQ(context.trace_id().ToHex(), "80f198ee56343ba864fe8b2a57d3eff7");
  EXPECT_EQ(context.span_id().ToHex(), "e457b5a2e4d86bd1");
  EXPECT_TRUE(context.IsSampled());
  EXPECT_FALSE(context.IsDebug());
  EXPECT_TRUE(context.IsRemote());
  EXPECT_FALSE(context.trace_flags().IsRandom());
}

TEST(B3PropagatorTest, SpecSingleHeader64BitTraceIdIsLeftPadded) {
  VectorCarrier carrier;
  carrier.Set("b3", "a3ce929d0e0e4736-00f067aa0ba902b7");
  const SpanContext context = ExtractFrom(carrier).span_context;
  EXPECT_EQ(context.trace_id().ToHex(), "0000000000000000a3ce929d0e0e4736");
  EXPECT_EQ(context.span_id().ToHex(), "00f067aa0ba902b7");
  // No sampling state: a deferred decision extracts as not sampled.
  EXPECT_FALSE(context.IsSampled());
  EXPECT_EQ(context.trace_id().Low64(), 0xa3ce929d0e0e4736u);
}

TEST(B3PropagatorTest, SingleHeaderSamplingStates) {
  for (const auto& [state, sampled, debug] :
       {std::make_tuple("0", false, false), std::make_tuple("1", true, false),
        std::make_tuple("d", true, true)}) {
    SpanContext context;
    ASSERT_TRUE(B3Propagator::ParseSingle(
        std::string("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-") + state, &context))
        << state;
    EXPECT_EQ(context.IsSampled(), sampled) << state;
    EXPECT_EQ(context.IsDebug(), debug) << state;
  }
}

TEST(B3PropagatorTest, DecisionOnlyHeadersYieldNoContext) {
  for (const char* value : {"0", "1", "d"}) {
    VectorCarrier carrier;
    carrier.Set("b3", value);
    EXPECT_EQ(ExtractFrom(carrier).span_context, Sentinel()) << value;
  }
}

TEST(B3PropagatorTest, MalformedSingleHeadersLeaveContextUntouched) {
  for (const char* value : {
           "",
           "-",
           "80f198ee56343ba864fe8b2a57d3eff7",                     // no span id
           "80f198ee56343ba864fe8b2a57d3eff7-",                    // empty span id
           "80F198EE56343BA864FE8B2A57D3EFF7-e457b5a2e4d86bd1-1",  // uppercase
           "80f198ee56343ba864fe8b2a57d3eff7-E457B5A2E4D86BD1-1",  // uppercase
           "00000000000000000000000000000000-e457b5a2e4d86bd1-1",  // zero trace id
           "80f198ee56343ba864fe8b2a57d3eff7-0000000000000000-1",  // zero span id
           "80f198ee56343ba864fe8b2a57d3eff-e457b5a2e4d86bd1-1",   // 31 digits
           "f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1",    // 30 digits
           "80f198ee56343ba-e457b5a2e4d86bd1-1",                   // 15 digits
           "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd-1",   // short span id
           "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-2",  // bad state
           "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-true",
           "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-",  // empty state
           "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1--05e3ac9a4f6e3b90",
           "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b9",
           "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90-",
           "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90-1",
           " 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1",
       }) {
    VectorCarrier carrier;
    carrier.Set("b3", value);
    EXPECT_EQ(ExtractFrom(carrier).span_context, Sentinel()) << '"' << value << '"';
  }
}

TEST(B3PropagatorTest, OverlongSingleHeaderIsRejectedWithoutScanning) {
  std::string value = "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90";
  ASSERT_EQ(value.size(), B3Propagator::kMaxSingleHeaderSize);
  SpanContext context;
  EXPECT_TRUE(B3Propagator::ParseSingle(value, &context));
  value += std::string(1 << 20, '0');
  context = Sentinel();
  EXPECT_FALSE(B3Propagator::ParseSingle(value, &context));
  EXPECT_EQ(context, Sentinel());
}

TEST(B3PropagatorTest, SpecMultiHeaders) {
  VectorCarrier carrier;
  carrier.Set("X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7");
  carrier.Set("X-B3-ParentSpanId", "05e3ac9a4f6e3b90");
  carrier.Set("X-B3-SpanId", "e457b5a2e4d86bd1");
  carrier.Set("X-B3-Sampled", "1");
  const SpanContext context = ExtractFrom(carrier).span_context;
  EXPECT_EQ(context.trace_id().ToHex(), "80f198ee56343ba864fe8b2a57d3eff7");
  EXPECT_EQ(context.span_id().ToHex(), "e457b5a2e4d86bd1");
  EXPECT_TRUE(context.IsSampled());
  EXPECT_TRUE(context.IsRemote());
}

TEST(B3PropagatorTest, MultiHeaderSampledValuesAndDebugFlag) {
  struct Case {
    const char* sampled;  // nullptr: absent
    const char* flags;    // nullptr: absent
    bool want_sampled;
    bool want_debug;
  };
  for (const Case& c : {Case{"1", nullptr, true, false}, Case{"0", nullptr, false, false},
                        Case{"true", nullptr, true, false}, Case{"false", nullptr, false, false},
                        Case{nullptr, nullptr, false, false}, Case{nullptr, "1", true, true},
                        Case{"0", "1", true, true}, Case{"1", "0", true, false}}) {
    VectorCarrier carrier;
    carrier.Set("x-b3-traceid", "a3ce929d0e0e4736");
    carrier.Set("x-b3-spanid", "00f067aa0ba902b7");
    if (c.sampled != nullptr) carrier.Set("x-b3-sampled", c.sampled);
    if (c.flags != nullptr) carrier.Set("x-b3-flags", c.flags);
    const SpanContext context = ExtractFrom(carrier).span_context;
    ASSERT_NE(context, Sentinel());
    EXPECT_EQ(context.trace_id().ToHex(), "0000000000000000a3ce929d0e0e4736");
    EXPECT_EQ(context.IsSampled(), c.want_sampled);
    EXPECT_EQ(context.IsDebug(), c.want_debug);
  }
}

TEST(B3PropagatorTest, MalformedMultiHeadersLeaveContextUntouched) {
  struct Case {
    const char* key;
    const char* value;
  };
  for (const Case& c :
       {Case{"x-b3-traceid", "80F198EE56343BA864FE8B2A57D3EFF7"},
        Case{"x-b3-traceid", "00000000000000000000000000000000"},
        Case{"x-b3-traceid", "80f198ee56343ba864"}, Case{"x-b3-traceid", ""},
        Case{"x-b3-spanid", "e457b5a2e4d86bd"}, Case{"x-b3-spanid", "0000000000000000"},
        Case{"x-b3-parentspanid", "05e3ac9a4f6e3b9"}, Case{"x-b3-sampled", "yes"},
        Case{"x-b3-sampled", "d"}, Case{"x-b3-sampled", ""}, Case{"x-b3-flags", "2"}}) {
    VectorCarrier carrier;
    carrier.Set("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7");
    carrier.Set("x-b3-spanid", "e457b5a2e4d86bd1");
    carrier.Set(c.key, c.value);
    EXPECT_EQ(ExtractFrom(carrier).span_context, Sentinel()) << c.key << ": " << c.value;
  }
  VectorCarrier sampled_only;  // a decision without ids
  sampled_only.Set("x-b3-sampled", "1");
  EXPECT_EQ(ExtractFrom(sampled_only).span_context, Sentinel());
}

TEST(B3PropagatorTest, ValidSingleHeaderWinsOverMulti) {
  VectorCarrier carrier;
  carrier.Set("x-b3-traceid", "a3ce929d0e0e4736");
  carrier.Set("x-b3-spanid", "00f067aa0ba902b7");
  carrier.Set("x-b3-sampled", "0");
  carrier.Set("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1");
  const SpanContext context = ExtractFrom(carrier).span_context;
  EXPECT_EQ(context.span_id().ToHex(), "e457b5a2e4d86bd1");
  EXPECT_TRUE(context.IsSampled());
}

TEST(B3PropagatorTest, InvalidOrDecisionOnlySingleHeaderFallsBackToMulti) {
  for (const char* single : {"1", "garbage", "80f198ee56343ba864fe8b2a57d3eff7-x"}) {
    VectorCarrier carrier;
    carrier.Set("b3", single);
    carrier.Set("x-b3-traceid", "a3ce929d0e0e4736");
    carrier.Set("x-b3-spanid", "00f067aa0ba902b7");
    carrier.Set("x-b3-sampled", "1");
    const SpanContext context = ExtractFrom(carrier).span_context;
    EXPECT_EQ(context.span_id().ToHex(), "00f067aa0ba902b7") << single;
    EXPECT_TRUE(context.IsSampled());
  }
}

TEST(B3PropagatorTest, ExtractSetsOnlyTheSpanContext) {
  VectorCarrier carrier;
  carrier.Set("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1");
  PropagatedContext context;
  B3Propagator().Extract(carrier, &context);
  EXPECT_TRUE(context.span_context.IsValid());
  EXPECT_TRUE(context.baggage.empty());
}

TEST(B3PropagatorTest, InjectSingleNeverWritesParent) {
  PropagatedContext context;
  context.span_context =
      SpanContext(TraceId::FromHex("80f198ee56343ba864fe8b2a57d3eff7"),
                  SpanId::FromHex("e457b5a2e4d86bd1"), TraceFlags::Sampled(), false);
  VectorCarrier carrier;
  B3Propagator().Inject(context, &carrier);
  ASSERT_EQ(carrier.entries().size(), 1u);
  EXPECT_EQ(carrier.entries()[0].first, "b3");
  EXPECT_EQ(carrier.entries()[0].second, "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1");
}

TEST(B3PropagatorTest, InjectMultiWritesIdsAndSampledOnly) {
  PropagatedContext context;
  context.span_context = SpanContext(TraceId::FromHex("80f198ee56343ba864fe8b2a57d3eff7"),
                                     SpanId::FromHex("e457b5a2e4d86bd1"), TraceFlags(0), false);
  VectorCarrier carrier;
  B3Propagator(B3Propagator::Encoding::kMulti).Inject(context, &carrier);
  ASSERT_EQ(carrier.entries().size(), 3u);
  EXPECT_EQ(carrier.Get("x-b3-traceid"), "80f198ee56343ba864fe8b2a57d3eff7");
  EXPECT_EQ(carrier.Get("x-b3-spanid"), "e457b5a2e4d86bd1");
  EXPECT_EQ(carrier.Get("x-b3-sampled"), "0");
  EXPECT_EQ(carrier.CountValues("x-b3-parentspanid"), 0u);
  EXPECT_EQ(carrier.CountValues("b3"), 0u);
}

TEST(B3PropagatorTest, DebugIsCarriedForward) {
  VectorCarrier incoming;
  incoming.Set("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d");
  const PropagatedContext context = ExtractFrom(incoming);
  ASSERT_TRUE(context.span_context.IsDebug());

  VectorCarrier single;
  B3Propagator().Inject(context, &single);
  EXPECT_EQ(single.Get("b3"), "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d");

  VectorCarrier multi;
  B3Propagator(B3Propagator::Encoding::kMulti).Inject(context, &multi);
  EXPECT_EQ(multi.Get("x-b3-flags"), "1");
  EXPECT_EQ(multi.CountValues("x-b3-sampled"), 0u);
  EXPECT_EQ(ExtractFrom(multi).span_context, context.span_context);
}

TEST(B3PropagatorTest, InjectWritesNothingForInvalidContext) {
  VectorCarrier single;
  VectorCarrier multi;
  B3Propagator().Inject(PropagatedContext(), &single);
  B3Propagator(B3Propagator::Encoding::kMulti).Inject(PropagatedContext(), &multi);
  EXPECT_TRUE(single.entries().empty());
  EXPECT_TRUE(multi.entries().empty());
}

TEST(B3PropagatorTest, NamesAndFields) {
  EXPECT_EQ(B3Propagator().Name(), "b3");
  EXPECT_EQ(B3Propagator(B3Propagator::Encoding::kMulti).Name(), "b3multi");
  const auto fields = B3Propagator().Fields();
  EXPECT_EQ(fields.size(), 6u);
  EXPECT_EQ(fields[0], "b3");
}

TEST(B3PropagatorTest, RoundTripRandomIdsBothEncodings) {
  for (int i = 0; i < 1000; ++i) {
    TraceId trace_id = TraceId::Generate();
    if (i % 4 == 0) {
      // A 64-bit trace id, as older Zipkin instrumentation makes.
      uint8_t bytes[TraceId::kSize] = {};
      for (size_t b = 8; b < TraceId::kSize; ++b) bytes[b] = trace_id.bytes()[b];
      bytes[15] |= 1;
      trace_id = TraceId::FromBytes(bytes);
    }
    const bool sampled = (i % 2) == 0;
    const bool debug = (i % 3) == 0;
    PropagatedContext out;
    out.span_context = SpanContext(trace_id, SpanId::Generate(), TraceFlags(sampled ? 1 : 0),
                                   /*is_remote=*/false)
                           .WithDebug(debug);
    for (auto encoding : {B3Propagator::Encoding::kSingle, B3Propagator::Encoding::kMulti}) {
      VectorCarrier carrier;
      B3Propagator(encoding).Inject(out, &carrier);
      PropagatedContext in;
      B3Propagator(encoding).Extract(carrier, &in);
      EXPECT_EQ(in.span_context.trace_id(), trace_id);
      EXPECT_EQ(in.span_context.span_id(), out.span_context.span_id());
      EXPECT_EQ(in.span_context.IsSampled(), sampled || debug);
      EXPECT_EQ(in.span_context.IsDebug(), debug);
      EXPECT_TRUE(in.span_context.IsRemote());
    }
  }
}

}  // namespace
}  // namespace tracebridge
