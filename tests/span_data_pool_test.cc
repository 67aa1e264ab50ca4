// Recycled span records (core/trace/span_data.h): a recycled record comes
// back empty, the next span's data never shows the previous span's, copies
// hold only the attributes, and in steady state a sampled span with its
// attributes allocates nothing on the thread that records it.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/types/variant.h"
#include "gtest/gtest.h"
#include "tests/testing/alloc_counter.h"
#include "tests/testing/collecting_processor.h"
#include "tracebridge/core/trace/span.h"
#include "tracebridge/core/trace/span_data.h"
#include "tracebridge/core/trace/tracer.h"

namespace tracebridge {
namespace {

// Hands every ended span straight back to the free list, as the batch
// processor does after an export.
class RecyclingProcessor final : public SpanProcessor {
 public:
  void OnEnd(std::unique_ptr<SpanData> span) noexcept override {
    ++ended;
    internal::RecycleSpanData(std::move(span));
  }
  absl::Status ForceFlush(absl::Duration) override { return absl::OkStatus(); }
  absl::Status Shutdown(absl::Duration) override { return absl::OkStatus(); }
  int ended = 0;
};

// Every field set, as a busy span leaves its record.
void Fill(SpanData& data) {
  data.name = "a span name long enough to need the heap";
  data.kind = SpanKind::kClient;
  data.context = SpanContext(TraceId::Generate(), SpanId::Generate(), TraceFlags::Sampled(), true);
  data.parent_span_id = SpanId::Generate();
  data.parent_is_remote = true;
  data.start_unix_nanos = 1;
  data.end_unix_nanos = 2;
  for (int i = 0; i < 20; ++i) {
    data.attributes.push_back({"key-" + std::to_string(i), std::string(100, 'v')});
  }
  data.dropped_attributes = 3;
  data.events.push_back(SpanEvent{"event", 5, {}, 0});
  data.dropped_events = 4;
  data.links.push_back(SpanLink{data.context, {}, 0});
  data.dropped_links = 5;
  data.status = StatusCode::kError;
  data.status_description = "broken";
}

// Takes every record pooled for spans of `kind`, so that the next one
// recycled for that kind is the next one out.
std::vector<std::unique_ptr<SpanData>> Drain(SpanKind kind) {
  std::vector<std::unique_ptr<SpanData>> drained;
  for (size_t i = 0; i < internal::kSpanDataPoolSize; ++i) {
    drained.push_back(internal::NewSpanData(kind));
  }
  return drained;
}

TEST(SpanDataPoolTest, ARecycledRecordComesBackEmptyButItsName) {
  std::vector<std::unique_ptr<SpanData>> drained = Drain(SpanKind::kClient);
  auto data = internal::NewSpanData(SpanKind::kClient);
  SpanData* const address = data.get();
  Fill(*data);  // a client span's record
  internal::RecycleSpanData(std::move(data));
  std::unique_ptr<SpanData> again = internal::NewSpanData(SpanKind::kClient);
  ASSERT_EQ(again.get(), address);
  EXPECT_EQ(again->kind, SpanKind::kInternal);
  EXPECT_FALSE(again->context.IsValid());
  EXPECT_FALSE(again->parent_span_id.IsValid());
  EXPECT_FALSE(again->parent_is_remote);
  EXPECT_EQ(again->start_unix_nanos, 0);
  EXPECT_EQ(again->end_unix_nanos, 0);
  EXPECT_TRUE(again->attributes.empty());
  EXPECT_EQ(again->dropped_attributes, 0u);
  EXPECT_TRUE(again->events.empty());
  EXPECT_EQ(again->dropped_events, 0u);
  EXPECT_TRUE(again->links.empty());
  EXPECT_EQ(again->dropped_links, 0u);
  EXPECT_EQ(again->status, StatusCode::kUnset);
  EXPECT_TRUE(again->status_description.empty());
  for (auto& record : drained) internal::RecycleSpanData(std::move(record));
}

// A record goes back to the list of the kind of span it held: server and
// client spans do not trade records (whose kept attribute keys differ).
TEST(SpanDataPoolTest, RecordsReturnToTheListOfTheirKind) {
  std::vector<std::unique_ptr<SpanData>> servers = Drain(SpanKind::kServer);
  std::vector<std::unique_ptr<SpanData>> clients = Drain(SpanKind::kClient);
  auto data = internal::NewSpanData(SpanKind::kServer);
  SpanData* const address = data.get();
  data->kind = SpanKind::kServer;
  data->attributes.push_back({"network.peer.address", std::string("127.0.0.1")});
  internal::RecycleSpanData(std::move(data));
  std::unique_ptr<SpanData> client = internal::NewSpanData(SpanKind::kClient);
  EXPECT_NE(client.get(), address);
  std::unique_ptr<SpanData> server = internal::NewSpanData(SpanKind::kServer);
  EXPECT_EQ(server.get(), address);
  EXPECT_TRUE(server->attributes.empty());
  EXPECT_EQ(server->kind, SpanKind::kInternal);
  for (auto* list : {&servers, &clients}) {
    for (auto& record : *list) internal::RecycleSpanData(std::move(record));
  }
}

TEST(SpanDataPoolTest, ASpanNeverShowsThePreviousSpansData) {
  testing::CollectingProcessor collected;
  RecyclingProcessor recycling;
  TracerOptions options;
  options.processor = &recycling;
  Tracer recycled_tracer(options);
  options.processor = &collected;
  Tracer collected_tracer(options);
  for (int i = 0; i < 50; ++i) {
    Span busy = recycled_tracer.StartSpan("busy-span-with-a-long-name");
    busy.SetAttribute("network.peer.address", "2001:db8::1234:5678");
    busy.SetAttribute("rpc.service", "a.long.package.name.Service");
    busy.SetAttribute("n", 7);
    busy.SetAttribute("flag", true);
    busy.SetStatus(StatusCode::kError, "bad");
    busy.AddEvent("e");
  }
  {
    Span span = collected_tracer.StartSpan("short");
    span.SetAttribute("n", "text");                  // was an int at this position
    span.SetAttribute("network.peer.address", "x");  // same key, shorter value
  }
  ASSERT_EQ(collected.Spans().size(), 1u);
  const SpanData data = collected.Spans()[0];
  EXPECT_EQ(data.name, "short");
  ASSERT_EQ(data.attributes.size(), 2u);
  EXPECT_EQ(data.attributes[0].key, "n");
  EXPECT_EQ(absl::get<std::string>(data.attributes[0].value), "text");
  EXPECT_EQ(data.attributes[1].key, "network.peer.address");
  EXPECT_EQ(absl::get<std::string>(data.attributes[1].value), "x");
  EXPECT_EQ(data.status, StatusCode::kUnset);
  EXPECT_TRUE(data.status_description.empty());
  EXPECT_TRUE(data.events.empty());
}

// A record that held a method's prepared attributes gives them back to the
// next span of that method without copying; whatever had mutable access to
// them meanwhile (a processor editing the ended span, a value too long to
// keep) makes the next span copy them afresh, so no span ever shows another
// span's edits.
TEST(SpanDataPoolTest, PreparedAttributesTakenBackAreNeverStale) {
  const PreparedAttributes prepared({{"rpc.system", std::string("grpc")},
                                     {"rpc.method", std::string(100, 'm')},  // freed on recycling
                                     {"n", int64_t{1}}});
  const PreparedAttributes short_values({{"rpc.system", std::string("grpc")}, {"n", int64_t{1}}});
  // Each ended span is copied for the test, then edited one way, then
  // recycled for the next span.
  const std::vector<std::function<void(SpanData&)>> edits = {
      [](SpanData&) {},
      [](SpanData& data) { data.attributes[0].value = std::string("edited"); },
      [](SpanData& data) {
        for (Attribute& attribute : data.attributes) attribute.key += "-edited";
      },
      [](SpanData& data) { data.attributes.front().value = int64_t{5}; },
      [](SpanData& data) { data.attributes.back().value = std::string("edited"); },
      [](SpanData& data) {
        data.attributes.push_back({"extra", true});
      },
      [](SpanData& data) { data.attributes.clear(); },
      [](SpanData& data) {
        AttributeList moved = std::move(data.attributes);
        moved[0].value = std::string("edited");
        data.attributes = std::move(moved);
      },
      [](SpanData& data) {
        data.attributes = AttributeList{{"other", int64_t{2}}};
      },
  };
  class EditingProcessor final : public SpanProcessor {
   public:
    void OnEnd(std::unique_ptr<SpanData> span) noexcept override {
      seen.push_back(*span);
      if (edit) edit(*span);
      internal::RecycleSpanData(std::move(span));
    }
    absl::Status ForceFlush(absl::Duration) override { return absl::OkStatus(); }
    absl::Status Shutdown(absl::Duration) override { return absl::OkStatus(); }
    std::function<void(SpanData&)> edit;
    std::vector<SpanData> seen;
  } processor;
  TracerOptions options;
  options.processor = &processor;
  Tracer tracer(options);
  // With the internal spans' list empty, each span gets the record the one
  // before it left.
  std::vector<std::unique_ptr<SpanData>> drained = Drain(SpanKind::kInternal);
  for (const PreparedAttributes* set : {&prepared, &short_values}) {
    for (const auto& edit : edits) {
      for (int round = 0; round < 3; ++round) {
        processor.edit = edit;
        Span span = tracer.StartSpan("op");
        span.SetAttributes(*set);
        if (round == 1) span.SetAttribute("n", int64_t{2});  // a prepared key set again
      }
    }
  }
  ASSERT_EQ(processor.seen.size(), 2 * edits.size() * 3);
  for (size_t i = 0; i < processor.seen.size(); ++i) {
    const SpanData& data = processor.seen[i];
    const AttributeList& expected = (i < edits.size() * 3 ? prepared : short_values).attributes();
    ASSERT_EQ(data.attributes.size(), expected.size()) << i;
    for (size_t a = 0; a < expected.size(); ++a) {
      EXPECT_EQ(data.attributes[a].key, expected[a].key) << i;
      if (expected[a].key == "n") {
        EXPECT_EQ(absl::get<int64_t>(data.attributes[a].value), i % 3 == 1 ? 2 : 1) << i;
      } else {
        EXPECT_EQ(data.attributes[a].value, expected[a].value) << i;
      }
    }
  }
  for (auto& record : drained) internal::RecycleSpanData(std::move(record));
}

TEST(SpanDataPoolTest, SampledSpansAllocateNothingOnceRecordsCirculate) {
  RecyclingProcessor processor;
  TracerOptions options;
  options.processor = &processor;
  Tracer tracer(options);
  const SpanContext parent(TraceId::Generate(), SpanId::Generate(), TraceFlags::Sampled(), true);
  StartSpanOptions start;
  start.kind = SpanKind::kServer;
  start.parent_choice = ParentChoice::kExplicit;
  start.parent = parent;
  auto record = [&](int i) {
    Span span = tracer.StartSpan("tracebridge.testing.Echo/Unary", start);
    span.SetAttribute("rpc.system", "grpc");
    span.SetAttribute("rpc.service", "tracebridge.testing.Echo");
    span.SetAttribute("rpc.method", "Unary");
    span.SetAttribute("network.peer.address", "127.0.0.1");
    span.SetAttribute("network.peer.port", 40000 + i);
    span.SetAttribute("rpc.grpc.status_code", 0);
  };
  // The free list hands records out oldest first: let every record in it
  // have held a span like these once.
  const int warm_up = 2 * static_cast<int>(internal::kSpanDataPoolSize);
  for (int i = 0; i < warm_up; ++i) record(i);
  const uint64_t before = testing::ThreadAllocations();
  for (int i = 0; i < 100; ++i) record(i);
  EXPECT_EQ(testing::ThreadAllocations(), before);
  EXPECT_EQ(processor.ended, warm_up + 100);
}

TEST(AttributeListTest, BehavesLikeAVectorAndCopiesOnlyItsAttributes) {
  AttributeList list{{"a", int64_t{1}}, {"b", std::string("two")}};
  list.push_back({"c", 3.0});
  list.emplace_back("d", true);
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list.front().key, "a");
  EXPECT_EQ(list.back().key, "d");
  EXPECT_EQ(absl::get<std::string>(list[1].value), "two");

  list.ClearKeepingStorage(16, 64);
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.begin(), list.end());
  Attribute& reused = list.AppendReusing("b");
  EXPECT_EQ(reused.key, "b");
  reused.value = int64_t{9};
  list.emplace_back();  // a default attribute, not the dropped "b" entry's data
  ASSERT_EQ(list.size(), 2u);
  EXPECT_TRUE(list[1].key.empty());
  EXPECT_EQ(absl::get<std::string>(list[1].value), "");

  const AttributeList copy = list;
  EXPECT_EQ(copy.size(), 2u);
  AttributeList assigned;
  assigned = copy;
  EXPECT_EQ(assigned.size(), 2u);
  EXPECT_EQ(absl::get<int64_t>(assigned[0].value), 9);
  assigned.assign(copy.begin(), copy.begin() + 1);
  EXPECT_EQ(assigned.size(), 1u);
  assigned.clear();
  EXPECT_TRUE(assigned.empty());
}

}  // namespace
}  // namespace tracebridge
