#include "tracebridge/core/trace/ids.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace tracebridge {
namespace {

TEST(IdsTest, DefaultIsInvalid) {
  EXPECT_FALSE(TraceId().IsValid());
  EXPECT_FALSE(SpanId().IsValid());
  EXPECT_EQ(TraceId().ToHex(), std::string(32, '0'));
}

TEST(IdsTest, HexRoundTripOverRandomIds) {
  for (int i = 0; i < 10000; ++i) {
    TraceId trace_id = TraceId::Generate();
    SpanId span_id = SpanId::Generate();
    ASSERT_TRUE(trace_id.IsValid());
    ASSERT_TRUE(span_id.IsValid());
    ASSERT_EQ(TraceId::FromHex(trace_id.ToHex()), trace_id);
    ASSERT_EQ(SpanId::FromHex(span_id.ToHex()), span_id);
  }
}

TEST(IdsTest, ParsesSpecExample) {
  TraceId id = TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736");
  ASSERT_TRUE(id.IsValid());
  EXPECT_EQ(id.bytes()[0], 0x4b);
  EXPECT_EQ(id.bytes()[15], 0x36);
  EXPECT_EQ(id.Low64(), 0xa3ce929d0e0e4736ULL);
  EXPECT_EQ(SpanId::FromHex("00f067aa0ba902b7").Low64(), 0x00f067aa0ba902b7ULL);
}

TEST(IdsTest, RejectsUppercaseWrongLengthAndNonHex) {
  EXPECT_FALSE(TraceId::FromHex("4BF92F3577B34DA6A3CE929D0E0E4736").IsValid());
  EXPECT_FALSE(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e473").IsValid());
  EXPECT_FALSE(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e47366").IsValid());
  EXPECT_FALSE(SpanId::FromHex("00f067aa0ba902bg").IsValid());
  EXPECT_FALSE(SpanId::FromHex("").IsValid());
}

TEST(IdsTest, GeneratedIdsAreDistinct) {
  std::set<TraceId> seen;
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(seen.insert(TraceId::Generate()).second);
}

}  // namespace
}  // namespace tracebridge
