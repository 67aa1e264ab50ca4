// InMemorySpanExporter: bounds by count and bytes, eviction order and
// counters, each query kind, paging, and export racing queries.

#include "tracebridge/core/export/memory_exporter.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/sample_spans.h"

namespace tracebridge {
namespace {

constexpr char kTraceA[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kTraceB[] = "0af7651916cd43dd8448eb211c80319c";

// Span `i` of trace `trace`: named "s<i>", starting at `start`, lasting
// `duration` ns, with error status when `error`.
std::unique_ptr<SpanData> Numbered(int i, const char* trace = kTraceA, int64_t start = 1000,
                                   int64_t duration = 100, bool error = false) {
  auto span = testing::MakeSpan(trace, "00f067aa0ba902b7", absl::StrCat("s", i), start, duration);
  if (error) span->status = StatusCode::kError;
  return span;
}

void ExportOne(InMemorySpanExporter& exporter, std::unique_ptr<SpanData> span,
               const Resource& resource = testing::MakeResource()) {
  std::vector<std::unique_ptr<SpanData>> batch;
  batch.push_back(std::move(span));
  ASSERT_TRUE(exporter.Export(resource, batch, absl::InfiniteFuture()).ok());
}

std::vector<std::string> Names(const std::vector<StoredSpan>& spans) {
  std::vector<std::string> names;
  for (const StoredSpan& stored : spans) names.push_back(stored.span->name);
  return names;
}

TEST(InMemorySpanExporterTest, EvictsOldestWhenTheCountBoundIsReached) {
  InMemorySpanExporter exporter({5, size_t{1} << 30});
  for (int i = 0; i < 8; ++i) ExportOne(exporter, Numbered(i));
  EXPECT_EQ(Names(exporter.MostRecent(100)),
            (std::vector<std::string>{"s7", "s6", "s5", "s4", "s3"}));
  const InMemorySpanStats stats = exporter.Stats();
  EXPECT_EQ(stats.stored, 5u);
  EXPECT_EQ(stats.evicted, 3u);
  EXPECT_EQ(stats.exported, 8u);
  EXPECT_EQ(stats.rejected, 0u);
  EXPECT_EQ(stats.last_sequence, 8u);
  EXPECT_EQ(stats.bytes, 5 * EstimateSpanBytes(*Numbered(0)));
}

TEST(InMemorySpanExporterTest, EvictsOldestWhenTheByteBoundIsReached) {
  const size_t each = EstimateSpanBytes(*Numbered(0));
  InMemorySpanExporter exporter({1000, 3 * each + each / 2});
  std::vector<std::unique_ptr<SpanData>> batch;
  for (int i = 0; i < 6; ++i) batch.push_back(Numbered(i));
  ASSERT_TRUE(exporter.Export(testing::MakeResource(), batch, absl::InfiniteFuture()).ok());
  EXPECT_EQ(Names(exporter.MostRecent(100)), (std::vector<std::string>{"s5", "s4", "s3"}));
  EXPECT_EQ(exporter.Stats().bytes, 3 * each);
  EXPECT_EQ(exporter.Stats().evicted, 3u);

  // One big span pushes out as many small ones as it needs.
  auto big = Numbered(6);
  big->name = std::string(2 * each, 'x');
  const size_t big_bytes = EstimateSpanBytes(*big);
  ExportOne(exporter, std::move(big));
  const InMemorySpanStats stats = exporter.Stats();
  EXPECT_EQ(stats.stored, 1u);
  EXPECT_EQ(stats.bytes, big_bytes);
  EXPECT_EQ(stats.evicted, 6u);
}

TEST(InMemorySpanExporterTest, RejectsASpanLargerThanTheWholeBudget) {
  InMemorySpanExporter exporter({10, 4096});
  ExportOne(exporter, Numbered(0));
  auto huge = Numbered(1);
  huge->name = std::string(8192, 'x');
  ExportOne(exporter, std::move(huge));
  const InMemorySpanStats stats = exporter.Stats();
  EXPECT_EQ(stats.rejected, 1u);
  EXPECT_EQ(stats.stored, 1u);  // the small one stays
  EXPECT_EQ(stats.evicted, 0u);
}

TEST(InMemorySpanExporterTest, EstimateCountsStringsAndCollections) {
  auto span = Numbered(0);
  const size_t base = EstimateSpanBytes(*span);
  EXPECT_GE(base, sizeof(SpanData));
  span->name += std::string(1000, 'n');
  EXPECT_EQ(EstimateSpanBytes(*span), base + 1000);
  span->attributes.push_back({"key", std::string(500, 'v')});
  EXPECT_EQ(EstimateSpanBytes(*span), base + 1000 + 3 + 500);  // inline storage: no element cost
  span->events.push_back({"ev", 0, {{"a", int64_t{1}}}, 0});
  EXPECT_EQ(EstimateSpanBytes(*span),
            base + 1000 + 503 + sizeof(SpanEvent) + 2 + sizeof(Attribute) + 1);
}

TEST(InMemorySpanExporterTest, FindTraceReturnsOnlyThatTraceInStartOrder) {
  InMemorySpanExporter exporter;
  ExportOne(exporter, Numbered(0, kTraceA, 300));
  ExportOne(exporter, Numbered(1, kTraceB, 100));
  ExportOne(exporter, Numbered(2, kTraceA, 100));
  ExportOne(exporter, Numbered(3, kTraceA, 200));
  ExportOne(exporter, Numbered(4, kTraceA, 100));  // same start as s2: export order breaks ties
  EXPECT_EQ(Names(exporter.FindTrace(TraceId::FromHex(kTraceA))),
            (std::vector<std::string>{"s2", "s4", "s3", "s0"}));
  EXPECT_EQ(Names(exporter.FindTrace(TraceId::FromHex(kTraceB))), (std::vector<std::string>{"s1"}));
  EXPECT_TRUE(exporter.FindTrace(TraceId::FromHex("11111111111111111111111111111111")).empty());
}

TEST(InMemorySpanExporterTest, FiltersByDurationAndErrorsAndCombines) {
  InMemorySpanExporter exporter;
  ExportOne(exporter, Numbered(0, kTraceA, 0, 10, false));
  ExportOne(exporter, Numbered(1, kTraceA, 0, 5000, false));
  ExportOne(exporter, Numbered(2, kTraceB, 0, 10, true));
  ExportOne(exporter, Numbered(3, kTraceA, 0, 9000, true));
  ExportOne(exporter, Numbered(4, kTraceB, 0, 7000, true));

  SpanQuery slow;
  slow.min_duration = absl::Nanoseconds(5000);
  EXPECT_EQ(Names(exporter.Query(slow).spans), (std::vector<std::string>{"s4", "s3", "s1"}));

  SpanQuery errors;
  errors.errors_only = true;
  EXPECT_EQ(Names(exporter.Query(errors).spans), (std::vector<std::string>{"s4", "s3", "s2"}));

  SpanQuery slow_errors = slow;
  slow_errors.errors_only = true;
  EXPECT_EQ(Names(exporter.Query(slow_errors).spans), (std::vector<std::string>{"s4", "s3"}));

  SpanQuery slow_errors_of_a = slow_errors;
  slow_errors_of_a.trace_id = TraceId::FromHex(kTraceA);
  EXPECT_EQ(Names(exporter.Query(slow_errors_of_a).spans), (std::vector<std::string>{"s3"}));
}

TEST(InMemorySpanExporterTest, PagesWithTheCursor) {
  InMemorySpanExporter exporter;
  for (int i = 0; i < 25; ++i) ExportOne(exporter, Numbered(i));
  SpanQuery query;
  query.limit = 10;
  SpanQueryResult page = exporter.Query(query);
  ASSERT_EQ(page.spans.size(), 10u);
  EXPECT_EQ(page.spans.front().span->name, "s24");
  EXPECT_EQ(page.spans.back().span->name, "s15");
  EXPECT_EQ(page.next_cursor, page.spans.back().sequence);

  // Spans arriving between pages do not shift the next page.
  ExportOne(exporter, Numbered(100));
  query.cursor = page.next_cursor;
  page = exporter.Query(query);
  ASSERT_EQ(page.spans.size(), 10u);
  EXPECT_EQ(page.spans.front().span->name, "s14");
  EXPECT_EQ(page.spans.back().span->name, "s5");

  query.cursor = page.next_cursor;
  page = exporter.Query(query);
  EXPECT_EQ(Names(page.spans), (std::vector<std::string>{"s4", "s3", "s2", "s1", "s0"}));
  EXPECT_EQ(page.next_cursor, 0u);
}

TEST(InMemorySpanExporterTest, PagingWithAFilterAndPastEviction) {
  InMemorySpanExporter exporter({20, size_t{1} << 30});
  for (int i = 0; i < 20; ++i) ExportOne(exporter, Numbered(i, kTraceA, 0, 10, i % 2 == 0));
  SpanQuery query;
  query.errors_only = true;
  query.limit = 4;
  SpanQueryResult page = exporter.Query(query);
  EXPECT_EQ(Names(page.spans), (std::vector<std::string>{"s18", "s16", "s14", "s12"}));
  // Evict s0..s9 before the next page: the walk ends where the ring ends.
  for (int i = 20; i < 30; ++i) ExportOne(exporter, Numbered(i));
  query.cursor = page.next_cursor;
  page = exporter.Query(query);
  EXPECT_EQ(Names(page.spans), (std::vector<std::string>{"s10"}));
  EXPECT_EQ(page.next_cursor, 0u);

  // A cursor older than everything stored yields an empty last page.
  query.cursor = 3;
  page = exporter.Query(query);
  EXPECT_TRUE(page.spans.empty());
  EXPECT_EQ(page.next_cursor, 0u);
}

TEST(InMemorySpanExporterTest, LimitIsBoundedAndDefaulted) {
  InMemorySpanExporter exporter({5000, size_t{1} << 30});
  std::vector<std::unique_ptr<SpanData>> batch;
  for (int i = 0; i < 1500; ++i) batch.push_back(Numbered(i));
  ASSERT_TRUE(exporter.Export(testing::MakeResource(), batch, absl::InfiniteFuture()).ok());
  SpanQuery query;
  query.limit = 1000000;
  EXPECT_EQ(exporter.Query(query).spans.size(), SpanQuery::kMaxLimit);
  query.limit = 0;
  EXPECT_EQ(exporter.Query(query).spans.size(), 100u);
  EXPECT_EQ(exporter.MostRecent(5000).size(), SpanQuery::kMaxLimit);
  EXPECT_TRUE(exporter.MostRecent(0).empty());
}

TEST(InMemorySpanExporterTest, KeepsTheResourceAndSharesIt) {
  InMemorySpanExporter exporter;
  ExportOne(exporter, Numbered(0), testing::MakeResource("orders"));
  ExportOne(exporter, Numbered(1), testing::MakeResource("orders"));
  ExportOne(exporter, Numbered(2), testing::MakeResource("billing"));
  const std::vector<StoredSpan> spans = exporter.MostRecent(3);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].resource->service_name, "billing");
  EXPECT_EQ(spans[1].resource->service_name, "orders");
  EXPECT_EQ(spans[1].resource.get(), spans[2].resource.get());
}

TEST(InMemorySpanExporterTest, ResultsOutliveEvictionAndClear) {
  InMemorySpanExporter exporter({2, size_t{1} << 30});
  ExportOne(exporter, Numbered(0));
  const std::vector<StoredSpan> held = exporter.MostRecent(1);
  for (int i = 1; i < 5; ++i) ExportOne(exporter, Numbered(i));
  exporter.Clear();
  EXPECT_EQ(held[0].span->name, "s0");
  EXPECT_EQ(exporter.Stats().stored, 0u);
  EXPECT_EQ(exporter.Stats().bytes, 0u);
  ExportOne(exporter, Numbered(9));
  EXPECT_EQ(exporter.MostRecent(1)[0].sequence, 6u);  // sequences keep counting
}

TEST(InMemorySpanExporterTest, ShutdownStopsExportsButKeepsQueries) {
  InMemorySpanExporter exporter;
  ExportOne(exporter, Numbered(0));
  ASSERT_TRUE(exporter.Shutdown(absl::Seconds(1)).ok());
  std::vector<std::unique_ptr<SpanData>> batch;
  batch.push_back(Numbered(1));
  EXPECT_EQ(exporter.Export(testing::MakeResource(), batch, absl::InfiniteFuture()).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Names(exporter.MostRecent(10)), (std::vector<std::string>{"s0"}));
}

// One exporter thread (Export's contract: one caller at a time) and three
// query threads running every kind of query until the exporter is done.
// Under --config=tsan this is the data-race check.
TEST(InMemorySpanExporterTest, ConcurrentExportAndQueries) {
  constexpr int kBatches = 200;
  constexpr int kBatchSize = 16;
  InMemorySpanExporter exporter({500, size_t{1} << 30});
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};

