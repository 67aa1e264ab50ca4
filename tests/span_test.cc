// Spans, the current-span scope and the tracer.

#include <string>
#include <thread>

#include "absl/types/variant.h"
#include "gtest/gtest.h"
#include "tests/testing/alloc_counter.h"
#include "tests/testing/collecting_processor.h"
#include "tracebridge/core/trace/span.h"
#include "tracebridge/core/trace/tracer.h"

namespace tracebridge {
namespace {

using testing::CollectingProcessor;

class SpanTest : public ::testing::Test {
 protected:
  Tracer& MakeTracer(std::shared_ptr<Sampler> sampler = AlwaysOnSampler(),
                     SpanLimits limits = SpanLimits()) {
    TracerOptions options;
    options.service_name = "test-service";
    options.sampler = std::move(sampler);
    options.processor = &processor_;
    options.limits = limits;
    tracer_ = std::make_unique<Tracer>(std::move(options));
    return *tracer_;
  }

  CollectingProcessor processor_;
  std::unique_ptr<Tracer> tracer_;
};

TEST_F(SpanTest, SampledSpanRecordsEveryAttributeType) {
  Tracer& tracer = MakeTracer();
  {
    Span span = tracer.StartSpan("op", {SpanKind::kServer});
    ASSERT_TRUE(span.IsRecording());
    span.SetAttribute("s", "text");
    span.SetAttribute("i", int64_t{-42});
    span.SetAttribute("n", 7);
    span.SetAttribute("d", 2.5);
    span.SetAttribute("b", true);
    span.SetAttribute("s", "replaced");
  }
  auto spans = processor_.Spans();
  ASSERT_EQ(spans.size(), 1u);
  const SpanData& data = spans[0];
  EXPECT_EQ(data.name, "op");
  EXPECT_EQ(data.kind, SpanKind::kServer);
  EXPECT_EQ(data.attributes.size(), 5u);
  EXPECT_EQ(absl::get<std::string>(*data.FindAttribute("s")), "replaced");
  EXPECT_EQ(absl::get<int64_t>(*data.FindAttribute("i")), -42);
  EXPECT_EQ(absl::get<int64_t>(*data.FindAttribute("n")), 7);
  EXPECT_EQ(absl::get<double>(*data.FindAttribute("d")), 2.5);
  EXPECT_EQ(absl::get<bool>(*data.FindAttribute("b")), true);
  EXPECT_LE(data.start_unix_nanos, data.end_unix_nanos);
  EXPECT_GE(data.DurationNanos(), 0);
}

TEST_F(SpanTest, AttributesBeyondTheLimitAreDroppedAndCounted) {
  SpanLimits limits;
  limits.max_attributes = 3;
  Tracer& tracer = MakeTracer(AlwaysOnSampler(), limits);
  {
    Span span = tracer.StartSpan("op");
    for (int i = 0; i < 10; ++i) span.SetAttribute("k" + std::to_string(i), i);
    span.SetAttribute("k0", 100);  // replacing an existing key still works
  }
  SpanData data = processor_.Spans().at(0);
  EXPECT_EQ(data.attributes.size(), 3u);
  EXPECT_EQ(data.dropped_attributes, 7u);
  EXPECT_EQ(absl::get<int64_t>(*data.FindAttribute("k0")), 100);
}

// SetAttributes stores what SetAttribute would, one by one: on a fresh span
// (the copy that skips the checks), on a span that has attributes already,
// and under limits tighter than the prepared strings.
TEST_F(SpanTest, PreparedAttributesMatchSettingThemOneByOne) {
  const std::string r = "\xEF\xBF\xBD";
  const PreparedAttributes prepared({{"rpc.system", std::string("grpc")},
                                     {"k\xff", std::string("v\xfe")},
                                     {"n", int64_t{1}},
                                     {"rpc.system", std::string("replaced")}});
  ASSERT_EQ(prepared.attributes().size(), 3u);  // the repeated key kept once, last value
  SpanLimits limits;
  limits.max_attributes = 3;
  limits.max_string_length = 4;
  Tracer& tracer = MakeTracer(AlwaysOnSampler(), limits);
  for (int round = 0; round < 2; ++round) {  // the second round reuses recycled records
    {
      Span span = tracer.StartSpan("fresh");
      span.SetAttributes(prepared);
    }
    {
      Span span = tracer.StartSpan("after");
      span.SetAttribute("n", int64_t{0});
      span.SetAttribute("x", true);
      span.SetAttributes(prepared);
    }
  }
  const auto spans = processor_.Spans();
  ASSERT_EQ(spans.size(), 4u);
  for (int round = 0; round < 2; ++round) {
    const SpanData& fresh = spans[2 * round];
    ASSERT_EQ(fresh.attributes.size(), 3u);
    EXPECT_EQ(fresh.attributes[0].key, "rpc.");  // cut to the 4-byte limit
    EXPECT_EQ(absl::get<std::string>(fresh.attributes[0].value), "repl");
    EXPECT_EQ(fresh.attributes[1].key, "k" + r);
    EXPECT_EQ(absl::get<std::string>(fresh.attributes[1].value), "v" + r);
    EXPECT_EQ(absl::get<int64_t>(*fresh.FindAttribute("n")), 1);
    EXPECT_EQ(fresh.dropped_attributes, 0u);
    const SpanData& after = spans[2 * round + 1];
    ASSERT_EQ(after.attributes.size(), 3u);
    EXPECT_EQ(absl::get<int64_t>(*after.FindAttribute("n")), 1);  // replaced, not added
    EXPECT_EQ(absl::get<bool>(*after.FindAttribute("x")), true);
    EXPECT_EQ(after.dropped_attributes, 1u);  // one of the two new keys found no room
  }
}

// A span remembers a 64-bit signature of its keys to skip the duplicate scan
// for new ones: 200 keys share those 64 bits, yet every repeated key still
// replaces, after prepared attributes, recycled records and a move too.
TEST_F(SpanTest, RepeatedKeysReplaceWhateverTheirSignature) {
  const PreparedAttributes prepared({{"rpc.system", std::string("grpc")}, {"n", int64_t{1}}});
  SpanLimits limits;
  limits.max_attributes = 256;
  Tracer& tracer = MakeTracer(AlwaysOnSampler(), limits);
  for (int round = 0; round < 2; ++round) {  // the second round reuses recycled records
    Span span = tracer.StartSpan("op");
    span.SetAttributes(prepared);
    for (int i = 0; i < 200; ++i) span.SetAttribute("key." + std::to_string(i), i);
    Span moved = std::move(span);
    for (int i = 0; i < 200; ++i) moved.SetAttribute("key." + std::to_string(i), i + 1000);
    moved.SetAttribute("rpc.system", "replaced");
    moved.SetAttribute("n", int64_t{2});
  }
  const auto spans = processor_.Spans();
  ASSERT_EQ(spans.size(), 2u);
  for (const SpanData& data : spans) {
    ASSERT_EQ(data.attributes.size(), 202u);
    EXPECT_EQ(absl::get<std::string>(*data.FindAttribute("rpc.system")), "replaced");
    EXPECT_EQ(absl::get<int64_t>(*data.FindAttribute("n")), 2);
    for (int i = 0; i < 200; ++i) {
      const AttributeValue* value = data.FindAttribute("key." + std::to_string(i));
      ASSERT_NE(value, nullptr) << i;
      EXPECT_EQ(absl::get<int64_t>(*value), i + 1000) << i;
    }
  }
}

TEST_F(SpanTest, LongStringsAreCutAtUtf8Boundaries) {
  SpanLimits limits;
  limits.max_string_length = 5;
  Tracer& tracer = MakeTracer(AlwaysOnSampler(), limits);
  {
    Span span = tracer.StartSpan("abcdefgh");
    span.SetAttribute("v", "ab\xC3\xA9\xC3\xA9");  // "abéé": the cut falls inside é
  }
  SpanData data = processor_.Spans().at(0);
  EXPECT_EQ(data.name, "abcde");
  EXPECT_EQ(absl::get<std::string>(*data.FindAttribute("v")), "ab\xC3\xA9");
}

// Every string a span takes in leaves the process (query service, OTLP,
// JSON), so each is stored as valid UTF-8 with ill-formed bytes as U+FFFD.
TEST_F(SpanTest, EveryStringIsStoredAsValidUtf8) {
  const std::string r = "\xEF\xBF\xBD";
  SpanLimits limits;
  limits.max_string_length = 8;
  Tracer& tracer = MakeTracer(AlwaysOnSampler(), limits);
  const SpanContext linked(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736"),
                           SpanId::FromHex("00f067aa0ba902b7"), TraceFlags(1), true);
  const SpanLink start_link{linked, {Attribute{"l\xff", std::string("v\xfe")}}};
  StartSpanOptions options;
  options.links = absl::Span<const SpanLink>(&start_link, 1);
  {
    Span span = tracer.StartSpan("start\xff", options);
    span.SetAttribute("k\xff", "v\xff");
    span.SetAttribute("k\xff", "again\xc3");                // the same raw key replaces
    span.SetAttribute(std::string("long\xff\xff\xff"), 1);  // 13 bytes repaired: cut to 8
    span.AddEvent("ev\xc0", {Attribute{"ek\xed\xa0\x80", std::string("ev\xf5")}});
    span.AddLink(linked, {Attribute{"lk\x80", std::string("lv\xbf")}});
    span.RecordError("T\xff", "message\xff");
  }
  {
    Span span = tracer.StartSpan("ok");
    span.UpdateName("renamed\xff");
    span.SetStatus(StatusCode::kError, "d\xff");
  }
  auto spans = processor_.Spans();
  ASSERT_EQ(spans.size(), 2u);
  const SpanData& data = spans[0];
  EXPECT_EQ(data.name, "start" + r);
  ASSERT_EQ(data.attributes.size(), 2u);
  EXPECT_EQ(data.attributes[0].key, "k" + r);
  EXPECT_EQ(absl::get<std::string>(data.attributes[0].value), "again" + r);
  EXPECT_EQ(data.attributes[1].key, "long" + r);
  ASSERT_EQ(data.events.size(), 2u);
  EXPECT_EQ(data.events[0].name, "ev" + r);
  EXPECT_EQ(data.events[0].attributes[0].key, "ek" + r + r);  // 8 bytes: the third is cut
  EXPECT_EQ(absl::get<std::string>(data.events[0].attributes[0].value), "ev" + r);
  EXPECT_EQ(data.events[1].name, "exceptio");
  EXPECT_EQ(absl::get<std::string>(data.events[1].attributes[0].value), "T" + r);
  EXPECT_EQ(absl::get<std::string>(data.events[1].attributes[1].value), "message");
  EXPECT_EQ(data.status_description, "message");
  ASSERT_EQ(data.links.size(), 2u);
  EXPECT_EQ(data.links[0].attributes[0].key, "l" + r);
  EXPECT_EQ(absl::get<std::string>(data.links[0].attributes[0].value), "v" + r);
  EXPECT_EQ(data.links[1].attributes[0].key, "lk" + r);
  EXPECT_EQ(absl::get<std::string>(data.links[1].attributes[0].value), "lv" + r);
  EXPECT_EQ(spans[1].name, "renamed");  // U+FFFD would not fit in 8 bytes
  EXPECT_EQ(spans[1].status_description, "d" + r);
}

TEST_F(SpanTest, EventsLinksAndLimits) {
  SpanLimits limits;
  limits.max_events = 2;
  limits.max_links = 1;
  limits.max_attributes_per_event = 1;
  Tracer& tracer = MakeTracer(AlwaysOnSampler(), limits);
  SpanContext other(TraceId::Generate(), SpanId::Generate(), TraceFlags::Sampled(), true);
  {
    Span span = tracer.StartSpan("op");
    span.AddEvent("first", {{"a", int64_t{1}}, {"b", int64_t{2}}});
    span.AddEvent("second");
    span.AddEvent("third");
    span.AddLink(other, {{"why", std::string("retry")}});
    span.AddLink(SpanContext());  // invalid: ignored, not counted
    span.AddLink(other);
  }
  SpanData data = processor_.Spans().at(0);
  ASSERT_EQ(data.events.size(), 2u);
  EXPECT_EQ(data.events[0].name, "first");
  EXPECT_EQ(data.events[0].attributes.size(), 1u);
  EXPECT_EQ(data.events[0].dropped_attributes, 1u);
  EXPECT_GE(data.events[0].time_unix_nanos, data.start_unix_nanos);
  EXPECT_EQ(data.dropped_events, 1u);
  ASSERT_EQ(data.links.size(), 1u);
  EXPECT_EQ(data.links[0].context, other);
  EXPECT_EQ(data.dropped_links, 1u);
}

TEST_F(SpanTest, StatusRules) {
  Tracer& tracer = MakeTracer();
  {
    Span span = tracer.StartSpan("error-then-ok");
    span.SetStatus(StatusCode::kError, "boom");
    span.SetStatus(StatusCode::kUnset);
    EXPECT_EQ(span.data()->status, StatusCode::kError);
    EXPECT_EQ(span.data()->status_description, "boom");
    span.SetStatus(StatusCode::kOk, "ignored");
    EXPECT_EQ(span.data()->status, StatusCode::kOk);
    EXPECT_EQ(span.data()->status_description, "");
    span.SetStatus(StatusCode::kError, "too late");
    EXPECT_EQ(span.data()->status, StatusCode::kOk);
  }
  {
    Span span = tracer.StartSpan("record-error");
    span.RecordError("std::runtime_error", "disk full");
    ASSERT_EQ(span.data()->events.size(), 1u);
    EXPECT_EQ(span.data()->events[0].name, "exception");
    EXPECT_EQ(span.data()->status, StatusCode::kError);
    EXPECT_EQ(span.data()->status_description, "disk full");
  }
}

TEST_F(SpanTest, EndIsIdempotentAndMutatorsAfterEndDoNothing) {
  Tracer& tracer = MakeTracer();
  Span span = tracer.StartSpan("op");
  span.End();
  EXPECT_FALSE(span.IsRecording());
  span.SetAttribute("late", 1);
  span.End();
  EXPECT_EQ(processor_.size(), 1u);
  EXPECT_TRUE(processor_.Spans()[0].attributes.empty());
  EXPECT_TRUE(span.context().IsValid());
}

// End(t) ends at the caller's clock read: the span lasts t - start, and a
// time before the start gives a zero duration, never a negative one.
TEST_F(SpanTest, EndAtAGivenTimeUsesThatTime) {
  Tracer& tracer = MakeTracer();
  Span span = tracer.StartSpan("timed");
  const int64_t start = span.start_monotonic_nanos();
  ASSERT_GT(start, 0);
  span.End(start + 1234);
  span.End(start + 99999);  // already ended: no effect
  Span early = tracer.StartSpan("early");
  early.End(early.start_monotonic_nanos() - 50);
  EXPECT_EQ(Span().start_monotonic_nanos(), 0);  // records nothing
  const auto spans = processor_.Spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].DurationNanos(), 1234);
  EXPECT_EQ(spans[1].DurationNanos(), 0);
}

