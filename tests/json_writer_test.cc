// JsonWriter: structure, string escaping, UTF-8 repair and numbers.

#include "tracebridge/core/util/json_writer.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace tracebridge {
namespace {

std::string Quote(absl::string_view text) {
  std::string out;
  AppendJsonString(text, &out);
  return out;
}

// U+FFFD as it appears in the output.
const std::string kR = "\xEF\xBF\xBD";

// A reference UTF-8 validator written independently of DecodeUtf8: decode
// greedily by the lead byte's bit pattern, then reject overlong forms,
// surrogates and values above U+10FFFF by range.
bool IsValidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    int extra;
    uint32_t value;
    uint32_t minimum;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      extra = 1, value = b & 0x1F, minimum = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      extra = 2, value = b & 0x0F, minimum = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      extra = 3, value = b & 0x07, minimum = 0x10000;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;  // truncated
    for (int k = 1; k <= extra; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      value = (value << 6) | (c & 0x3F);
    }
    if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

// Encodes a scalar value (reference encoder for the round-trip test).
std::string Encode(uint32_t c) {
  std::string s;
  if (c < 0x80) {
    s.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (c >> 6)));
    s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    s.push_back(static_cast<char>(0xE0 | (c >> 12)));
    s.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xF0 | (c >> 18)));
    s.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
  return s;
}

// The output is a JSON string token: quoted, no raw control character, DEL,
// U+2028/9 or unescaped quote inside, valid UTF-8.
void ExpectSafeJsonString(const std::string& out) {
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(out.front(), '"');
  EXPECT_EQ(out.back(), '"');
  const absl::string_view body(out.data() + 1, out.size() - 2);
  for (size_t i = 0; i < body.size(); ++i) {
    const auto c = static_cast<unsigned char>(body[i]);
    ASSERT_GE(c, 0x20) << "raw control character in " << out;
    ASSERT_NE(c, 0x7F);
    if (c == '\\') {
      ++i;  // skip the escaped character
      continue;
    }
    ASSERT_NE(c, '"') << "unescaped quote in " << out;
  }
  EXPECT_EQ(body.find("\xE2\x80\xA8"), absl::string_view::npos);
  EXPECT_EQ(body.find("\xE2\x80\xA9"), absl::string_view::npos);
  EXPECT_TRUE(IsValidUtf8(out)) << out;
}

TEST(JsonWriterTest, WritesNestedStructureWithCommas) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject();
  json.Key("a").Int(1);
  json.Key("b").BeginArray().String("x").Bool(true).Bool(false).Null().EndArray();
  json.Key("c").BeginObject().EndObject();
  json.Key("d").BeginArray().BeginObject().Key("e").Uint(2).EndObject().BeginArray().EndArray();
  json.EndArray();
  json.EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":["x",true,false,null],"c":{},"d":[{"e":2},[]]})");
  EXPECT_EQ(json.depth(), 0);
}

TEST(JsonWriterTest, AppendsToExistingContentAndTopLevelValuesStandAlone) {
  std::string out = "prefix ";
  JsonWriter json(&out);
  json.BeginObject().EndObject();
  out.push_back('\n');
  json.BeginObject().Key("k").String("v").EndObject();
  EXPECT_EQ(out, "prefix {}\n{\"k\":\"v\"}");
}

TEST(JsonWriterTest, KeysAreEscapedLikeValues) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Key("a\"b\n").Int(0).EndObject();
  EXPECT_EQ(out, R"({"a\"b\n":0})");
}

