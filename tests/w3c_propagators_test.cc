// Tests for core/propagation/w3c_propagators.h: the traceparent grammar (W3C Trace
// Context level 2), the TraceContextPropagator and BaggagePropagator over a
// VectorCarrier, repeated headers, and untouched contexts on bad input.

#include "tracebridge/core/propagation/w3c_propagators.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tracebridge/core/propagation/carrier.h"

namespace tracebridge {
namespace {

constexpr char kSpecTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr char kSpecTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kSpecSpanId[] = "00f067aa0ba902b7";

bool ParsesTraceparent(absl::string_view value) {
  TraceId trace_id;
  SpanId span_id;
  TraceFlags flags;
  return ParseTraceparent(value, &trace_id, &span_id, &flags);
}

std::string Format(const SpanContext& context) {
  char out[kTraceparentSize];
  FormatTraceparent(context, out);
  return std::string(out, sizeof(out));
}

// A context that no valid extract would produce, to detect any write.
PropagatedContext Prefilled() {
  PropagatedContext context;
  TraceState state;
  TraceState::Parse("pre=filled", &state);
  context.span_context = SpanContext(TraceId::FromHex("0123456789abcdef0123456789abcdef"),
                                     SpanId::FromHex("0123456789abcdef"), TraceFlags(0x00),
                                     /*is_remote=*/false, state)
                             .WithDebug(true);
  context.baggage = Baggage().Set("pre", "filled");
  return context;
}

void ExpectUntouched(const PropagatedContext& context) {
  const PropagatedContext expected = Prefilled();
  EXPECT_EQ(context.span_context, expected.span_context);
  EXPECT_EQ(context.baggage, expected.baggage);
}

PropagatedContext ExtractTraceContext(const VectorCarrier& carrier) {
  PropagatedContext context = Prefilled();
  TraceContextPropagator().Extract(carrier, &context);
  return context;
}

// --- ParseTraceparent / FormatTraceparent -------------------------------------

TEST(TraceparentTest, ParsesSpecExample) {
  TraceId trace_id;
  SpanId span_id;
  TraceFlags flags;
  ASSERT_TRUE(ParseTraceparent(kSpecTraceparent, &trace_id, &span_id, &flags));
  EXPECT_EQ(trace_id, TraceId::FromHex(kSpecTraceId));
  EXPECT_EQ(span_id, SpanId::FromHex(kSpecSpanId));
  EXPECT_TRUE(flags.IsSampled());
  EXPECT_FALSE(flags.IsRandom());
  ASSERT_TRUE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", &trace_id,
                               &span_id, &flags));
  EXPECT_FALSE(flags.IsSampled());
}