TEST_F(SpanTest, MoveAssignEndsTheOverwrittenSpan) {
  Tracer& tracer = MakeTracer();
  Span span = tracer.StartSpan("first");
  span = tracer.StartSpan("second");
  EXPECT_EQ(processor_.size(), 1u);
  EXPECT_EQ(processor_.Spans()[0].name, "first");
  span.End();
  EXPECT_EQ(processor_.size(), 2u);
}

TEST_F(SpanTest, ChildOfCurrentSpanAndScopesNest) {
  Tracer& tracer = MakeTracer();
  EXPECT_FALSE(CurrentSpan().context().IsValid());
  Span parent = tracer.StartSpan("parent");
  {
    Scope outer(parent);
    EXPECT_EQ(&CurrentSpan(), &parent);
    Span child = tracer.StartSpan("child");
    EXPECT_EQ(child.context().trace_id(), parent.context().trace_id());
    EXPECT_NE(child.context().span_id(), parent.context().span_id());
    EXPECT_EQ(child.data()->parent_span_id, parent.context().span_id());
    EXPECT_FALSE(child.data()->parent_is_remote);
    {
      Scope inner(child);
      EXPECT_EQ(&CurrentSpan(), &child);
      Span root = tracer.StartSpan("root", {SpanKind::kInternal, ParentChoice::kRoot});
      EXPECT_NE(root.context().trace_id(), parent.context().trace_id());
      EXPECT_FALSE(root.data()->parent_span_id.IsValid());
    }
    EXPECT_EQ(&CurrentSpan(), &parent);
  }
  EXPECT_FALSE(CurrentSpan().context().IsValid());
}