  std::thread writer([&] {
    const Resource resource = testing::MakeResource();
    for (int b = 0; b < kBatches; ++b) {
      std::vector<std::unique_ptr<SpanData>> batch;
      for (int i = 0; i < kBatchSize; ++i) {
        const int n = b * kBatchSize + i;
        batch.push_back(Numbered(n, n % 3 == 0 ? kTraceA : kTraceB, n, n % 7 * 100, n % 5 == 0));
      }
      if (!exporter.Export(resource, batch, absl::InfiniteFuture()).ok()) ++failures;
    }
    done = true;
  });

  // Sequence s is span "s<s-1>": nothing is rejected, so export order is
  // sequence order.
  auto consistent = [](const StoredSpan& stored) {
    return stored.span->name == absl::StrCat("s", stored.sequence - 1);
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      int rounds = 0;
      while (!done.load() || rounds < 10) {
        ++rounds;
        SpanQuery query;
        query.limit = 50;
        if (r == 0) query.errors_only = true;
        if (r == 1) query.min_duration = absl::Nanoseconds(300);
        if (r == 2) query.trace_id = TraceId::FromHex(kTraceA);
        uint64_t previous = UINT64_MAX;
        // Walk every page.
        for (int pages = 0; pages < 20; ++pages) {
          const SpanQueryResult page = exporter.Query(query);
          if (page.spans.size() > 50) ++failures;
          for (const StoredSpan& stored : page.spans) {
            if (!consistent(stored)) ++failures;
            if (r == 0 && stored.span->status != StatusCode::kError) ++failures;
            if (r == 1 && stored.span->DurationNanos() < 300) ++failures;
            if (r == 2 && stored.span->context.trace_id() != TraceId::FromHex(kTraceA)) {
              ++failures;
            }
            if (r != 2) {
              if (stored.sequence >= previous) ++failures;  // newest first
              previous = stored.sequence;
            }
          }
          if (page.next_cursor == 0) break;
          query.cursor = page.next_cursor;
        }
        const InMemorySpanStats stats = exporter.Stats();
        if (stats.stored > 500 || stats.stored + stats.evicted != stats.exported) ++failures;
      }
    });
  }
  writer.join();
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(failures.load(), 0);
  const InMemorySpanStats stats = exporter.Stats();
  EXPECT_EQ(stats.exported, static_cast<uint64_t>(kBatches * kBatchSize));
  EXPECT_EQ(stats.stored, 500u);
  EXPECT_EQ(stats.evicted, static_cast<uint64_t>(kBatches * kBatchSize - 500));
}

}  // namespace
}  // namespace tracebridge
