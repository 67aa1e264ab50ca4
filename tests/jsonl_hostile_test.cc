// Hostile span content cannot break or forge JSON lines: spans whose names,
// attribute keys and values, status descriptions, event names and resource
// hold newlines, quotes, NULs, forged records, invalid UTF-8, encoded
// surrogates and very long strings are exported, and an independent parser
// (/usr/bin/python3 running tests/jsonl_check.py) must read exactly one valid
// JSON object per span and decode every string to the expected text, with
// U+FFFD where the input was not UTF-8.

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/testing/sample_spans.h"
#include "tracebridge/core/export/jsonl_exporter.h"

namespace tracebridge {
namespace {

constexpr char kPython[] = "/usr/bin/python3";

const std::string kR = "\xEF\xBF\xBD";  // U+FFFD

struct Hostile {
  std::string input;
  std::string decoded;  // what a JSON parser must read back
};

std::vector<Hostile> HostileStrings() {
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
  controls.push_back('\x7F');
  // 100,000 bytes mixing everything that needs escaping or repair.
  const std::string unit_in = std::string("ab\n\"\\\x01\xC3\xA9\xFF", 9);
  const std::string unit_out = std::string("ab\n\"\\\x01\xC3\xA9", 8) + kR;
  std::string long_in, long_out;
  for (int i = 0; i < 100000 / 9; ++i) {
    long_in += unit_in;
    long_out += unit_out;
  }
  return {
      {"line1\nline2", "line1\nline2"},
      {"quote\"back\\slash", "quote\"back\\slash"},
      {std::string("nul\0byte", 8), std::string("nul\0byte", 8)},
      {"\r\n{\"forged\":1}", "\r\n{\"forged\":1}"},
      {"\"}\n{\"name\":\"forged\"", "\"}\n{\"name\":\"forged\""},
      {"bad\xFF\xC0\x80"
       "end",
       "bad" + kR + kR + kR + "end"},
      {"\xF0\x9F\x98\x80 emoji \xF0\x9F\x91\x8D", "\xF0\x9F\x98\x80 emoji \xF0\x9F\x91\x8D"},
      {"lone\xED\xA0\x80surrogate", "lone" + kR + kR + kR + "surrogate"},
      {"low\xED\xBF\xBF", "low" + kR + kR + kR},
      {"pair\xED\xA0\xBD\xED\xB8\x80", "pair" + kR + kR + kR + kR + kR + kR},
      {"sep\xE2\x80\xA8js\xE2\x80\xA9", "sep\xE2\x80\xA8js\xE2\x80\xA9"},
      {controls, controls},
      {"trunc\xF0\x9F", "trunc" + kR},
      {"over\xF4\x90\x80\x80", "over" + kR + kR + kR + kR},
      {"overlong\xC0\xAF\xE0\x80\xAF", "overlong" + kR + kR + kR + kR + kR},
      {"", ""},
      {long_in, long_out},
  };
}

std::string Hex(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

// Runs the checker; returns its exit status and stdout+stderr.
int RunChecker(const std::string& file, size_t lines, std::string* output) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  const std::string script = srcdir != nullptr && workspace != nullptr
                                 ? absl::StrCat(srcdir, "/", workspace, "/tests/jsonl_check.py")
                                 : "tests/jsonl_check.py";
  const std::string command =
      absl::StrCat(kPython, " '", script, "' '", file, "' ", lines, " 2>&1");
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output->append(buffer, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(JsonLinesHostileTest, IndependentParserReadsOneObjectPerSpanWithRepairedText) {
  ASSERT_EQ(::access(kPython, X_OK), 0)
      << kPython << " is missing: install Debian's python3 (the test needs an independent "
      << "JSON parser, and Bazel's sandbox PATH does not reach other interpreters)";

  const std::vector<Hostile> hostile = HostileStrings();
  const size_t n = hostile.size();
  Resource resource = testing::MakeResource("svc\n{\"forged\":1}\xFF");
  resource.attributes.push_back({hostile[3].input, hostile[5].input});

  std::vector<std::unique_ptr<SpanData>> spans;
  std::vector<std::string> expected;
  for (size_t i = 0; i < n; ++i) {
    auto span =
        testing::MakeSpan("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", hostile[i].input);
    span->status = StatusCode::kError;
    span->status_description = hostile[(i + 1) % n].input;
    // A numbered prefix keeps keys distinct after repair.
    const std::string key_prefix = absl::StrCat("k", i, "-");
    span->attributes.push_back(
        {key_prefix + hostile[(i + 2) % n].input, hostile[(i + 3) % n].input});
    span->attributes.push_back({"n", int64_t{-42}});
    span->attributes.push_back({"x", 0.25});
    span->attributes.push_back({"ok", true});
    span->events.push_back({hostile[(i + 4) % n].input, 0, {{hostile[i].input, int64_t{1}}}, 0});
    spans.push_back(std::move(span));
    expected.push_back(absl::StrCat(
        Hex(hostile[i].decoded), "\t", Hex(hostile[(i + 1) % n].decoded), "\t",
        Hex(key_prefix + hostile[(i + 2) % n].decoded), ":s:", Hex(hostile[(i + 3) % n].decoded),
        "\t", Hex("n"), ":i:-42\t", Hex("x"), ":d:0.25\t", Hex("ok"), ":b:True"));
  }

  const std::string path = ::testing::TempDir() + "/hostile.jsonl";
  std::remove(path.c_str());
  auto exporter = JsonLinesExporter::Create({path});
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  // Two batches, so lines from different Export calls are checked too.
  const absl::Span<const std::unique_ptr<SpanData>> all(spans);
  ASSERT_TRUE((*exporter)->Export(resource, all.subspan(0, n / 2), absl::InfiniteFuture()).ok());
  ASSERT_TRUE((*exporter)->Export(resource, all.subspan(n / 2), absl::InfiniteFuture()).ok());
  ASSERT_TRUE((*exporter)->Shutdown(absl::Seconds(1)).ok());

  std::string output;
  const int status = RunChecker(path, n, &output);
  ASSERT_EQ(status, 0) << "jsonl_check.py failed:\n" << output.substr(0, 4000);
  const std::vector<std::string> got = absl::StrSplit(output, '\n', absl::SkipEmpty());
  ASSERT_EQ(got.size(), n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(got[i], expected[i]) << "span " << i;
  }
}

TEST(JsonLinesHostileTest, CheckerRejectsAForgedLine) {
  // The checker itself must notice the failures it exists to catch.
  ASSERT_EQ(::access(kPython, X_OK), 0) << kPython << " is missing";
  const std::string path = ::testing::TempDir() + "/forged.jsonl";
  std::string line;
  auto span = testing::MakeTypicalServerSpan();
  JsonLinesExporter::AppendSpanLine(testing::MakeResource(), *span, &line);
  const std::string forged_split = line.substr(0, 40) + "\n" + line.substr(40);
  const std::string bad_utf8 = line.substr(0, line.size() - 3) + "\xFF}\n";
  for (const std::string& content : {forged_split, bad_utf8, line + "{\"forged\":1}\n"}) {
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
    std::string output;
    EXPECT_NE(RunChecker(path, 1, &output), 0) << content;
  }
}

}  // namespace
}  // namespace tracebridge