TEST_F(SpanTest, ExplicitRemoteParent) {
  Tracer& tracer = MakeTracer();
  SpanContext remote(TraceId::Generate(), SpanId::Generate(), TraceFlags::Sampled(), true);
  StartSpanOptions options;
  options.parent_choice = ParentChoice::kExplicit;
  options.parent = remote;
  Span span = tracer.StartSpan("server", options);
  EXPECT_EQ(span.context().trace_id(), remote.trace_id());
  EXPECT_EQ(span.data()->parent_span_id, remote.span_id());
  EXPECT_TRUE(span.data()->parent_is_remote);
  EXPECT_FALSE(span.context().IsRemote());
}

TEST_F(SpanTest, BaggageTravelsWithScopes) {
  Tracer& tracer = MakeTracer();
  Span span = tracer.StartSpan("op");
  Baggage baggage = Baggage().Set("tenant", "acme");
  EXPECT_TRUE(CurrentBaggage().empty());
  {
    Scope scope(span, baggage);
    ASSERT_TRUE(CurrentBaggage().Get("tenant").has_value());
    Span child = tracer.StartSpan("child");
    Scope inner(child);  // keeps the baggage
    EXPECT_EQ(*CurrentBaggage().Get("tenant"), "acme");
  }
  EXPECT_TRUE(CurrentBaggage().empty());
}

