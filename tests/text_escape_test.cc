#include "tracebridge/core/metrics/text_escape.h"

#include <clocale>
#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace tracebridge {
namespace {

std::string Label(absl::string_view text) {
  std::string out;
  AppendPrometheusLabelValue(text, &out);
  return out;
}

std::string Double(double value) {
  std::string out;
  AppendDouble(value, &out);
  return out;
}

std::string Seconds(uint64_t ns) {
  std::string out;
  AppendSecondsFromNs(ns, &out);
  return out;
}

// JSON strings are the JSON writer's (tests/json_writer_test.cc); labels
// repair invalid UTF-8 with the same rule: one U+FFFD per maximal subpart.
TEST(TextEscapeTest, InvalidUtf8IsReplacedInLabels) {
  EXPECT_EQ(Label("\xff"), "\xEF\xBF\xBD");
  EXPECT_EQ(Label("ok\xe2\x82"), "ok\xEF\xBF\xBD");  // a cut sequence is one subpart
  EXPECT_EQ(Label("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(Label("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(TextEscapeTest, PrometheusLabelValuesAndHelp) {
  EXPECT_EQ(Label("a\"b\\c\nd\te"), "a\\\"b\\\\c\\nd\te");
  std::string help;
  AppendPrometheusHelp("one \"two\"\\\nthree", &help);
  EXPECT_EQ(help, "one \"two\"\\\\\\nthree");
}

TEST(TextEscapeTest, Doubles) {
  EXPECT_EQ(Double(0), "0");
  EXPECT_EQ(Double(0.25), "0.25");
  EXPECT_EQ(Double(0.1), "0.1");
  EXPECT_EQ(Double(1e-7), "1e-07");
  EXPECT_EQ(Double(123456789.0), "123456789");
  EXPECT_EQ(Double(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(Double(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(Double(std::nan("")), "NaN");
}

TEST(TextEscapeTest, DoublesIgnoreTheLocale) {
  // A locale with a decimal comma, where the system has one; C otherwise.
  const char* previous = std::setlocale(LC_NUMERIC, nullptr);
  const std::string saved = previous != nullptr ? previous : "C";
  std::setlocale(LC_NUMERIC, "de_DE.UTF-8");
  EXPECT_EQ(Double(0.5), "0.5");
  std::setlocale(LC_NUMERIC, saved.c_str());
}

TEST(TextEscapeTest, SecondsFromNanoseconds) {
  EXPECT_EQ(Seconds(0), "0");
  EXPECT_EQ(Seconds(5'000), "0.000005");
  EXPECT_EQ(Seconds(1), "0.000000001");
  EXPECT_EQ(Seconds(2'500'000), "0.0025");
  EXPECT_EQ(Seconds(1'000'000'000), "1");
  EXPECT_EQ(Seconds(12'500'000'000), "12.5");
  EXPECT_EQ(Seconds(~uint64_t{0}), "18446744073.709551615");
}

}  // namespace
}  // namespace tracebridge
