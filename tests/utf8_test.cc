// Tests for core/util/utf8.h: validation agrees with protobuf's own validator
// (what decides whether a `string` field parses), repair follows the maximal
// subpart rule, and length bounds never split a character or a U+FFFD.

#include "tracebridge/core/util/utf8.h"

#include <google/protobuf/stubs/common.h>

#include <cstdint>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace tracebridge {
namespace {

const std::string kR(kUtf8Replacement);

bool ProtobufAccepts(absl::string_view text) {
  return google::protobuf::internal::IsStructurallyValidUTF8(text.data(),
                                                             static_cast<int>(text.size()));
}

TEST(Utf8Test, AgreesWithProtobufOnEveryOneAndTwoByteInput) {
  for (int a = 0; a < 256; ++a) {
    const std::string one(1, static_cast<char>(a));
    ASSERT_EQ(IsValidUtf8(one), ProtobufAccepts(one)) << a;
    for (int b = 0; b < 256; ++b) {
      const std::string two = one + static_cast<char>(b);
      ASSERT_EQ(IsValidUtf8(two), ProtobufAccepts(two)) << a << " " << b;
    }
  }
}

TEST(Utf8Test, AgreesWithProtobufOnRandomInputsAcrossWordBoundaries) {
  std::mt19937 rng(20240601);
  // Mostly ASCII with a few high bytes, so the eight-byte fast path and the
  // slow path meet at every offset.
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 40);
  std::uniform_int_distribution<int> percent(0, 99);
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const int size = length(rng);
    for (int i = 0; i < size; ++i) {
      text.push_back(static_cast<char>(percent(rng) < 90 ? byte(rng) & 0x7F : byte(rng)));
    }
    ASSERT_EQ(IsValidUtf8(text), ProtobufAccepts(text)) << round;
    const size_t prefix = ValidUtf8Prefix(text);
    ASSERT_TRUE(ProtobufAccepts(absl::string_view(text).substr(0, prefix)));
    std::string repaired;
    AssignValidUtf8(text, std::string::npos, &repaired);
    ASSERT_TRUE(ProtobufAccepts(repaired)) << round;
    ASSERT_EQ(repaired == text, IsValidUtf8(text));
  }
}

TEST(Utf8Test, ValidPrefixStopsAtTheFirstIllFormedByte) {
  EXPECT_EQ(ValidUtf8Prefix(""), 0u);
  EXPECT_EQ(ValidUtf8Prefix("abcdefgh\xffxyz"), 8u);
  EXPECT_EQ(ValidUtf8Prefix("abcdefg\xff"), 7u);
  EXPECT_EQ(ValidUtf8Prefix("abcdefghijklmno\xc3\xa9z"), 18u);
  EXPECT_EQ(ValidUtf8Prefix("abcdefghijklmno\xc3"), 15u);          // truncated at the end
  EXPECT_EQ(ValidUtf8Prefix("\xF0\x9F\x98\x80\xED\xA0\x80"), 4u);  // then a surrogate
}

TEST(Utf8Test, RepairReplacesEachMaximalSubpartOnce) {
  EXPECT_EQ(ValidUtf8Copy("caf\xff\xfe"), "caf" + kR + kR);
  EXPECT_EQ(ValidUtf8Copy("a\xF0\x9F\x98z"), "a" + kR + "z");  // one truncated sequence
  EXPECT_EQ(ValidUtf8Copy("\xED\xA0\x80"), kR + kR + kR);      // surrogate: three subparts
  EXPECT_EQ(ValidUtf8Copy("\xC0\xAF"), kR + kR);               // overlong
  EXPECT_EQ(ValidUtf8Copy("gr\xC3\xBC\xC3\x9F"), "gr\xC3\xBC\xC3\x9F");  // valid passes
  EXPECT_EQ(ValidUtf8Copy(std::string(100, '\xff')).size(), 300u);
}

TEST(Utf8Test, BoundsCutAtCharacterBoundaries) {
  std::string out;
  EXPECT_TRUE(AssignValidUtf8("a\xC3\xA9z", 2, &out));
  EXPECT_EQ(out, "a");  // not half of the e-acute
  EXPECT_TRUE(AssignValidUtf8("abc", 3, &out));
  EXPECT_EQ(out, "abc");
  EXPECT_FALSE(AssignValidUtf8("ab\xff\xff", 5, &out));
  EXPECT_EQ(out, "ab" + kR);  // a second U+FFFD would not fit
  EXPECT_FALSE(AssignValidUtf8("ab\xff", 4, &out));
  EXPECT_EQ(out, "ab");  // nor does a first one here
  EXPECT_FALSE(AssignValidUtf8("abcd\xff", 2, &out));
  EXPECT_EQ(out, "ab");
  EXPECT_FALSE(AssignValidUtf8("\xff\xC3\xA9", 4, &out));
  EXPECT_EQ(out, kR);
  EXPECT_EQ(CutUtf8("\xE2\x82\xAC\xE2\x82\xAC", 5), "\xE2\x82\xAC");
  EXPECT_EQ(CutUtf8("\xE2\x82\xAC", 2), "");
}

TEST(Utf8Test, MakeValidLeavesGoodStringsAlone) {
  std::string good = "an ordinary string, long enough to live on the heap";
  const char* data = good.data();
  MakeValidUtf8(&good, 1000);
  EXPECT_EQ(good.data(), data);
  std::string bad = "bad \xff byte";
  MakeValidUtf8(&bad, 1000);
  EXPECT_EQ(bad, "bad " + kR + " byte");
  std::string long_one(20, 'x');
  MakeValidUtf8(&long_one, 8);
  EXPECT_EQ(long_one, std::string(8, 'x'));
}

}  // namespace
}  // namespace tracebridge
