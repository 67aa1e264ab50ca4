// LogLineExporter: the gin-monitor line format, attribute fallbacks, Go
// durations, sanitising and errors.

#include "tracebridge/core/export/log_exporter.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/sample_spans.h"

namespace tracebridge {
namespace {

using testing::MakeResource;
using testing::MakeSpan;

std::unique_ptr<SpanData> RootSpan(std::string name = "op", int64_t duration = 1500000) {
  return MakeSpan("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", std::move(name),
                  1700000000000000000, duration);
}

std::string Line(const SpanData& span, LogLineOptions options = {}) {
  std::string out;
  LogLineExporter::AppendLine(options, MakeResource(), span, &out);
  return out;
}

std::string GoDuration(int64_t nanos) {
  std::string out;
  AppendGoDuration(nanos, &out);
  return out;
}

std::string Sanitised(absl::string_view value, size_t max = 256) {
  std::string out;
  AppendLogValue(value, max, &out);
  return out;
}

TEST(LogLineExporterTest, HttpServerSpanLineIsExact) {
  auto span = testing::MakeTypicalServerSpan();
  EXPECT_EQ(Line(*span),
            "Service: orders, TraceID: 4bf92f3577b34da6a3ce929d0e0e4736, "
            "SpanID: 00f067aa0ba902b7, ParentSpanID: b7ad6b7169203331, Method: GET, "
            "Path: /orders/:id, Duration: 1.5ms, Status: 200\n");
}

TEST(LogLineExporterTest, GrpcSpanUsesRpcAttributes) {
  auto span = RootSpan("tracebridge.v1.Query/GetTrace", 250000);
  span->attributes.push_back({"rpc.service", std::string("tracebridge.v1.Query")});
  span->attributes.push_back({"rpc.method", std::string("GetTrace")});
  span->attributes.push_back({"rpc.grpc.status_code", int64_t{5}});
  EXPECT_EQ(Line(*span),
            "Service: orders, TraceID: 4bf92f3577b34da6a3ce929d0e0e4736, "
            "SpanID: 00f067aa0ba902b7, ParentSpanID: , Method: GetTrace, "
            "Path: /tracebridge.v1.Query/GetTrace, Duration: 250\xC2\xB5s, Status: 5\n");
}

TEST(LogLineExporterTest, FallsBackToSpanNameAndStatus) {
  auto span = RootSpan("load-config", 2000000000);
  span->status = StatusCode::kError;
  EXPECT_EQ(Line(*span),
            "Service: orders, TraceID: 4bf92f3577b34da6a3ce929d0e0e4736, "
            "SpanID: 00f067aa0ba902b7, ParentSpanID: , Method: , Path: load-config, "
            "Duration: 2s, Status: error\n");
}

TEST(LogLineExporterTest, PrefersRouteThenPathAndNewAttributeNames) {
  auto span = RootSpan();
  span->attributes.push_back({"url.path", std::string("/orders/17")});
  span->attributes.push_back({"http.method", std::string("OLD")});
  span->attributes.push_back({"http.request.method", std::string("POST")});
  std::string line = Line(*span);
  EXPECT_NE(line.find("Method: POST, Path: /orders/17,"), std::string::npos) << line;
  span->attributes.push_back({"http.route", std::string("/orders/:id")});
  line = Line(*span);
  EXPECT_NE(line.find("Path: /orders/:id,"), std::string::npos) << line;
}

TEST(LogLineExporterTest, MillisecondsFormatAndTimestampPrefixMatchGinMonitor) {
  auto span = testing::MakeTypicalServerSpan();
  span->end_unix_nanos = span->start_unix_nanos + 1999999999;
  LogLineOptions options;
  options.duration_format = LogDurationFormat::kMilliseconds;
  options.timestamp_prefix = true;
  // 1700000001.999999999 s after the epoch is 2023-11-14 22:13:21 UTC.
  EXPECT_EQ(Line(*span, options),
            "2023/11/14 22:13:21 Service: orders, TraceID: 4bf92f3577b34da6a3ce929d0e0e4736, "
            "SpanID: 00f067aa0ba902b7, ParentSpanID: b7ad6b7169203331, Method: GET, "
            "Path: /orders/:id, Duration: 1999, Status: 200\n");
}

TEST(LogLineExporterTest, DurationsPrintLikeGo) {
  // Expected strings are what Go's time.Duration(n).String() returns.
  EXPECT_EQ(GoDuration(0), "0s");
  EXPECT_EQ(GoDuration(1), "1ns");
  EXPECT_EQ(GoDuration(999), "999ns");
  EXPECT_EQ(GoDuration(1000), "1\xC2\xB5s");
  EXPECT_EQ(GoDuration(1500), "1.5\xC2\xB5s");
  EXPECT_EQ(GoDuration(1234567), "1.234567ms");
  EXPECT_EQ(GoDuration(1000000), "1ms");
  EXPECT_EQ(GoDuration(999999999), "999.999999ms");
  EXPECT_EQ(GoDuration(1000000000), "1s");
  EXPECT_EQ(GoDuration(1500000000), "1.5s");
  EXPECT_EQ(GoDuration(90000000000), "1m30s");
  EXPECT_EQ(GoDuration(3723500000000), "1h2m3.5s");
  EXPECT_EQ(GoDuration(3600000000000), "1h0m0s");
  EXPECT_EQ(GoDuration(-1500), "-1.5\xC2\xB5s");
  EXPECT_EQ(GoDuration(INT64_MIN), "-2562047h47m16.854775808s");
  EXPECT_EQ(GoDuration(INT64_MAX), "2562047h47m16.854775807s");
}

TEST(LogLineExporterTest, SanitisesControlsSeparatorsAndInvalidUtf8) {
  EXPECT_EQ(Sanitised("plain /path-1"), "plain /path-1");
  EXPECT_EQ(Sanitised("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(Sanitised(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(Sanitised("\x1b[31mred\x7f"), "\\x1b[31mred\\x7f");
  EXPECT_EQ(Sanitised("back\\slash"), "back\\\\slash");
  EXPECT_EQ(Sanitised("a, Status: 500"), "a\\x2c Status: 500");
  EXPECT_EQ(Sanitised("bad\xFF\xC0\x80"), "bad\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(Sanitised("csi\xC2\x9B"
                      "1m nel\xC2\x85"),
            "csi\\u009b1m nel\\u0085");
  EXPECT_EQ(Sanitised("ls\xE2\x80\xA8ps\xE2\x80\xA9"), "ls\\u2028ps\\u2029");
  EXPECT_EQ(Sanitised("caf\xC3\xA9 \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xF0\x9F\x98\x80");
}

TEST(LogLineExporterTest, LongValuesAreCutAtACharacterBoundary) {
  EXPECT_EQ(Sanitised(std::string(40, 'x'), 16), std::string(16, 'x') + "...");
  // "\xC3\xA9" is 2 bytes: 7 fit in 15 bytes; the eighth is not split.
  std::string accents;
  for (int i = 0; i < 10; ++i) accents += "\xC3\xA9";
  EXPECT_EQ(Sanitised(accents, 15), accents.substr(0, 14) + "...");
  // An escape is never split.
  std::string eight_escapes;
  for (int i = 0; i < 8; ++i) eight_escapes += "\\n";
  EXPECT_EQ(Sanitised(std::string(20, '\n'), 17), eight_escapes + "...");
}

TEST(LogLineExporterTest, HostileValuesCannotForgeALineOrAField) {
  auto span = RootSpan("x\nService: forged, TraceID: 0");
  span->attributes.push_back({"http.route", std::string("/a\r\nService: evil, Status: 200\n")});
  span->attributes.push_back({"http.request.method", std::string(100000, '\n')});
  span->attributes.push_back({"http.response.status_code", std::string("500\x00\xFF", 5)});
  Resource resource{"svc\ninjected", {}};
  std::string line;
  LogLineExporter::AppendLine({}, resource, *span, &line);
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos);
  // Exactly the seven separators between the eight fields.
  size_t separators = 0;
  for (size_t at = line.find(", "); at != std::string::npos; at = line.find(", ", at + 1)) {
    ++separators;
  }
  EXPECT_EQ(separators, 7u) << line;
  EXPECT_LE(line.size(), LogLineExporter::kMaxLineOverhead + 4 * (256 + 8));
  EXPECT_NE(line.find("Service: svc\\ninjected, "), std::string::npos) << line;
  EXPECT_NE(line.find("Status: 500\\x00\xEF\xBF\xBD\n"), std::string::npos) << line;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(LogLineExporterTest, ExportAppendsOneLinePerSpanToTheFile) {
  const std::string path = ::testing::TempDir() + "/trace.log";
  std::remove(path.c_str());
  auto exporter = LogLineExporter::Create({path});
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  std::vector<std::unique_ptr<SpanData>> spans;
  spans.push_back(testing::MakeTypicalServerSpan());
  spans.push_back(RootSpan());
  ASSERT_TRUE((*exporter)->Export(MakeResource(), spans, absl::InfiniteFuture()).ok());
  ASSERT_TRUE((*exporter)->Export(MakeResource(), spans, absl::InfiniteFuture()).ok());
  const std::string text = ReadFile(path);
  EXPECT_EQ(text, Line(*spans[0]) + Line(*spans[1]) + Line(*spans[0]) + Line(*spans[1]));
  EXPECT_EQ((*exporter)->Stats().lines_written, 4u);
  ASSERT_TRUE((*exporter)->Shutdown(absl::Seconds(1)).ok());
  EXPECT_EQ((*exporter)->Export(MakeResource(), spans, absl::InfiniteFuture()).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*exporter)->Stats().lines_failed, 2u);
}

TEST(LogLineExporterTest, ErrorsAreReturnedNotThrown) {
  EXPECT_EQ(
      LogLineExporter::Create({::testing::TempDir() + "/missing/dir/trace.log"}).status().code(),
      absl::StatusCode::kNotFound);
  LogLineOptions bad;
  bad.max_value_bytes = 1;
  EXPECT_EQ(LogLineExporter::Create(bad).status().code(), absl::StatusCode::kInvalidArgument);

  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no writable /dev/full here";
  auto exporter = LogLineExporter::Create({"/dev/full"});
  ASSERT_TRUE(exporter.ok());
  std::vector<std::unique_ptr<SpanData>> spans;
  spans.push_back(RootSpan());
  EXPECT_FALSE((*exporter)->Export(MakeResource(), spans, absl::InfiniteFuture()).ok());
  EXPECT_EQ((*exporter)->Stats().write_errors, 1u);
  EXPECT_EQ((*exporter)->Stats().lines_failed, 1u);
}

TEST(LogLineExporterTest, StderrIsTheDefault) {
  auto exporter = LogLineExporter::Create({});
  ASSERT_TRUE(exporter.ok());
  EXPECT_EQ((*exporter)->Name(), "log");
  // Shutdown must not close stderr.
  ASSERT_TRUE((*exporter)->Shutdown(absl::Seconds(1)).ok());
  EXPECT_NE(::fcntl(STDERR_FILENO, F_GETFD), -1);
}

}  // namespace
}  // namespace tracebridge