TEST(TraceparentTest, UppercaseHexIsInvalid) {
  EXPECT_FALSE(ParsesTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParsesTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"));
  EXPECT_FALSE(ParsesTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A"));
  EXPECT_FALSE(ParsesTraceparent("0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

TEST(TraceparentTest, VersionFfIsInvalid) {
  EXPECT_FALSE(ParsesTraceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

TEST(TraceparentTest, VersionMustBeTwoHexDigits) {
  EXPECT_FALSE(ParsesTraceparent("0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParsesTraceparent("g0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParsesTraceparent("000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

TEST(TraceparentTest, Version00MustBeExactly55Characters) {
  const std::string valid = kSpecTraceparent;
  EXPECT_FALSE(ParsesTraceparent(valid + "-"));
  EXPECT_FALSE(ParsesTraceparent(valid + "-what-the-future-will-be-like"));
  EXPECT_FALSE(ParsesTraceparent(valid + "0"));
  EXPECT_FALSE(ParsesTraceparent(valid.substr(0, 54)));
  EXPECT_FALSE(ParsesTraceparent(""));
}

TEST(TraceparentTest, HigherVersionParsesTheFirst55Characters) {
  TraceId trace_id;
  SpanId span_id;
  TraceFlags flags;
  ASSERT_TRUE(ParseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &trace_id,
                               &span_id, &flags));
  EXPECT_EQ(trace_id, TraceId::FromHex(kSpecTraceId));
  EXPECT_TRUE(ParsesTraceparent(
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-will-be-like"));
  EXPECT_TRUE(ParsesTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-"));
  // The character after the flags must be `-` or the end.
  EXPECT_FALSE(ParsesTraceparent(
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.what-the-future-will-be-like"));
  EXPECT_FALSE(ParsesTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011"));
  // Still the same grammar for the known fields, and still at least 55.
  EXPECT_FALSE(ParsesTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"));
  EXPECT_FALSE(ParsesTraceparent("cc-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
}

TEST(TraceparentTest, AllZeroIdsAreInvalid) {
  EXPECT_FALSE(ParsesTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParsesTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
}

TEST(TraceparentTest, SeparatorsAndFieldLengthsAreExact) {
  EXPECT_FALSE(ParsesTraceparent("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParsesTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParsesTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01"));
  EXPECT_FALSE(ParsesTraceparent("00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01"));
  EXPECT_FALSE(ParsesTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-701"));
  EXPECT_FALSE(ParsesTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g"));
  EXPECT_FALSE(ParsesTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7- 1"));
  EXPECT_FALSE(ParsesTraceparent("00-4bf92f3577b34da6a3ce929d0e0e47 6-00f067aa0ba902b7-01"));
}

TEST(TraceparentTest, EveryByteInEveryHexPositionIsChecked) {
  const std::string valid = kSpecTraceparent;
  for (size_t position = 0; position < valid.size(); ++position) {
    if (valid[position] == '-') continue;
    for (int byte = 0; byte < 256; ++byte) {
      std::string text = valid;
      text[position] = static_cast<char>(byte);
      const bool lower_hex = (byte >= '0' && byte <= '9') || (byte >= 'a' && byte <= 'f');
      TraceId trace_id;
      SpanId span_id;
      TraceFlags flags;
      const bool parsed = ParseTraceparent(text, &trace_id, &span_id, &flags);
      // Version "f0".."ff" style edits stay valid except "ff" itself.
      const bool expected = lower_hex && text.substr(0, 2) != "ff";
      ASSERT_EQ(parsed, expected) << position << " " << byte;
      if (!parsed) continue;
      // The decoded value is the digit that was written.
      EXPECT_EQ(
          Format(SpanContext(trace_id, span_id, TraceFlags(flags.bits() & 3), true)).substr(3, 49),
          text.substr(3, 49));
    }
  }
}

TEST(TraceparentTest, SurroundingWhitespaceIsTrimmed) {
  const std::string valid = kSpecTraceparent;
  EXPECT_TRUE(ParsesTraceparent(" \t" + valid + "\t "));
  EXPECT_FALSE(ParsesTraceparent("\n" + valid));  // only spaces and tabs
  EXPECT_FALSE(ParsesTraceparent(valid + "\r"));
}

TEST(TraceparentTest, FlagsAreKeptAsReceived) {
  TraceId trace_id;
  SpanId span_id;
  TraceFlags flags;
  ASSERT_TRUE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff", &trace_id,
                               &span_id, &flags));
  EXPECT_EQ(flags.bits(), 0xff);
  ASSERT_TRUE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02", &trace_id,
                               &span_id, &flags));
  EXPECT_TRUE(flags.IsRandom());
  EXPECT_FALSE(flags.IsSampled());
}

TEST(TraceparentTest, FailureWritesNothing) {
  TraceId trace_id = TraceId::FromHex("0123456789abcdef0123456789abcdef");
  SpanId span_id = SpanId::FromHex("0123456789abcdef");
  TraceFlags flags(0x42);
  EXPECT_FALSE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                                &trace_id, &span_id, &flags));
  EXPECT_EQ(trace_id.ToHex(), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(span_id.ToHex(), "0123456789abcdef");
  EXPECT_EQ(flags.bits(), 0x42);
}

TEST(TraceparentTest, FormatsSpecExample) {
  SpanContext context(TraceId::FromHex(kSpecTraceId), SpanId::FromHex(kSpecSpanId),
                      TraceFlags(0x01), /*is_remote=*/false);
  EXPECT_EQ(Format(context), kSpecTraceparent);
}

TEST(TraceparentTest, FormatClearsReservedFlagBits) {
  SpanContext context(TraceId::FromHex(kSpecTraceId), SpanId::FromHex(kSpecSpanId),
                      TraceFlags(0xff), /*is_remote=*/false);
  EXPECT_EQ(Format(context), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
}

TEST(TraceparentTest, RoundTripOverRandomIdsAndFlags) {
  std::mt19937 rng(7);
  for (int i = 0; i < 10000; ++i) {
    const TraceFlags flags(static_cast<uint8_t>(rng() & 0x03));
    SpanContext context(TraceId::Generate(), SpanId::Generate(), flags, /*is_remote=*/true);
    TraceId trace_id;
    SpanId span_id;
    TraceFlags parsed_flags;
    const std::string text = Format(context);
    ASSERT_TRUE(ParseTraceparent(text, &trace_id, &span_id, &parsed_flags)) << text;
    ASSERT_EQ(SpanContext(trace_id, span_id, parsed_flags, /*is_remote=*/true), context);
    // Any flags byte: what is parsed back is its known bits.
    const uint8_t any_bits = static_cast<uint8_t>(rng());
    context = SpanContext(trace_id, span_id, TraceFlags(any_bits), true);
    ASSERT_TRUE(ParseTraceparent(Format(context), &trace_id, &span_id, &parsed_flags));
    ASSERT_EQ(parsed_flags.bits(), any_bits & 0x03);
  }
}

// --- TraceContextPropagator ---------------------------------------------------

TEST(TraceContextPropagatorTest, NameAndFields) {
  TraceContextPropagator propagator;
  EXPECT_EQ(propagator.Name(), "tracecontext");
  ASSERT_EQ(propagator.Fields().size(), 2u);
  EXPECT_EQ(propagator.Fields()[0], "traceparent");
  EXPECT_EQ(propagator.Fields()[1], "tracestate");
}

TEST(TraceContextPropagatorTest, ExtractsSpecExample) {
  VectorCarrier carrier;
  carrier.Add("traceparent", kSpecTraceparent);
  carrier.Add("tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  PropagatedContext context = ExtractTraceContext(carrier);
  const SpanContext& span_context = context.span_context;
  EXPECT_TRUE(span_context.IsValid());
  EXPECT_TRUE(span_context.IsRemote());
  EXPECT_TRUE(span_context.IsSampled());
  EXPECT_FALSE(span_context.IsDebug());
  EXPECT_EQ(span_context.trace_id().ToHex(), kSpecTraceId);
  EXPECT_EQ(span_context.span_id().ToHex(), kSpecSpanId);
  EXPECT_EQ(span_context.trace_state().ToHeader(), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  EXPECT_EQ(context.baggage, Prefilled().baggage);  // not this propagator's field
}

TEST(TraceContextPropagatorTest, HeaderNamesAreCaseInsensitive) {
  VectorCarrier carrier;
  carrier.Add("TraceParent", kSpecTraceparent);
  carrier.Add("TRACESTATE", "a=1");
  PropagatedContext context = ExtractTraceContext(carrier);
  EXPECT_EQ(context.span_context.trace_id().ToHex(), kSpecTraceId);
  EXPECT_EQ(context.span_context.trace_state().ToHeader(), "a=1");
}

TEST(TraceContextPropagatorTest, KeepsUnknownFlagBitsOnExtract) {
  VectorCarrier carrier;
  carrier.Add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09");
  EXPECT_EQ(ExtractTraceContext(carrier).span_context.trace_flags().bits(), 0x09);
}

TEST(TraceContextPropagatorTest, WhitespaceAroundTheValueIsTrimmed) {
  VectorCarrier carrier;
  carrier.Add("traceparent", std::string("  ") + kSpecTraceparent + "\t");
  EXPECT_TRUE(ExtractTraceContext(carrier).span_context.IsRemote());
}

TEST(TraceContextPropagatorTest, TwoTraceparentValuesMeanNoParent) {
  VectorCarrier carrier;
  carrier.Add("traceparent", kSpecTraceparent);
  carrier.Add("traceparent", kSpecTraceparent);
  ExpectUntouched(ExtractTraceContext(carrier));
  VectorCarrier different;
  different.Add("traceparent", kSpecTraceparent);
  different.Add("traceparent", "00-11111111111111111111111111111111-1111111111111111-01");
  ExpectUntouched(ExtractTraceContext(different));
  // Joined into one value by an intermediary: not 55 characters, invalid.
  VectorCarrier joined;
  joined.Add("traceparent", std::string(kSpecTraceparent) + "," + kSpecTraceparent);
  ExpectUntouched(ExtractTraceContext(joined));
}

TEST(TraceContextPropagatorTest, SeveralTracestateValuesAreJoinedInOrder) {
  VectorCarrier carrier;
  carrier.Add("traceparent", kSpecTraceparent);
  carrier.Add("tracestate", "congo=t61rcWkgMzE");
  carrier.Add("tracestate", "");
  carrier.Add("tracestate", " rojo=00f067aa0ba902b7 ,");
  EXPECT_EQ(ExtractTraceContext(carrier).span_context.trace_state().ToHeader(),
            "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
}

TEST(TraceContextPropagatorTest, InvalidTracestateIsDroppedButParentApplies) {
  const std::vector<std::vector<std::string>> invalid = {
      {"a=1,A=2"}, {"a=1", "@a=2"}, {"a=1,b"}, {"a=" + std::string(257, 'x')}};
  for (const auto& values : invalid) {
    VectorCarrier carrier;
    carrier.Add("traceparent", kSpecTraceparent);
    for (const std::string& value : values) carrier.Add("tracestate", value);
    PropagatedContext context = ExtractTraceContext(carrier);
    EXPECT_EQ(context.span_context.trace_id().ToHex(), kSpecTraceId);
    EXPECT_TRUE(context.span_context.trace_state().empty()) << values[0];
  }
}

TEST(TraceContextPropagatorTest, TracestateLimitAcrossValues) {
  std::string first, second;
  for (int i = 0; i < 16; ++i) first += (i ? "," : "") + ("a" + std::to_string(i)) + "=1";
  for (int i = 0; i < 16; ++i) second += (i ? "," : "") + ("b" + std::to_string(i)) + "=1";
  VectorCarrier carrier;
  carrier.Add("traceparent", kSpecTraceparent);
  carrier.Add("tracestate", first);
  carrier.Add("tracestate", second);
  EXPECT_EQ(ExtractTraceContext(carrier).span_context.trace_state().size(), 32u);
  carrier.Add("tracestate", "c=1");
  PropagatedContext context = ExtractTraceContext(carrier);
  EXPECT_TRUE(context.span_context.IsRemote());
  EXPECT_TRUE(context.span_context.trace_state().empty());
}

TEST(TraceContextPropagatorTest, TracestateWithoutValidTraceparentIsIgnored) {
  VectorCarrier carrier;
  carrier.Add("tracestate", "congo=t61rcWkgMzE");
  ExpectUntouched(ExtractTraceContext(carrier));
  carrier.Add("traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01");
  ExpectUntouched(ExtractTraceContext(carrier));
}

TEST(TraceContextPropagatorTest, MalformedInputLeavesThePrefilledContextUntouched) {
  const std::vector<std::string> malformed = {
      "",
      "garbage",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.x",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
      std::string(10000, '0'),
  };
  for (const std::string& value : malformed) {
    VectorCarrier carrier;
    carrier.Add("traceparent", value);
    carrier.Add("tracestate", "congo=t61rcWkgMzE");
    ExpectUntouched(ExtractTraceContext(carrier));
  }
  ExpectUntouched(ExtractTraceContext(VectorCarrier()));
}

TEST(TraceContextPropagatorTest, InjectWritesTraceparentAndTracestate) {
  TraceState state;
  ASSERT_TRUE(TraceState::Parse("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", &state));
  PropagatedContext context;
  context.span_context = SpanContext(TraceId::FromHex(kSpecTraceId), SpanId::FromHex(kSpecSpanId),
                                     TraceFlags(0x01), /*is_remote=*/false, state.Set("tb", "x"));
  VectorCarrier carrier;
  carrier.Add("traceparent", "stale");
  TraceContextPropagator().Inject(context, &carrier);
  EXPECT_EQ(carrier.CountValues("traceparent"), 1u);
  EXPECT_EQ(carrier.Get("traceparent"), kSpecTraceparent);
  EXPECT_EQ(carrier.Get("tracestate"), "tb=x,congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
}

TEST(TraceContextPropagatorTest, InjectSkipsEmptyTracestateAndInvalidContext) {
  VectorCarrier carrier;
  PropagatedContext context;
  TraceContextPropagator().Inject(context, &carrier);
  EXPECT_TRUE(carrier.entries().empty());
  context.span_context = SpanContext(TraceId::FromHex(kSpecTraceId), SpanId::FromHex(kSpecSpanId),
                                     TraceFlags(0x01), /*is_remote=*/false);
  TraceContextPropagator().Inject(context, &carrier);
  EXPECT_EQ(carrier.entries().size(), 1u);
  bool found = true;
  carrier.Get("tracestate", &found);
  EXPECT_FALSE(found);
}

TEST(TraceContextPropagatorTest, InjectThenExtractRoundTrip) {
  std::mt19937 rng(99);
  for (int i = 0; i < 2000; ++i) {
    TraceState state;
    for (int n = static_cast<int>(rng() % 5); n > 0; --n) {
      state = state.Set("k" + std::to_string(rng() % 50), "v" + std::to_string(rng()));
    }
    PropagatedContext sent;
    sent.span_context = SpanContext(TraceId::Generate(), SpanId::Generate(),
                                    TraceFlags(static_cast<uint8_t>(rng() & 0x03)),
                                    /*is_remote=*/true, state);
    VectorCarrier carrier;
    TraceContextPropagator().Inject(sent, &carrier);
    PropagatedContext received;
    TraceContextPropagator().Extract(carrier, &received);
    ASSERT_EQ(received.span_context, sent.span_context);
  }
}

// --- BaggagePropagator --------------------------------------------------------

TEST(BaggagePropagatorTest, NameAndFields) {
  BaggagePropagator propagator;
  EXPECT_EQ(propagator.Name(), "baggage");
  ASSERT_EQ(propagator.Fields().size(), 1u);
  EXPECT_EQ(propagator.Fields()[0], "baggage");
}

TEST(BaggagePropagatorTest, ExtractsAndLeavesTheSpanContextAlone) {
  VectorCarrier carrier;
  carrier.Add("baggage", "userId=alice,serverNode=DF%2028,isProduction=false");
  PropagatedContext context = Prefilled();
  BaggagePropagator().Extract(carrier, &context);
  EXPECT_EQ(context.span_context, Prefilled().span_context);
  ASSERT_EQ(context.baggage.size(), 3u);
  EXPECT_EQ(*context.baggage.Get("serverNode"), "DF 28");
  EXPECT_FALSE(context.baggage.Get("pre").has_value());  // replaced, not merged
}

TEST(BaggagePropagatorTest, SeveralValuesAreCombinedInOrder) {
  VectorCarrier carrier;
  carrier.Add("baggage", "a=1, b=2");
  carrier.Add("Baggage", "");
  carrier.Add("baggage", "c=3,a=4");
  PropagatedContext context;
  BaggagePropagator().Extract(carrier, &context);
  EXPECT_EQ(FormatBaggageHeader(context.baggage), "a=4,b=2,c=3");
}

TEST(BaggagePropagatorTest, LimitsApplyAcrossValues) {
  VectorCarrier carrier;
  for (int i = 0; i < 65; ++i) carrier.Add("baggage", "k" + std::to_string(i) + "=v");
  PropagatedContext context;
  BaggagePropagator().Extract(carrier, &context);
  EXPECT_EQ(context.baggage.size(), 64u);
  VectorCarrier bytes;
  bytes.Add("baggage", "a=" + std::string(8000, 'v'));
  bytes.Add("baggage", "b=" + std::string(200, 'v'));
  bytes.Add("baggage", "c=1");
  BaggagePropagator().Extract(bytes, &context);
  EXPECT_EQ(FormatBaggageHeader(context.baggage), "a=" + std::string(8000, 'v') + ",c=1");
}

TEST(BaggagePropagatorTest, MalformedOrAbsentHeaderChangesNothing) {
  for (const char* value : {"", "garbage", "a b=1", ",,;", "=x"}) {
    VectorCarrier carrier;
    carrier.Add("baggage", value);
    PropagatedContext context = Prefilled();
    BaggagePropagator().Extract(carrier, &context);
    ExpectUntouched(context);
  }
  PropagatedContext context = Prefilled();
  BaggagePropagator().Extract(VectorCarrier(), &context);
  ExpectUntouched(context);
}

TEST(BaggagePropagatorTest, InjectEncodesAndSkipsEmpty) {
  VectorCarrier carrier;
  PropagatedContext context;
  BaggagePropagator().Inject(context, &carrier);
  EXPECT_TRUE(carrier.entries().empty());
  context.baggage = Baggage().Set("user", "Am\xC3\xA9lie, 100%").Set("t", "1", "ttl=30");
  BaggagePropagator().Inject(context, &carrier);
  EXPECT_EQ(carrier.Get("baggage"), "user=Am%C3%A9lie%2C%20100%25,t=1;ttl=30");
  PropagatedContext received;
  BaggagePropagator().Extract(carrier, &received);
  EXPECT_EQ(received.baggage, context.baggage);
}

}  // namespace
}  // namespace tracebridge