TEST(JsonWriterTest, EscapesQuoteBackslashAndShortForms) {
  EXPECT_EQ(Quote(""), R"("")");
  EXPECT_EQ(Quote("plain text / ok"), R"("plain text / ok")");
  EXPECT_EQ(Quote("\""), R"("\"")");
  EXPECT_EQ(Quote("\\"), R"("\\")");
  EXPECT_EQ(Quote("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(Quote("\r\n{\"forged\":1}"), R"("\r\n{\"forged\":1}")");
}

TEST(JsonWriterTest, EscapesEveryControlCharacterAndDel) {
  for (int c = 0; c < 0x20; ++c) {
    std::string expected;
    switch (c) {
      case '\b':
        expected = R"(\b)";
        break;
      case '\f':
        expected = R"(\f)";
        break;
      case '\n':
        expected = R"(\n)";
        break;
      case '\r':
        expected = R"(\r)";
        break;
      case '\t':
        expected = R"(\t)";
        break;
      default:
        expected = absl::StrFormat("\\u%04x", c);
    }
    EXPECT_EQ(Quote(std::string(1, static_cast<char>(c))), "\"" + expected + "\"") << c;
  }
  EXPECT_EQ(Quote(std::string("a\0b", 3)), R"("a\u0000b")");
  EXPECT_EQ(Quote("\x7F"), R"("\u007f")");
}

TEST(JsonWriterTest, EscapesJavaScriptLineSeparators) {
  EXPECT_EQ(Quote("a\xE2\x80\xA8z"), R"("a\u2028z")");
  EXPECT_EQ(Quote("a\xE2\x80\xA9z"), R"("a\u2029z")");
  // Neighbours pass through.
  EXPECT_EQ(Quote("\xE2\x80\xA7\xE2\x80\xAA"), "\"\xE2\x80\xA7\xE2\x80\xAA\"");
}

TEST(JsonWriterTest, PassesWellFormedUtf8Through) {
  const std::string samples[] = {
      "caf\xC3\xA9",       // é
      "\xE2\x82\xAC",      // €
      "\xF0\x9F\x98\x80",  // 😀 (4 bytes)
      "\xEF\xBF\xBD",      // U+FFFD itself
      "\xED\x9F\xBF",      // U+D7FF, just below the surrogates
      "\xEE\x80\x80",      // U+E000, just above
      "\xF4\x8F\xBF\xBF",  // U+10FFFF
      "\xC2\x80",          // U+0080
      "\xE0\xA0\x80",      // U+0800
      "\xF0\x90\x80\x80",  // U+10000
  };
  for (const std::string& sample : samples) {
    EXPECT_EQ(Quote(sample), "\"" + sample + "\"");
  }
}

TEST(JsonWriterTest, EveryScalarValueRoundTrips) {
  for (uint32_t c = 0x80; c <= 0x10FFFF; ++c) {
    if ((c >= 0xD800 && c <= 0xDFFF) || c == 0x2028 || c == 0x2029) continue;
    const std::string text = Encode(c);
    const std::string out = Quote(text);
    ASSERT_EQ(out, "\"" + text + "\"") << std::hex << c;
  }
}

struct InvalidCase {
  const char* description;
  std::string input;
  std::string expected;  // output without the quotes
};

TEST(JsonWriterTest, ReplacesEachMaximalInvalidSubpartWithOneReplacementCharacter) {
  const InvalidCase cases[] = {
      {"stray continuation", "\x80", kR},
      {"two stray continuations", "a\x80\xBFz", "a" + kR + kR + "z"},
      {"C0/C1 leads are always overlong", "\xC0\x80\xC1\xBF", kR + kR + kR + kR},
      {"overlong 3-byte", "\xE0\x80\x80", kR + kR + kR},
      {"overlong 3-byte NUL-ish slash", "\xE0\x80\xAF", kR + kR + kR},
      {"overlong 4-byte", "\xF0\x80\x80\x80", kR + kR + kR + kR},
      {"overlong 4-byte upper edge", "\xF0\x8F\xBF\xBF", kR + kR + kR + kR},
      {"surrogate D800", "\xED\xA0\x80", kR + kR + kR},
      {"surrogate DFFF", "\xED\xBF\xBF", kR + kR + kR},
      {"surrogate pair as CESU-8", "\xED\xA0\xBD\xED\xB8\x80", kR + kR + kR + kR + kR + kR},
      {"above U+10FFFF", "\xF4\x90\x80\x80", kR + kR + kR + kR},
      {"F5 lead", "\xF5\x80\x80\x80", kR + kR + kR + kR},
      {"FE and FF", "\xFE\xFF", kR + kR},
      {"truncated 2-byte at end", "a\xC3", "a" + kR},
      {"truncated 3-byte at end", "a\xE2\x82", "a" + kR},
      {"truncated 4-byte at end", "a\xF0\x9F\x98", "a" + kR},
      {"truncated 3-byte before ASCII", "\xE2\x82z", kR + "z"},
      {"truncated 4-byte before a valid char", "\xF0\x9F\xC3\xA9", kR + "\xC3\xA9"},
      {"lead followed by lead", "\xC3\xC3\xA9", kR + "\xC3\xA9"},
      // The example of Unicode 15 section 3.9 (U+FFFD substitution).
      {"unicode example", "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
       "a" + kR + kR + kR + "b" + kR + "c" + kR + kR + "d"},
  };
  for (const InvalidCase& c : cases) {
    EXPECT_EQ(Quote(c.input), "\"" + c.expected + "\"") << c.description;
  }
}

TEST(JsonWriterTest, DecodeUtf8ReportsLengthAndWellFormedness) {
  Utf8Sequence s = DecodeUtf8("\xF0\x9F\x98\x80", 0);
  EXPECT_TRUE(s.well_formed);
  EXPECT_EQ(s.length, 4u);
  EXPECT_EQ(s.code_point, 0x1F600u);
  s = DecodeUtf8("\xF1\x80\x80", 0);
  EXPECT_FALSE(s.well_formed);
  EXPECT_EQ(s.length, 3u);
  EXPECT_EQ(s.code_point, 0xFFFDu);
  s = DecodeUtf8("x\xED\xA0\x80", 1);
  EXPECT_FALSE(s.well_formed);
  EXPECT_EQ(s.length, 1u);
}

TEST(JsonWriterTest, EveryTwoByteInputGivesSafeOutput) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const char input[2] = {static_cast<char>(a), static_cast<char>(b)};
      ExpectSafeJsonString(Quote(absl::string_view(input, 2)));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

TEST(JsonWriterTest, RandomInputsGiveSafeOutput) {
  std::mt19937 random(12345);
  // Bias towards bytes that matter: high bytes, controls, quotes.
  const unsigned char interesting[] = {0x00, 0x0A, 0x0D, '"',  '\\', 0x7F, 0x80, 0xBF, 0xC0,
                                       0xC2, 0xDF, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5,
                                       0xFF, 0xA0, 0x9F, 0x8F, 0x90, 0xA8, 'a'};
  for (int i = 0; i < 50000; ++i) {
    std::string input(1 + random() % 12, '\0');
    for (char& c : input) {
      c = static_cast<char>(random() % 2 ? random() % 256
                                         : interesting[random() % sizeof(interesting)]);
    }
    ExpectSafeJsonString(Quote(input));
    if (::testing::Test::HasFatalFailure()) return;
    // Well-formed input with nothing to escape is unchanged.
    bool needs_escape = input.find("\xE2\x80\xA8") != std::string::npos ||
                        input.find("\xE2\x80\xA9") != std::string::npos;
    for (char c : input) {
      const auto byte = static_cast<unsigned char>(c);
      needs_escape = needs_escape || byte < 0x20 || byte == '"' || byte == '\\' || byte == 0x7F;
    }
    if (IsValidUtf8(input) && !needs_escape) {
      EXPECT_EQ(Quote(input), "\"" + input + "\"");
    }
  }
}

TEST(JsonWriterTest, WritesIntegers) {
  std::string out;
  JsonWriter json(&out);
  json.BeginArray()
      .Int(0)
      .Int(-1)
      .Int(std::numeric_limits<int64_t>::min())
      .Int(std::numeric_limits<int64_t>::max())
      .Uint(std::numeric_limits<uint64_t>::max())
      .EndArray();
  EXPECT_EQ(out, "[0,-1,-9223372036854775808,9223372036854775807,18446744073709551615]");
}

TEST(JsonWriterTest, WritesDoublesShortestWithVisibleType) {
  const std::pair<double, const char*> cases[] = {
      {1.0, "1.0"},
      {0.1, "0.1"},
      {-2.5, "-2.5"},
      {-0.0, "-0.0"},
      {123456789.0, "123456789.0"},
      {1e100, "1e+100"},
      {1.5e-7, "1.5e-07"},
      {5e-324, "5e-324"},
      {std::numeric_limits<double>::max(), "1.7976931348623157e+308"},
      {std::nan(""), "null"},
      {std::numeric_limits<double>::infinity(), "null"},
      {-std::numeric_limits<double>::infinity(), "null"},
  };
  for (const auto& c : cases) {
    std::string out;
    JsonWriter(&out).Double(c.first);
    EXPECT_EQ(out, c.second) << c.second;
  }
  std::string out;
  JsonWriter json(&out);
  json.BeginArray().Double(std::nan("")).Double(2).EndArray();
  EXPECT_EQ(out, "[null,2.0]");
}

}  // namespace
}  // namespace tracebridge