TEST_F(SpanTest, UnsampledSpanPropagatesButRecordsNothing) {
  Tracer& tracer = MakeTracer(AlwaysOffSampler());
  Span span = tracer.StartSpan("op");
  EXPECT_FALSE(span.IsRecording());
  EXPECT_TRUE(span.context().IsValid());
  EXPECT_FALSE(span.context().IsSampled());
  {
    Scope scope(span);
    Span child = tracer.StartSpan("child");
    EXPECT_EQ(child.context().trace_id(), span.context().trace_id());
  }
  span.SetAttribute("ignored", 1);
  span.End();
  EXPECT_EQ(processor_.size(), 0u);
  EXPECT_EQ(tracer.Stats().spans_started, 0u);
}

TEST_F(SpanTest, UnsampledSpanAllocatesNothing) {
  Tracer& tracer = MakeTracer(AlwaysOffSampler());
  { Span warm = tracer.StartSpan("warm-up"); }  // first use of thread-locals
  const uint64_t before = testing::ThreadAllocations();
  for (int i = 0; i < 1000; ++i) {
    Span span = tracer.StartSpan("op");
    span.SetAttribute("key", "value");
    span.End();
  }
  EXPECT_EQ(testing::ThreadAllocations(), before);
}

TEST_F(SpanTest, RemoteUnsampledParentIsFollowedByParentBased) {
  Tracer& tracer = MakeTracer(ParentBasedSampler(AlwaysOnSampler()));
  SpanContext remote(TraceId::Generate(), SpanId::Generate(), TraceFlags(0), true);
  StartSpanOptions options;
  options.parent_choice = ParentChoice::kExplicit;
  options.parent = remote;
  Span span = tracer.StartSpan("op", options);
  EXPECT_FALSE(span.IsRecording());
  EXPECT_EQ(span.context().trace_id(), remote.trace_id());
}

