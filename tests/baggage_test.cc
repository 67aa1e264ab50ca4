// Tests for core/trace/baggage.h and the W3C Baggage header functions in
// core/propagation/w3c_propagators.h: grammar, percent-encoding, UTF-8 repair, bounds.

#include "tracebridge/core/trace/baggage.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tracebridge/core/propagation/w3c_propagators.h"

namespace tracebridge {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

Baggage MustParse(absl::string_view header) {
  Baggage baggage;
  EXPECT_TRUE(ParseBaggageHeader(header, &baggage)) << header;
  return baggage;
}

std::string DecodedValue(absl::string_view header, absl::string_view key) {
  const Baggage baggage = MustParse(header);  // Get's view points into it
  absl::optional<absl::string_view> value = baggage.Get(key);
  EXPECT_TRUE(value.has_value()) << header;
  return value ? std::string(*value) : std::string();
}

// A header of `members` members ("k0=vvv", "k1=vvv", ...) exactly `bytes`
// bytes long, commas included; the last member takes up the slack.
std::string HeaderOfSize(size_t members, size_t bytes) {
  const size_t per_member = (bytes - (members - 1)) / members;
  std::string header;
  for (size_t i = 0; i < members; ++i) {
    if (i != 0) header += ",";
    const std::string key = "k" + std::to_string(i);
    size_t size = per_member;
    if (i + 1 == members) size = bytes - header.size();
    header += key + "=" + std::string(size - key.size() - 1, 'v');
  }
  EXPECT_EQ(header.size(), bytes);
  return header;
}

// --- Baggage itself ---------------------------------------------------------

TEST(BaggageTest, SetGetRemove) {
  Baggage baggage = Baggage().Set("tenant", "acme").Set("user", "alice", "ttl=30");
  EXPECT_EQ(*baggage.Get("tenant"), "acme");
  EXPECT_EQ(baggage.entries()[1].properties, "ttl=30");
  EXPECT_FALSE(baggage.Get("missing").has_value());
  Baggage replaced = baggage.Set("tenant", "globex");
  ASSERT_EQ(replaced.size(), 2u);
  EXPECT_EQ(replaced.entries()[0].key, "tenant");  // replaced in place
  EXPECT_EQ(*replaced.Get("tenant"), "globex");
  EXPECT_EQ(*baggage.Get("tenant"), "acme");  // immutable
  EXPECT_EQ(baggage.Remove("tenant").size(), 1u);
  EXPECT_TRUE(baggage.Remove("tenant").Remove("user").empty());
  EXPECT_EQ(baggage.Remove("missing"), baggage);
}

TEST(BaggageTest, KeysAreTokens) {
  EXPECT_TRUE(Baggage::IsValidKey("abc-XYZ_09!#$%&'*+.^`|~"));
  EXPECT_FALSE(Baggage::IsValidKey(""));
  EXPECT_FALSE(Baggage::IsValidKey("a b"));
  EXPECT_FALSE(Baggage::IsValidKey("a=b"));
  EXPECT_FALSE(Baggage::IsValidKey("a,b"));
  EXPECT_FALSE(Baggage::IsValidKey("a;b"));
  EXPECT_FALSE(Baggage::IsValidKey("\"a\""));
  EXPECT_FALSE(Baggage::IsValidKey("a\xc3\xa9"));
  bool accepted = true;
  Baggage baggage = Baggage().Set("a b", "x", {}, &accepted);
  EXPECT_FALSE(accepted);
  EXPECT_TRUE(baggage.empty());
}

TEST(BaggageTest, PropertiesAreValidatedAndTrimmed) {
  EXPECT_TRUE(Baggage::IsValidProperties(""));
  EXPECT_TRUE(Baggage::IsValidProperties("ttl=30;secret"));
  EXPECT_TRUE(Baggage::IsValidProperties("a ; b = 1"));
  EXPECT_FALSE(Baggage::IsValidProperties("a;"));
  EXPECT_FALSE(Baggage::IsValidProperties("a;;b"));
  EXPECT_FALSE(Baggage::IsValidProperties("a=x y"));
  EXPECT_FALSE(Baggage::IsValidProperties("a,b"));
  EXPECT_FALSE(Baggage::IsValidProperties("=1"));
  bool accepted = false;
  Baggage baggage = Baggage().Set("k", "v", " ttl=30 ", &accepted);
  EXPECT_TRUE(accepted);
  EXPECT_EQ(baggage.entries()[0].properties, "ttl=30");
  baggage.Set("k2", "v", "a,b", &accepted);
  EXPECT_FALSE(accepted);
}

TEST(BaggageTest, EncodedSize) {
  EXPECT_EQ(Baggage::EncodedSize({"k", "v", ""}), 3u);
  EXPECT_EQ(Baggage::EncodedSize({"k", "a b", ""}), 7u);  // k=a%20b
  EXPECT_EQ(Baggage::EncodedSize({"k", "v", "p"}), 5u);   // k=v;p
  EXPECT_EQ(Baggage::EncodedSize({"k", "", ""}), 2u);
  EXPECT_EQ(Baggage::EncodedValueSize("%"), 3u);
}

TEST(BaggageTest, SetEnforcesSixtyFourMembers) {
  Baggage baggage;
  for (int i = 0; i < 64; ++i) baggage = baggage.Set("k" + std::to_string(i), "v");
  ASSERT_EQ(baggage.size(), 64u);
  bool accepted = true;
  EXPECT_EQ(baggage.Set("one-more", "v", {}, &accepted), baggage);
  EXPECT_FALSE(accepted);
  // Replacing an existing member is still allowed.
  EXPECT_EQ(*baggage.Set("k3", "w", {}, &accepted).Get("k3"), "w");
  EXPECT_TRUE(accepted);
}

TEST(BaggageTest, SetEnforcesTheByteBoundWithoutTruncating) {
  bool accepted = false;
  // "k=" + 8190 bytes = 8192: fits exactly.
  Baggage full = Baggage().Set("k", std::string(8190, 'v'), {}, &accepted);
  EXPECT_TRUE(accepted);
  EXPECT_EQ(FormatBaggageHeader(full).size(), 8192u);
  // 8193 does not fit and is dropped whole.
  EXPECT_TRUE(Baggage().Set("k", std::string(8191, 'v'), {}, &accepted).empty());
  EXPECT_FALSE(accepted);
  // The comma counts: a second member "a=" (2 bytes + comma) overflows.
  EXPECT_EQ(full.Set("a", "", {}, &accepted), full);
  EXPECT_FALSE(accepted);
  // Encoded size counts: 2730 spaces encode to 8190 bytes (fits), 2731 do not.
  EXPECT_FALSE(Baggage().Set("k", std::string(2730, ' ')).empty());
  EXPECT_TRUE(Baggage().Set("k", std::string(2731, ' ')).empty());
  // Growing a replaced member past the bound keeps the old value.
  Baggage two = Baggage().Set("a", std::string(4000, 'v')).Set("b", std::string(4000, 'v'));
  EXPECT_EQ(two.Set("a", std::string(4200, 'v'), {}, &accepted), two);
  EXPECT_FALSE(accepted);
}

TEST(BaggageTest, BuilderReplacesAndTracksBytes) {
  BaggageBuilder builder;
  EXPECT_TRUE(builder.Add("a", "1", ""));
  EXPECT_TRUE(builder.Add("b", "2", "p"));
  EXPECT_EQ(builder.bytes(), std::string("a=1,b=2;p").size());
  EXPECT_TRUE(builder.Add("a", "333", ""));
  EXPECT_EQ(builder.bytes(), std::string("a=333,b=2;p").size());
  EXPECT_TRUE(builder.Contains("b"));
  EXPECT_FALSE(builder.Add("bad key", "v", ""));
  Baggage baggage = std::move(builder).Build();
  EXPECT_EQ(FormatBaggageHeader(baggage), "a=333,b=2;p");
}

// --- Header parsing (W3C Baggage examples) -----------------------------------

TEST(BaggageHeaderTest, SpecExamples) {
  Baggage simple = MustParse("key1=value1,key2=value2");
  ASSERT_EQ(simple.size(), 2u);
  EXPECT_EQ(*simple.Get("key1"), "value1");
  EXPECT_EQ(*simple.Get("key2"), "value2");

  EXPECT_EQ(MustParse("key1 = value1, key2 = value2"), simple);

  Baggage with_properties = MustParse(
      "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue");
  ASSERT_EQ(with_properties.size(), 3u);
  EXPECT_EQ(with_properties.entries()[0].properties, "property1;property2");
  EXPECT_EQ(with_properties.entries()[1].properties, "");
  EXPECT_EQ(with_properties.entries()[2].properties, "propertyKey=propertyValue");

  Baggage encoded = MustParse("userId=alice,serverNode=DF%2028,isProduction=false");
  EXPECT_EQ(*encoded.Get("serverNode"), "DF 28");
  EXPECT_EQ(*encoded.Get("isProduction"), "false");
  EXPECT_EQ(DecodedValue("userId=Am%C3%A9lie", "userId"), "Am\xC3\xA9lie");
  EXPECT_EQ(DecodedValue("k=%25", "k"), "%");
}

TEST(BaggageHeaderTest, PropertiesKeptVerbatimButTrimmed) {
  Baggage baggage = MustParse("k=v ; a = 1 ;b \t,x=y");
  EXPECT_EQ(baggage.entries()[0].properties, "a = 1 ;b");
  EXPECT_EQ(FormatBaggageHeader(baggage), "k=v;a = 1 ;b,x=y");
}

TEST(BaggageHeaderTest, EmptyValueIsAllowed) {
  EXPECT_EQ(DecodedValue("k=", "k"), "");
  EXPECT_EQ(DecodedValue("k=;p", "k"), "");
}

TEST(BaggageHeaderTest, ValueMayContainEquals) { EXPECT_EQ(DecodedValue("k=a=b", "k"), "a=b"); }

TEST(BaggageHeaderTest, MalformedMembersAreSkippedTheRestKept) {
  const std::vector<std::string> malformed = {
      "novalue",   "=v",   "k=v;",   "k=a b",      "k=\"v\"", "k=v;;p", "bad key=v",
      "k=v;p=a b", "k=\\", "k=\x7f", "k=\xc3\xa9", "k=v;=x",  "",
  };
  for (const std::string& member : malformed) {
    Baggage baggage = MustParse("first=1," + member + ",last=2");
    EXPECT_EQ(baggage.size(), 2u) << member;
    EXPECT_EQ(*baggage.Get("last"), "2") << member;
  }
}

TEST(BaggageHeaderTest, EntirelyMalformedHeaderChangesNothing) {
  Baggage baggage = Baggage().Set("keep", "1");
  EXPECT_FALSE(ParseBaggageHeader("garbage", &baggage));
  EXPECT_FALSE(ParseBaggageHeader(",,, ,", &baggage));
  EXPECT_FALSE(ParseBaggageHeader("", &baggage));
  EXPECT_FALSE(ParseBaggageHeader("a b=1,=2;", &baggage));
  EXPECT_EQ(FormatBaggageHeader(baggage), "keep=1");
}

TEST(BaggageHeaderTest, RepeatedKeyLastValueWinsInPlace) {
  Baggage baggage = MustParse("a=1,b=2,a=3");
  ASSERT_EQ(baggage.size(), 2u);
  EXPECT_EQ(baggage.entries()[0].key, "a");
  EXPECT_EQ(*baggage.Get("a"), "3");
}

TEST(BaggageHeaderTest, PercentDecodingAcceptsBothCasesAndKeepsStrayPercent) {
  EXPECT_EQ(DecodedValue("k=%2c%2C", "k"), ",,");
  EXPECT_EQ(DecodedValue("k=%", "k"), "%");
  EXPECT_EQ(DecodedValue("k=%4", "k"), "%4");
  EXPECT_EQ(DecodedValue("k=%zz", "k"), "%zz");
  EXPECT_EQ(DecodedValue("k=100%25", "k"), "100%");
}

TEST(BaggageHeaderTest, InvalidUtf8BecomesReplacementCharacter) {
  const std::string r = kReplacement;
  EXPECT_EQ(DecodedValue("k=%FF", "k"), r);
  EXPECT_EQ(DecodedValue("k=a%80b", "k"), "a" + r + "b");         // lone continuation
  EXPECT_EQ(DecodedValue("k=%C3", "k"), r);                       // truncated at the end
  EXPECT_EQ(DecodedValue("k=%E2%82", "k"), r);                    // one maximal subpart
  EXPECT_EQ(DecodedValue("k=%E2%82A", "k"), r + "A");             // broken, then ASCII
  EXPECT_EQ(DecodedValue("k=%C0%AF", "k"), r + r);                // overlong
  EXPECT_EQ(DecodedValue("k=%ED%A0%80", "k"), r + r + r);         // surrogate
  EXPECT_EQ(DecodedValue("k=%F4%90%80%80", "k"), r + r + r + r);  // above U+10FFFF
  EXPECT_EQ(DecodedValue("k=%F0%9F%98%80", "k"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(DecodedValue("k=%F0%9F%98", "k"), r);
  EXPECT_EQ(DecodedValue("k=%E2%82%AC", "k"), "\xE2\x82\xAC");
}

TEST(BaggageHeaderTest, EncodingLeavesOnlyBaggageOctets) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string encoded;
  Baggage::AppendEncodedValue(all, &encoded);
  EXPECT_EQ(encoded.size(), Baggage::EncodedValueSize(all));
  for (char c : encoded) EXPECT_TRUE(Baggage::IsBaggageOctet(c)) << static_cast<int>(c);
  std::string encoded_specials;
  Baggage::AppendEncodedValue(" \",;\\%=", &encoded_specials);
  EXPECT_EQ(encoded_specials, "%20%22%2C%3B%5C%25=");
}

TEST(BaggageHeaderTest, PercentRoundTripForEveryByte) {
  for (int b = 0; b < 256; ++b) {
    const std::string value(1, static_cast<char>(b));
    Baggage baggage = Baggage().Set("k", value);
    Baggage parsed = MustParse(FormatBaggageHeader(baggage));
    // Bytes 0x80-0xFF alone are not UTF-8: the receiver repairs them.
    EXPECT_EQ(*parsed.Get("k"), b < 0x80 ? value : std::string(kReplacement)) << b;
    // Decoding alone restores the byte when the result is valid UTF-8.
    std::string encoded, decoded;
    Baggage::AppendEncodedValue(value + "\xC3\xA9", &encoded);
    ASSERT_TRUE(DecodeBaggageValue(encoded, 100, &decoded));
    EXPECT_EQ(decoded, (b < 0x80 ? value : std::string(kReplacement)) + "\xC3\xA9");
  }
  // Every two-byte sequence lead/continuation round-trips exactly.
  for (int lead = 0xC2; lead <= 0xDF; ++lead) {
    for (int tail = 0x80; tail <= 0xBF; ++tail) {
      const std::string value = {static_cast<char>(lead), static_cast<char>(tail)};
      EXPECT_EQ(*MustParse(FormatBaggageHeader(Baggage().Set("k", value))).Get("k"), value);
    }
  }
}

TEST(BaggageHeaderTest, DecodeStopsAtTheBound) {
  std::string out;
  EXPECT_TRUE(DecodeBaggageValue("abc", 3, &out));
  EXPECT_FALSE(DecodeBaggageValue("abcd", 3, &out));
  EXPECT_TRUE(DecodeBaggageValue("%41%42%43", 3, &out));
  EXPECT_EQ(out, "ABC");
  EXPECT_FALSE(DecodeBaggageValue("%FF", 2, &out));  // U+FFFD needs 3 bytes
}

// --- Bounds on extract --------------------------------------------------------

TEST(BaggageHeaderTest, SixtyFourMembersKeptSixtyFifthDropped) {
  std::string header;
  for (int i = 0; i < 65; ++i) header += (i ? "," : "") + ("k" + std::to_string(i)) + "=v";
  Baggage baggage = MustParse(header);
  EXPECT_EQ(baggage.size(), 64u);
  EXPECT_TRUE(baggage.Get("k63").has_value());
  EXPECT_FALSE(baggage.Get("k64").has_value());
  // A repeated key after the 64th still replaces its value.
  EXPECT_EQ(*MustParse(header + ",k0=new").Get("k0"), "new");
}

TEST(BaggageHeaderTest, SixtyFourMembersAndExactly8192BytesAreKeptIntact) {
  const std::string header = HeaderOfSize(64, 8192);
  Baggage baggage = MustParse(header);
  EXPECT_EQ(baggage.size(), 64u);
  EXPECT_EQ(FormatBaggageHeader(baggage), header);
}

TEST(BaggageHeaderTest, At8193BytesTheLastMemberIsDroppedWhole) {
  const std::string header = HeaderOfSize(4, 8193);
  Baggage baggage = MustParse(header);
  ASSERT_EQ(baggage.size(), 3u);
  EXPECT_FALSE(baggage.Get("k3").has_value());
  // What is kept is kept whole.
  EXPECT_EQ(FormatBaggageHeader(baggage), header.substr(0, header.rfind(',')));
}

TEST(BaggageHeaderTest, ALaterSmallMemberStillFitsAfterAnOversizedOne) {
  const std::string header =
      "a=" + std::string(4000, 'v') + ",big=" + std::string(5000, 'v') + ",small=1";
  Baggage baggage = MustParse(header);
  ASSERT_EQ(baggage.size(), 2u);
  EXPECT_TRUE(baggage.Get("a").has_value());
  EXPECT_EQ(*baggage.Get("small"), "1");
}

TEST(BaggageHeaderTest, MalformedMembersDoNotUseTheBudget) {
  // 100 KB of malformed members, then one good member.
  std::string header;
  for (int i = 0; i < 10000; ++i) header += "bad key=" + std::to_string(i) + ",";
  header += "good=1";
  Baggage baggage = MustParse(header);
  ASSERT_EQ(baggage.size(), 1u);
  EXPECT_EQ(*baggage.Get("good"), "1");
}

TEST(BaggageHeaderTest, HugeMemberIsDroppedWhole) {
  Baggage baggage = MustParse("k=" + std::string(1 << 20, 'v') + ",next=1");
  EXPECT_EQ(baggage.size(), 1u);
  EXPECT_EQ(*baggage.Get("next"), "1");
  // A huge encoded value that decodes small still fits.
  std::string encoded;
  for (int i = 0; i < 3000; ++i) encoded += "%41";
  EXPECT_EQ(MustParse("k=" + encoded).Get("k")->size(), 3000u);
}

TEST(BaggageHeaderTest, FormatNeverExceedsTheBounds) {
  // A Baggage built through Set always fits; Format re-checks anyway.
  Baggage baggage;
  for (int i = 0; i < 100; ++i)
    baggage = baggage.Set("k" + std::to_string(i), std::string(200, 'x'));
  const std::string header = FormatBaggageHeader(baggage);
  EXPECT_LE(header.size(), Baggage::kMaxBytes);
  EXPECT_EQ(MustParse(header), baggage);
}

// --- Round trip over random baggage ------------------------------------------

TEST(BaggageHeaderTest, RoundTripOverRandomBaggage) {
  std::mt19937 rng(4242);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  static constexpr char kTokenChars[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";
  auto token = [&] {
    std::string text;
    for (int n = 1 + pick(10); n > 0; --n) text += kTokenChars[pick(sizeof(kTokenChars) - 1)];
    return text;
  };
  for (int round = 0; round < 2000; ++round) {
    Baggage baggage;
    for (int n = pick(20); n > 0; --n) {
      std::string value;
      // ASCII of every kind plus valid multi-byte UTF-8.
      for (int length = pick(30); length > 0; --length) {
        switch (pick(4)) {
          case 0:
            value += "\xC3\xA9";
            break;
          case 1:
            value += "\xF0\x9F\x98\x80";
            break;
          default:
            value += static_cast<char>(pick(128));
        }
      }
      std::string properties;
      if (pick(3) == 0) properties = token() + (pick(2) ? "=" + token() : "");
      baggage = baggage.Set(token(), value, properties);
    }
    if (baggage.empty()) continue;
    Baggage parsed;
    ASSERT_TRUE(ParseBaggageHeader(FormatBaggageHeader(baggage), &parsed));
    ASSERT_EQ(parsed, baggage) << FormatBaggageHeader(baggage);
  }
}

}  // namespace
}  // namespace tracebridge
