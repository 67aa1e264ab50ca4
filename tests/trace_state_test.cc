// Tests for core/trace/trace_state.h against the W3C Trace Context Level 2
// `tracestate` rules: grammar, bounds, ordering, shortening, round trips, and
// the `tracestate` cases of the W3C test suite (test/test.py).

#include "tracebridge/core/trace/trace_state.h"

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tracebridge {
namespace {

std::vector<TraceState::Member> Members(const TraceState& state) { return state.members(); }

TraceState MustParse(absl::string_view header) {
  TraceState state;
  EXPECT_TRUE(TraceState::Parse(header, &state)) << header;
  return state;
}

bool Parses(absl::string_view header) {
  TraceState state;
  return TraceState::Parse(header, &state);
}

// "k0=v0,k1=v1,..." with `count` members.
std::string NumberedHeader(int count, const std::string& separator = ",") {
  std::string header;
  for (int i = 0; i < count; ++i) {
    if (i != 0) header += separator;
    header += "k" + std::to_string(i) + "=v" + std::to_string(i);
  }
  return header;
}

TEST(TraceStateTest, ParsesSpecExample) {
  TraceState state = MustParse("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(Members(state)[0].key, "congo");
  EXPECT_EQ(*state.Get("congo"), "t61rcWkgMzE");
  EXPECT_EQ(*state.Get("rojo"), "00f067aa0ba902b7");
  EXPECT_FALSE(state.Get("missing").has_value());
  EXPECT_EQ(state.ToHeader(), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
}

TEST(TraceStateTest, ParsesMultiTenantKeys) {
  TraceState state = MustParse("fw529a3039@dt=w8IIkw,rojo=1");
  EXPECT_EQ(*state.Get("fw529a3039@dt"), "w8IIkw");
}

TEST(TraceStateTest, EmptyHeaderAndEmptyMembersAreAccepted) {
  TraceState state = MustParse("a=1");
  EXPECT_TRUE(TraceState::Parse("", &state));
  EXPECT_TRUE(state.empty());
  EXPECT_EQ(Members(MustParse(",,a=1, ,\t,b=2,")), Members(MustParse("a=1,b=2")));
  EXPECT_TRUE(MustParse(" , \t ,").empty());
}

TEST(TraceStateTest, OptionalWhitespaceAroundMembersIsIgnored) {
  TraceState state = MustParse(" \ta=1 \t, b=2\t,c=3 ");
  EXPECT_EQ(state.ToHeader(), "a=1,b=2,c=3");
}

TEST(TraceStateTest, ValueMayContainInnerAndLeadingSpaces) {
  EXPECT_EQ(*MustParse("a=x y").Get("a"), "x y");
  EXPECT_EQ(*MustParse("a= x").Get("a"), " x");
}

TEST(TraceStateTest, AcceptsLevelTwoKeys) {
  // key = (lcalpha / DIGIT) 0*255(keychar), with '@' among the keychars.
  EXPECT_TRUE(Parses("1foo=1"));         // may start with a digit
  EXPECT_TRUE(Parses("foo@=1"));         // '@' may end a key
  EXPECT_TRUE(Parses("foo@@bar=1"));     // or repeat
  EXPECT_TRUE(Parses("foo@bar@baz=1"));  // any number of times
  EXPECT_TRUE(Parses("t@1sys=1"));       // a digit may follow '@'
  EXPECT_TRUE(Parses("1t@sys=1"));
  EXPECT_TRUE(Parses("a_-*/9=1"));
  EXPECT_TRUE(Parses("abcdefghijklmnopqrstuvwxyz0123456789_-*/@=1"));
  EXPECT_EQ(*MustParse("foo@bar@baz=1,bar=2").Get("foo@bar@baz"), "1");
}

TEST(TraceStateTest, RejectsInvalidKeys) {
  EXPECT_FALSE(Parses("A=1"));          // uppercase
  EXPECT_FALSE(Parses("fOo=1"));        // uppercase inside
  EXPECT_FALSE(Parses("=1"));           // empty key
  EXPECT_FALSE(Parses("a b=1"));        // space in key
  EXPECT_FALSE(Parses("a =1"));         // no whitespace before '='
  EXPECT_FALSE(Parses("a.b=1"));        // '.' not allowed
  EXPECT_FALSE(Parses("@foo=1"));       // must start with lcalpha or a digit
  EXPECT_FALSE(Parses("_t=1"));         // likewise
  EXPECT_FALSE(Parses("*t@s=1"));       // likewise
  EXPECT_FALSE(Parses("t\xc3\xa9=1"));  // non-ASCII
}

TEST(TraceStateTest, KeysUpTo256CharactersWhereverTheAtSignIs) {
  EXPECT_TRUE(Parses(std::string(256, 'z') + "=1"));
  EXPECT_FALSE(Parses(std::string(257, 'z') + "=1"));
  EXPECT_TRUE(Parses("a" + std::string(255, 'b') + "=1"));
  EXPECT_FALSE(Parses("a" + std::string(256, 'b') + "=1"));
  // Level 1 capped the tenant at 241 and the system at 14 characters; Level 2
  // only caps the whole key.
  EXPECT_TRUE(Parses(std::string(241, 't') + "@" + std::string(14, 'v') + "=1"));
  EXPECT_TRUE(Parses(std::string(242, 't') + "@v=1"));
  EXPECT_TRUE(Parses("t@" + std::string(15, 'v') + "=1"));
  EXPECT_TRUE(Parses(std::string(255, 't') + "@=1"));
  EXPECT_FALSE(Parses(std::string(255, 't') + "@v=1"));  // 257 characters
}

TEST(TraceStateTest, RejectsInvalidValues) {
  EXPECT_FALSE(Parses("a="));          // empty value
  EXPECT_FALSE(Parses("a"));           // no '='
  EXPECT_FALSE(Parses("a=b=c"));       // '=' in value
  EXPECT_FALSE(Parses("a=\x7f"));      // DEL
  EXPECT_FALSE(Parses("a=\xc3\xa9"));  // non-ASCII
  EXPECT_FALSE(Parses("a=x\ty"));      // tab inside a value
  EXPECT_FALSE(Parses(std::string("a=x\0y", 5)));
  EXPECT_TRUE(Parses("a=" + std::string(256, 'v')));
  EXPECT_FALSE(Parses("a=" + std::string(257, 'v')));
}

TEST(TraceStateTest, OneInvalidMemberDiscardsTheWholeHeader) {
  TraceState state = MustParse("keep=1");
  EXPECT_FALSE(TraceState::Parse("a=1,B=2,c=3", &state));
  EXPECT_EQ(state.ToHeader(), "keep=1");  // untouched
}

TEST(TraceStateTest, RepeatedKeysKeepTheFirstValue) {
  EXPECT_EQ(MustParse("foo=1,foo=1").ToHeader(), "foo=1");
  EXPECT_EQ(MustParse("foo=1,bar=2,foo=3").ToHeader(), "foo=1,bar=2");
  EXPECT_EQ(MustParse("a=1,b=2,a=3,b=4,c=5").ToHeader(), "a=1,b=2,c=5");
}

TEST(TraceStateTest, RepeatedKeysStillCountTowardsTheLimit) {
  // 33 list-members, one of them a repeat: still more than the grammar's 32.
  EXPECT_FALSE(Parses(NumberedHeader(32) + ",k0=again"));
  EXPECT_EQ(MustParse(NumberedHeader(31) + ",k0=again").size(), 31u);
}

TEST(TraceStateTest, ThirtyTwoMembersParseThirtyThreeDoNot) {
  EXPECT_EQ(MustParse(NumberedHeader(32)).size(), 32u);
  EXPECT_FALSE(Parses(NumberedHeader(33)));
}

TEST(TraceStateTest, EmptyMembersDoNotCountTowardsTheLimit) {
  EXPECT_EQ(MustParse(NumberedHeader(32, ",,, ")).size(), 32u);
}

TEST(TraceStateTest, ParserJoinsSeveralValuesInOrder) {
  TraceStateParser parser;
  EXPECT_TRUE(parser.Add("a=1,b=2"));
  EXPECT_TRUE(parser.Add(""));
  EXPECT_TRUE(parser.Add("c=3"));
  TraceState state;
  ASSERT_TRUE(std::move(parser).Finish(&state));
  EXPECT_EQ(state.ToHeader(), "a=1,b=2,c=3");
}

TEST(TraceStateTest, ParserCountsMembersAndDuplicatesAcrossValues) {
  {
    TraceStateParser parser;
    parser.Add(NumberedHeader(16));
    parser.Add("x0=1,x1=1,x2=1,x3=1,x4=1,x5=1,x6=1,x7=1,x8=1,x9=1,y0=1,y1=1,y2=1,y3=1,y4=1,y5=1");
    TraceState state;
    EXPECT_TRUE(std::move(parser).Finish(&state));
    EXPECT_EQ(state.size(), 32u);
  }
  {
    TraceStateParser parser;
    parser.Add(NumberedHeader(32));
    EXPECT_FALSE(parser.Add("one=more"));
    TraceState state = MustParse("keep=1");
    EXPECT_FALSE(std::move(parser).Finish(&state));
    EXPECT_EQ(state.ToHeader(), "keep=1");
  }
  {
    TraceStateParser parser;
    parser.Add("a=1");
    EXPECT_TRUE(parser.Add("a=2"));  // a repeat across values is dropped
    EXPECT_TRUE(parser.Add("b=2"));
    TraceState state;
    ASSERT_TRUE(std::move(parser).Finish(&state));
    EXPECT_EQ(state.ToHeader(), "a=1,b=2");
  }
  {
    TraceStateParser parser;
    parser.Add("a=1");
    EXPECT_FALSE(parser.Add("B=2"));
    EXPECT_FALSE(parser.Add("c=3"));  // stays invalid
    TraceState state;
    EXPECT_FALSE(std::move(parser).Finish(&state));
  }
}

// The `tracestate` inputs the W3C test suite sends (test/test.py, strict
// level 2), as separate header values, with the trace state a service must
// then propagate: `nullopt` where the suite expects the header discarded.
struct SuiteCase {
  std::vector<std::string> values;
  absl::optional<std::string> propagated;
};

std::string Numbered(int from, int to) {
  std::string header;
  for (int i = from; i <= to; ++i) {
    char member[16];
    std::snprintf(member, sizeof(member), "%sbar%02d=%02d", i == from ? "" : ",", i, i);
    header += member;
  }
  return header;
}

TEST(TraceStateTest, W3cTestSuiteCases) {
  const std::string z256(256, 'z');
  const std::string all_key_chars = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
  const std::string vendor_key = all_key_chars + "@a-z0-9_-*/";
  std::string all_value_chars;
  for (int c = 0x20; c <= 0x7E; ++c) {
    if (c != ',' && c != '=') all_value_chars += static_cast<char>(c);
  }
  const std::vector<SuiteCase> cases = {
      {{"foo=1,bar=2"}, "foo=1,bar=2"},
      {{""}, ""},
      {{"foo=1", ""}, "foo=1"},
      {{"", "foo=1"}, "foo=1"},
      {{"foo=1,bar=2", "rojo=1,congo=2", "baz=3"}, "foo=1,bar=2,rojo=1,congo=2,baz=3"},
      // Duplicated keys: either kept or discarded; tracebridge keeps the first.
      {{"foo=1,foo=1"}, "foo=1"},
      {{"foo=1,foo=2"}, "foo=1"},
      {{"foo=1", "foo=1"}, "foo=1"},
      {{"foo=1", "foo=2"}, "foo=1"},
      {{all_key_chars + "=" + all_value_chars}, all_key_chars + "=" + all_value_chars},
      {{vendor_key + "=" + all_value_chars}, vendor_key + "=" + all_value_chars},
      {{"foo=1 \t , \t bar=2, \t baz=3"}, "foo=1,bar=2,baz=3"},
      {{"foo=1\t \t,\t \tbar=2,\t \tbaz=3"}, "foo=1,bar=2,baz=3"},
      {{" foo=1"}, "foo=1"},
      {{"\tfoo=1"}, "foo=1"},
      {{"foo=1 "}, "foo=1"},
      {{"foo=1\t"}, "foo=1"},
      {{"\t foo=1 \t"}, "foo=1"},
      {{"foo =1"}, absl::nullopt},
      {{"FOO=1"}, absl::nullopt},
      {{"foo.bar=1"}, absl::nullopt},
      {{"foo@=1,bar=2"}, "foo@=1,bar=2"},
      {{"@foo=1,bar=2"}, absl::nullopt},
      {{"foo@@bar=1,bar=2"}, "foo@@bar=1,bar=2"},
      {{"foo@bar@baz=1,bar=2"}, "foo@bar@baz=1,bar=2"},
      {{Numbered(1, 10), Numbered(11, 20), Numbered(21, 30), Numbered(31, 32)}, Numbered(1, 32)},
      {{Numbered(1, 10), Numbered(11, 20), Numbered(21, 30), Numbered(31, 33)}, absl::nullopt},
      {{"foo=1", z256 + "=1"}, "foo=1," + z256 + "=1"},
      {{"foo=1", z256 + "z=1"}, absl::nullopt},
      {{"foo=1", std::string(241, 't') + "@" + std::string(14, 'v') + "=1"},
       "foo=1," + std::string(241, 't') + "@" + std::string(14, 'v') + "=1"},
      {{"foo=1", std::string(242, 't') + "@v=1"}, "foo=1," + std::string(242, 't') + "@v=1"},
      {{"foo=1", "t@" + std::string(15, 'v') + "=1"}, "foo=1,t@" + std::string(15, 'v') + "=1"},
      {{"foo=bar=baz"}, absl::nullopt},
      {{"foo=,bar=3"}, absl::nullopt},
  };
  for (const SuiteCase& c : cases) {
    TraceStateParser parser;
    for (const std::string& value : c.values) parser.Add(value);
    TraceState state = MustParse("sentinel=1");
    const bool accepted = std::move(parser).Finish(&state);
    EXPECT_EQ(accepted, c.propagated.has_value()) << c.values.front();
    if (accepted) {
      EXPECT_EQ(state.ToHeader(), *c.propagated) << c.values.front();
    } else {
      EXPECT_EQ(state.ToHeader(), "sentinel=1") << c.values.front();
    }
  }
}

TEST(TraceStateTest, SetMovesToFront) {
  TraceState state = MustParse("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  TraceState updated = state.Set("rojo", "00f067aa0ba902b8");
  EXPECT_EQ(updated.ToHeader(), "rojo=00f067aa0ba902b8,congo=t61rcWkgMzE");
  EXPECT_EQ(updated.Set("new", "x").ToHeader(), "new=x,rojo=00f067aa0ba902b8,congo=t61rcWkgMzE");
  // The original is unchanged: values are immutable.
  EXPECT_EQ(state.ToHeader(), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
}

TEST(TraceStateTest, SetRejectsInvalidKeyOrValue) {
  TraceState state = MustParse("a=1");
  EXPECT_EQ(state.Set("B", "1"), state);
  EXPECT_EQ(state.Set("b", ""), state);
  EXPECT_EQ(state.Set("b", "x,y"), state);
  EXPECT_EQ(state.Set("b", "x "), state);
}

TEST(TraceStateTest, SetAtThirtyTwoDropsTheLastMember) {
  TraceState state = MustParse(NumberedHeader(32));
  TraceState updated = state.Set("new", "x");
  ASSERT_EQ(updated.size(), 32u);
  EXPECT_EQ(Members(updated).front().key, "new");
  EXPECT_EQ(Members(updated).back().key, "k30");
  EXPECT_FALSE(updated.Get("k31").has_value());
  // Updating an existing key at 32 keeps every member.
  TraceState moved = state.Set("k31", "y");
  ASSERT_EQ(moved.size(), 32u);
  EXPECT_EQ(Members(moved).front().key, "k31");
  EXPECT_EQ(Members(moved).back().key, "k30");
}

TEST(TraceStateTest, Delete) {
  TraceState state = MustParse("a=1,b=2,c=3");
  EXPECT_EQ(state.Delete("b").ToHeader(), "a=1,c=3");
  EXPECT_EQ(state.Delete("missing"), state);
  EXPECT_TRUE(MustParse("a=1").Delete("a").empty());
}

// A member `key=value` of exactly `size` characters.
std::string MemberOfSize(const std::string& key, size_t size) {
  return key + "=" + std::string(size - key.size() - 1, 'v');
}

TEST(TraceStateTest, HeaderOfExactly512IsKept) {
  // 4 members of 127 characters plus 3 commas = 511; one of 128 makes 512.
  std::string header = MemberOfSize("a", 127) + "," + MemberOfSize("b", 127) + "," +
                       MemberOfSize("c", 127) + "," + MemberOfSize("d", 128);
  ASSERT_EQ(header.size(), 512u);
  EXPECT_EQ(MustParse(header).ToHeader(), header);
}

TEST(TraceStateTest, At513LongMembersAreDroppedFirst) {
  // 513 characters; "big" (129 > 128) is dropped although it is not last.
  const std::string big = MemberOfSize("big", 129);
  std::string header = MemberOfSize("a", 127) + "," + big + "," + MemberOfSize("c", 127) + "," +
                       MemberOfSize("d", 127);
  ASSERT_EQ(header.size(), 513u);
  std::string expected =
      MemberOfSize("a", 127) + "," + MemberOfSize("c", 127) + "," + MemberOfSize("d", 127);
  EXPECT_EQ(MustParse(header).ToHeader(), expected);
}

TEST(TraceStateTest, OnlyAsManyLongMembersAsNeededAreDroppedFromTheEnd) {
  // Two long members; dropping the later one is enough.
  std::string header = MemberOfSize("a", 200) + "," + MemberOfSize("b", 200) + "," +
                       MemberOfSize("c", 100) + "," + MemberOfSize("d", 20);
  ASSERT_GT(header.size(), 512u);
  EXPECT_EQ(MustParse(header).ToHeader(),
            MemberOfSize("a", 200) + "," + MemberOfSize("c", 100) + "," + MemberOfSize("d", 20));
}

TEST(TraceStateTest, WithoutLongMembersTheEndIsDropped) {
  // 5 members of 120 characters: 604 with commas; keep the first 4 (483).
  std::string header;
  for (char key = 'a'; key <= 'e'; ++key) {
    if (!header.empty()) header += ",";
    header += MemberOfSize(std::string(1, key), 120);
  }
  std::string shortened = MustParse(header).ToHeader();
  EXPECT_EQ(shortened, header.substr(0, 4 * 121 - 1));
}

TEST(TraceStateTest, LongMembersThenEndUntilItFits) {
  // 32 members of 100 characters: no long member, so drop from the end.
  std::string header;
  for (int i = 0; i < 32; ++i) {
    if (i != 0) header += ",";
    header += MemberOfSize("k" + std::to_string(i + 10), 100);
  }
  std::string shortened = MustParse(header).ToHeader();
  EXPECT_LE(shortened.size(), 512u);
  EXPECT_EQ(shortened, header.substr(0, 5 * 101 - 1));
  // A single 513-character member cannot be sent at all.
  TraceState huge = MustParse("a" + std::string(255, 'b') + "=" + std::string(256, 'v'));
  EXPECT_EQ(huge.ToHeader(), "");
}

TEST(TraceStateTest, WriteHeaderMatchesToHeader) {
  TraceState state = MustParse("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  char buffer[TraceState::kMaxHeaderSize];
  EXPECT_EQ(state.WriteHeader(buffer), state.ToHeader());
  EXPECT_EQ(TraceState().WriteHeader(buffer), "");
}

// Random valid keys and values from the whole grammar.
class RandomTraceState {
 public:
  explicit RandomTraceState(uint32_t seed) : rng_(seed) {}

  std::string Key() {
    static constexpr char kFirst[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    static constexpr char kRest[] = "abcdefghijklmnopqrstuvwxyz0123456789_-*/@";
    std::string key(1, kFirst[Pick(sizeof(kFirst) - 1)]);
    // Mostly short keys, sometimes up to the 256-character maximum.
    const size_t rest = Pick(8) == 0 ? Pick(256) : Pick(12);
    for (size_t n = rest; n > 0; --n) key += kRest[Pick(sizeof(kRest) - 1)];
    return key;
  }

  std::string Value() {
    std::string value;
    for (size_t n = Pick(20); n > 0; --n) value += Char(/*allow_space=*/true);
    value += Char(/*allow_space=*/false);
    return value;
  }

  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

 private:
  char Char(bool allow_space) {
    for (;;) {
      const char c = static_cast<char>(0x20 + Pick(0x5F));
      if (c == ',' || c == '=' || (c == ' ' && !allow_space)) continue;
      return c;
    }
  }

  std::mt19937 rng_;
};

TEST(TraceStateTest, RoundTripOverRandomStates) {
  RandomTraceState random(12345);
  for (int round = 0; round < 2000; ++round) {
    TraceState state;
    const size_t members = random.Pick(33);
    for (size_t i = 0; i < members; ++i) state = state.Set(random.Key(), random.Value());
    ASSERT_LE(state.size(), TraceState::kMaxMembers);
    const std::string header = state.ToHeader();
    ASSERT_LE(header.size(), TraceState::kMaxHeaderSize);
    TraceState parsed;
    ASSERT_TRUE(TraceState::Parse(header, &parsed)) << header;
    // Short enough states survive whole; longer ones lose whole members,
    // and what is left parses back to the same header.
    if (state.size() == parsed.size()) {
      EXPECT_EQ(parsed, state);
    }
    EXPECT_EQ(parsed.ToHeader(), header);
    for (const TraceState::Member& member : parsed.members()) {
      EXPECT_EQ(state.Get(member.key), absl::optional<absl::string_view>(member.value));
    }
  }
}

}  // namespace
}  // namespace tracebridge
