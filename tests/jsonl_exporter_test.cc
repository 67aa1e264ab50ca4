// JsonLinesExporter: the line schema, rotation, buffering, errors and the
// default path. The hostile-input test is jsonl_hostile_test.

#include "tracebridge/core/export/jsonl_exporter.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/testing/sample_spans.h"

namespace tracebridge {
namespace {

using testing::MakeResource;
using testing::MakeSpan;

// A fresh directory for one test.
std::string MakeTestDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string dir = absl::StrCat(::testing::TempDir(), "/jsonl_", info->name());
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The `name` member of every line of `path`, in order.
std::vector<std::string> NamesIn(const std::string& path) {
  std::vector<std::string> names;
  for (absl::string_view line : absl::StrSplit(ReadFile(path), '\n', absl::SkipEmpty())) {
    const size_t at = line.find("\"name\":\"");
    if (at == absl::string_view::npos) continue;
    const size_t start = at + 8;
    names.emplace_back(line.substr(start, line.find('"', start) - start));
  }
  return names;
}

std::vector<std::unique_ptr<SpanData>> NumberedSpans(int first, int count) {
  std::vector<std::unique_ptr<SpanData>> spans;
  for (int i = first; i < first + count; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "span-%03d", i);
    spans.push_back(MakeSpan("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", name));
  }
  return spans;
}

std::unique_ptr<SpanData> FullSpan() {
  auto span = MakeSpan("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "GET /orders/:id");
  span->kind = SpanKind::kServer;
  span->parent_span_id = SpanId::FromHex("b7ad6b7169203331");
  span->parent_is_remote = true;
  span->attributes.push_back({"s", std::string("text")});
  span->attributes.push_back({"i", int64_t{-7}});
  span->attributes.push_back({"d", 0.5});
  span->attributes.push_back({"b", true});
  span->events.push_back(
      {"exception", span->start_unix_nanos + 1000, {{"exception.type", std::string("E")}}, 2});
  span->links.push_back({SpanContext(TraceId::FromHex("0af7651916cd43dd8448eb211c80319c"),
                                     SpanId::FromHex("b9c7c989f97918e1"), TraceFlags(0x01),
                                     /*is_remote=*/true),
                         {{"link.kind", std::string("caller")}},
                         0});
  span->status = StatusCode::kError;
  span->status_description = "boom";
  span->dropped_attributes = 1;
  span->dropped_events = 2;
  span->dropped_links = 3;
  return span;
}

TEST(JsonLinesExporterTest, WritesEveryFieldOfTheSchema) {
  const std::string path = MakeTestDir() + "/spans.jsonl";
  auto exporter = JsonLinesExporter::Create({path});
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  std::vector<std::unique_ptr<SpanData>> spans;
  spans.push_back(FullSpan());
  ASSERT_TRUE((*exporter)->Export(MakeResource(), spans, absl::InfiniteFuture()).ok());
  EXPECT_EQ(
      ReadFile(path),
      R"({"service_name":"orders",)"
      R"("resource_attributes":{"service.version":"1.4.2","deployment.environment":"test"},)"
      R"("trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7",)"
      R"("parent_span_id":"b7ad6b7169203331","parent_is_remote":true,)"
      R"("trace_state":"","trace_flags":"03","name":"GET /orders/:id",)"
      R"("kind":"server","start_unix_nanos":1700000000000000000,)"
      R"("end_unix_nanos":1700000000001500000,"duration_ns":1500000,)"
      R"("attributes":{"s":"text","i":-7,"d":0.5,"b":true},)"
      R"("events":[{"name":"exception","time_unix_nanos":1700000000000001000,)"
      R"("attributes":{"exception.type":"E"},"dropped_attributes":2}],)"
      R"("links":[{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b9c7c989f97918e1",)"
      R"("trace_state":"","trace_flags":"01","attributes":{"link.kind":"caller"},)"
      R"("dropped_attributes":0}],)"
      R"("status":{"code":"error","description":"boom"},)"
      R"("dropped_attributes":1,"dropped_events":2,"dropped_links":3})"
      "\n");
  EXPECT_EQ((*exporter)->Stats().spans_written, 1u);
}

TEST(JsonLinesExporterTest, RootSpanHasEmptyParentAndEmptyCollections) {
  std::string line;
  JsonLinesExporter::AppendSpanLine(
      Resource{"svc", {}}, *MakeSpan("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "r"),
      &line);
  EXPECT_NE(line.find(R"("parent_span_id":"","parent_is_remote":false,"trace_state":"")"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find(R"("resource_attributes":{})"), std::string::npos);
  EXPECT_NE(line.find(R"("kind":"internal")"), std::string::npos);
  EXPECT_NE(line.find(R"("attributes":{},"events":[],"links":[])"), std::string::npos);
  EXPECT_NE(line.find(R"("status":{"code":"unset","description":""})"), std::string::npos);
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(JsonLinesExporterTest, RotatesAtTheSizeBoundAndKeepsAtMostMaxFiles) {
  const std::string path = MakeTestDir() + "/spans.jsonl";
  // Every numbered span encodes to the same length; three lines per file.
  std::string one_line;
  JsonLinesExporter::AppendSpanLine(MakeResource(), *NumberedSpans(0, 1)[0], &one_line);
  JsonLinesOptions options;
  options.path = path;
  options.max_file_bytes = 3 * one_line.size();
  options.max_files = 3;
  auto exporter = JsonLinesExporter::Create(options);
  ASSERT_TRUE(exporter.ok()) << exporter.status();

  // One large batch that crosses two bounds, then single-span batches.
  ASSERT_TRUE(
      (*exporter)->Export(MakeResource(), NumberedSpans(0, 7), absl::InfiniteFuture()).ok());
  for (int i = 7; i < 10; ++i) {
    ASSERT_TRUE(
        (*exporter)->Export(MakeResource(), NumberedSpans(i, 1), absl::InfiniteFuture()).ok());
  }
  // [0,1,2] was rotated out of existence; the newest files remain.
  EXPECT_EQ(NamesIn(path), (std::vector<std::string>{"span-009"}));
  EXPECT_EQ(NamesIn(path + ".1"), (std::vector<std::string>{"span-006", "span-007", "span-008"}));
  EXPECT_EQ(NamesIn(path + ".2"), (std::vector<std::string>{"span-003", "span-004", "span-005"}));
  EXPECT_FALSE(Exists(path + ".3"));
  for (const std::string& file : {path, path + ".1", path + ".2"}) {
    EXPECT_LE(ReadFile(file).size(), options.max_file_bytes) << file;
  }
  const JsonLinesStats stats = (*exporter)->Stats();
  EXPECT_EQ(stats.rotations, 3u);
  EXPECT_EQ(stats.spans_written, 10u);
  EXPECT_EQ(stats.spans_failed, 0u);
}

TEST(JsonLinesExporterTest, WithOneFileRotationTruncates) {
  const std::string path = MakeTestDir() + "/spans.jsonl";
  std::string one_line;
  JsonLinesExporter::AppendSpanLine(MakeResource(), *NumberedSpans(0, 1)[0], &one_line);
  auto exporter = JsonLinesExporter::Create({path, 2 * one_line.size(), 1});
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  ASSERT_TRUE(
      (*exporter)->Export(MakeResource(), NumberedSpans(0, 5), absl::InfiniteFuture()).ok());
  EXPECT_EQ(NamesIn(path), (std::vector<std::string>{"span-004"}));
  EXPECT_FALSE(Exists(path + ".1"));
}

TEST(JsonLinesExporterTest, ALineLargerThanTheBoundGetsAFileOfItsOwn) {
  const std::string path = MakeTestDir() + "/spans.jsonl";
  auto exporter = JsonLinesExporter::Create({path, 10, 2});
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  ASSERT_TRUE(
      (*exporter)->Export(MakeResource(), NumberedSpans(0, 2), absl::InfiniteFuture()).ok());
  EXPECT_EQ(NamesIn(path), (std::vector<std::string>{"span-001"}));
  EXPECT_EQ(NamesIn(path + ".1"), (std::vector<std::string>{"span-000"}));
}

TEST(JsonLinesExporterTest, AppendsToAnExistingFileAndCountsItsSize) {
  const std::string path = MakeTestDir() + "/spans.jsonl";
  std::string one_line;
  JsonLinesExporter::AppendSpanLine(MakeResource(), *NumberedSpans(0, 1)[0], &one_line);
  {
    auto first = JsonLinesExporter::Create({path, 2 * one_line.size(), 2});
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE((*first)->Export(MakeResource(), NumberedSpans(0, 1), absl::InfiniteFuture()).ok());
  }
  auto second = JsonLinesExporter::Create({path, 2 * one_line.size(), 2});
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE((*second)->Export(MakeResource(), NumberedSpans(1, 2), absl::InfiniteFuture()).ok());
  EXPECT_EQ(NamesIn(path + ".1"), (std::vector<std::string>{"span-000", "span-001"}));
  EXPECT_EQ(NamesIn(path), (std::vector<std::string>{"span-002"}));
}

TEST(JsonLinesExporterTest, WithoutFlushEachBatchLinesWaitForForceFlush) {
  const std::string path = MakeTestDir() + "/spans.jsonl";
  JsonLinesOptions options;
  options.path = path;
  options.flush_each_batch = false;
  auto exporter = JsonLinesExporter::Create(options);
  ASSERT_TRUE(exporter.ok());
  ASSERT_TRUE(
      (*exporter)->Export(MakeResource(), NumberedSpans(0, 3), absl::InfiniteFuture()).ok());
  EXPECT_EQ(ReadFile(path), "");
  EXPECT_EQ((*exporter)->Stats().spans_written, 0u);
  ASSERT_TRUE((*exporter)->ForceFlush(absl::Seconds(1)).ok());
  EXPECT_EQ(NamesIn(path).size(), 3u);
  EXPECT_EQ((*exporter)->Stats().spans_written, 3u);
}

TEST(JsonLinesExporterTest, ShutdownFlushesAndLaterExportsFail) {
  const std::string path = MakeTestDir() + "/spans.jsonl";
  JsonLinesOptions options;
  options.path = path;
  options.flush_each_batch = false;
  auto exporter = JsonLinesExporter::Create(options);
  ASSERT_TRUE(exporter.ok());
  ASSERT_TRUE(
      (*exporter)->Export(MakeResource(), NumberedSpans(0, 2), absl::InfiniteFuture()).ok());
  ASSERT_TRUE((*exporter)->Shutdown(absl::Seconds(1)).ok());
  EXPECT_EQ(NamesIn(path).size(), 2u);
  const absl::Status status =
      (*exporter)->Export(MakeResource(), NumberedSpans(2, 1), absl::InfiniteFuture());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*exporter)->Stats().spans_failed, 1u);
}

TEST(JsonLinesExporterTest, RejectsBadOptionsAndUnusablePaths) {
  const std::string dir = MakeTestDir();
  EXPECT_EQ(JsonLinesExporter::Create({""}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(JsonLinesExporter::Create({dir + "/a", 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(JsonLinesExporter::Create({dir + "/a", 100, 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(JsonLinesExporter::Create({dir + "/a", 100, JsonLinesExporter::kMaxFilesLimit + 1})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);

  const absl::Status missing_dir =
      JsonLinesExporter::Create({dir + "/no/such/dir/a.jsonl"}).status();
  EXPECT_EQ(missing_dir.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing_dir.message().find("does not exist"), absl::string_view::npos) << missing_dir;
  EXPECT_FALSE(Exists(dir + "/no"));

  // The path is a directory.
  EXPECT_FALSE(JsonLinesExporter::Create({dir}).ok());
  EXPECT_FALSE(JsonLinesExporter::Create({dir + "/"}).ok());
  // The parent is a file.
  const std::string file = dir + "/plain";
  std::ofstream(file) << "x";
  EXPECT_EQ(JsonLinesExporter::Create({file + "/a.jsonl"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(JsonLinesExporterTest, WriteErrorsReturnAnErrorAndAreCounted) {
  // /dev/full fails every write with ENOSPC.
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no writable /dev/full here";
  auto exporter = JsonLinesExporter::Create({"/dev/full"});
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  const absl::Status status =
      (*exporter)->Export(MakeResource(), NumberedSpans(0, 4), absl::InfiniteFuture());
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("/dev/full"), absl::string_view::npos) << status;
  const JsonLinesStats stats = (*exporter)->Stats();
  EXPECT_EQ(stats.write_errors, 1u);
  EXPECT_EQ(stats.spans_failed, 4u);
  EXPECT_EQ(stats.spans_written, 0u);
  EXPECT_EQ(stats.rotations, 0u);  // a device is never rotated
}

class DefaultPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("TRACEBRIDGE_SPAN_FILE");
    ::unsetenv("TMPDIR");
  }
  void TearDown() override { SetUp(); }
};

TEST_F(DefaultPathTest, UsesTheEnvironmentVariableFirst) {
  ::setenv("TRACEBRIDGE_SPAN_FILE", "/var/tmp/explicit.jsonl", 1);
  ::setenv("TMPDIR", "/elsewhere", 1);
  EXPECT_EQ(DefaultJsonLinesPath("orders"), "/var/tmp/explicit.jsonl");
}

TEST_F(DefaultPathTest, FallsBackToTmpdirThenTmp) {
  const std::string pid = std::to_string(::getpid());
  EXPECT_EQ(DefaultJsonLinesPath("orders"), "/tmp/tracebridge-orders-" + pid + ".jsonl");
  ::setenv("TMPDIR", "/scratch/", 1);
  EXPECT_EQ(DefaultJsonLinesPath("orders"), "/scratch/tracebridge-orders-" + pid + ".jsonl");
  ::setenv("TRACEBRIDGE_SPAN_FILE", "", 1);  // empty counts as unset
  EXPECT_EQ(DefaultJsonLinesPath("orders"), "/scratch/tracebridge-orders-" + pid + ".jsonl");
}

TEST_F(DefaultPathTest, ServiceNameCannotLeaveTheDirectory) {
  const std::string pid = std::to_string(::getpid());
  EXPECT_EQ(DefaultJsonLinesPath("../../etc/passwd"),
            "/tmp/tracebridge-.._.._etc_passwd-" + pid + ".jsonl");
  EXPECT_EQ(DefaultJsonLinesPath(""), "/tmp/tracebridge-unknown_service-" + pid + ".jsonl");
  EXPECT_EQ(DefaultJsonLinesPath(std::string(100, 'x')),
            "/tmp/tracebridge-" + std::string(64, 'x') + "-" + pid + ".jsonl");
}

}  // namespace
}  // namespace tracebridge