TEST_F(SpanTest, DebugAndTraceStateCarryToChildren) {
  Tracer& tracer = MakeTracer();
  SpanContext remote =
      SpanContext(TraceId::Generate(), SpanId::Generate(), TraceFlags::Sampled(), true)
          .WithDebug(true);
  StartSpanOptions options;
  options.parent_choice = ParentChoice::kExplicit;
  options.parent = remote;
  Span span = tracer.StartSpan("op", options);
  EXPECT_TRUE(span.context().IsDebug());
  EXPECT_EQ(span.context().trace_state(), remote.trace_state());
}

TEST_F(SpanTest, NewTracesCarryTheRandomFlag) {
  Tracer& tracer = MakeTracer();
  Span span = tracer.StartSpan("op");
  EXPECT_TRUE(span.context().trace_flags().IsRandom());
  EXPECT_TRUE(span.context().IsSampled());
}

TEST_F(SpanTest, TrustBoundaryRestartsTheTraceWithALink) {
  Tracer& tracer = MakeTracer();
  PropagatedContext incoming;
  incoming.span_context =
      SpanContext(TraceId::Generate(), SpanId::Generate(), TraceFlags::Sampled(), true);
  incoming.baggage = Baggage().Set("user", "mallory");

  Span trusted = tracer.StartServerSpan("trusted", incoming, /*trusted=*/true);
  EXPECT_EQ(trusted.context().trace_id(), incoming.span_context.trace_id());
  EXPECT_EQ(trusted.data()->kind, SpanKind::kServer);
  EXPECT_FALSE(IncomingBaggage(incoming, true).empty());

  Span untrusted = tracer.StartServerSpan("untrusted", incoming, /*trusted=*/false);
  EXPECT_NE(untrusted.context().trace_id(), incoming.span_context.trace_id());
  EXPECT_FALSE(untrusted.data()->parent_span_id.IsValid());
  ASSERT_EQ(untrusted.data()->links.size(), 1u);
  EXPECT_EQ(untrusted.data()->links[0].context, incoming.span_context);
  EXPECT_TRUE(IncomingBaggage(incoming, false).empty());
}

TEST_F(SpanTest, StatsCountStartedAndEndedAcrossThreads) {
  Tracer& tracer = MakeTracer();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&tracer] {
      for (int i = 0; i < 1000; ++i) tracer.StartSpan("op");
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(tracer.Stats().spans_started, 4000u);
  EXPECT_EQ(tracer.Stats().spans_ended, 4000u);
  EXPECT_EQ(processor_.size(), 4000u);
}

#ifndef NDEBUG
TEST(ScopeDeathTest, ScopeEndedOnTheWrongThreadIsDetected) {
  EXPECT_DEATH(
      {
        Span span;
        auto* scope = new Scope(span);
        std::thread other([scope] { delete scope; });
        other.join();
      },
      "wrong thread");
}

TEST(ScopeDeathTest, ScopesEndedOutOfOrderAreDetected) {
  EXPECT_DEATH(
      {
        Span a;
        Span b;
        auto* outer = new Scope(a);
        Scope inner(b);
        delete outer;
      },
      "out of order");
}
#endif

}  // namespace
}  // namespace tracebridge
