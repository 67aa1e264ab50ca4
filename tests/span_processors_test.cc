// The batch and simple span processors: batching, flush, shutdown, overload.

#include "tracebridge/core/export/span_processors.h"

#include <stdlib.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"
#include "tests/testing/fake_exporter.h"

namespace tracebridge {
namespace {

using testing::FakeExporter;

std::unique_ptr<SpanData> MakeSpan(std::string name) {
  auto span = std::make_unique<SpanData>();
  span->name = std::move(name);
  span->context =
      SpanContext(TraceId::Generate(), SpanId::Generate(), TraceFlags::Sampled(), false);
  return span;
}

struct Pipeline {
  std::shared_ptr<FakeExporter::State> exporter;
  std::unique_ptr<BatchSpanProcessor> processor;
};

Pipeline MakeBatch(BatchSpanProcessorOptions options) {
  auto exporter = std::make_unique<FakeExporter>();
  Pipeline pipeline{exporter->state(), nullptr};
  auto processor = BatchSpanProcessor::Create(std::move(exporter), Resource{"svc", {}}, options);
  EXPECT_TRUE(processor.ok()) << processor.status();
  pipeline.processor = std::move(*processor);
  return pipeline;
}

TEST(BatchSpanProcessorTest, FlushExportsEverythingInOrderWithTheResource) {
  BatchSpanProcessorOptions options;
  options.max_export_batch_size = 4;
  options.max_queue_size = 64;
  Pipeline p = MakeBatch(options);
  for (int i = 0; i < 10; ++i) p.processor->OnEnd(MakeSpan("s" + std::to_string(i)));
  ASSERT_TRUE(p.processor->ForceFlush(absl::Seconds(10)).ok());
  std::lock_guard<std::mutex> lock(p.exporter->mutex);
  ASSERT_EQ(p.exporter->names.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(p.exporter->names[i], "s" + std::to_string(i));
  for (size_t size : p.exporter->batch_sizes) EXPECT_LE(size, 4u);
  EXPECT_EQ(p.exporter->service_name, "svc");
}

TEST(BatchSpanProcessorTest, ExportsAfterTheScheduleDelayWithoutAFlush) {
  BatchSpanProcessorOptions options;
  options.schedule_delay = absl::Milliseconds(20);
  Pipeline p = MakeBatch(options);
  for (int i = 0; i < 3; ++i) p.processor->OnEnd(MakeSpan("s"));
  EXPECT_TRUE(p.exporter->WaitForExported(3));
}

TEST(BatchSpanProcessorTest, AFullBatchIsExportedBeforeTheDelay) {
  BatchSpanProcessorOptions options;
  options.schedule_delay = absl::Hours(1);
  options.max_export_batch_size = 8;
  Pipeline p = MakeBatch(options);
  for (int i = 0; i < 8; ++i) p.processor->OnEnd(MakeSpan("s"));
  EXPECT_TRUE(p.exporter->WaitForExported(8));
}

TEST(BatchSpanProcessorTest, OverloadDropsExactlyAndNeverExceedsTheBound) {
  BatchSpanProcessorOptions options;
  options.max_queue_size = 100;
  options.max_export_batch_size = 10;
  options.schedule_delay = absl::Milliseconds(1);
  Pipeline p = MakeBatch(options);
  p.exporter->Stall();
  // Let the export thread get stuck holding one batch.
  for (int i = 0; i < 10; ++i) p.processor->OnEnd(MakeSpan("first"));
  ASSERT_TRUE(p.exporter->WaitUntilStuck());

  constexpr int kThreads = 2;
  constexpr int kPerThread = 500;  // 10x the queue capacity in all
  std::atomic<size_t> max_seen{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        p.processor->OnEnd(MakeSpan("load"));
        size_t length = p.processor->Stats().queue_length;
        size_t seen = max_seen.load();
        while (length > seen && !max_seen.compare_exchange_weak(seen, length)) {
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  // OnEnd returned for every span while the exporter was stuck.
  EXPECT_LE(max_seen.load(), options.max_queue_size);
  SpanProcessorStats during = p.processor->Stats();
  EXPECT_EQ(during.queue_length, options.max_queue_size);
  EXPECT_EQ(during.dropped_queue_full, 10 + kThreads * kPerThread - 10 - 100);

  p.exporter->Release();
  ASSERT_TRUE(p.processor->ForceFlush(absl::Seconds(10)).ok());
  SpanProcessorStats after = p.processor->Stats();
  const uint64_t offered = 10 + kThreads * kPerThread;
  EXPECT_EQ(after.exported, p.exporter->exported());
  EXPECT_EQ(after.exported, 10u + 100u);  // the stuck batch and the full queue
  EXPECT_EQ(after.dropped_queue_full, offered - after.exported);
  EXPECT_EQ(after.queue_length, 0u);
}

// Spans that fill a batch while the export thread is busy with an earlier
// one must wake it: a lost wake-up leaves them waiting for the schedule
// delay (an hour here) while the queue fills and spans drop. The producer
// keeps the queue at most half full, so with every wake-up delivered
// nothing drops.
TEST(BatchSpanProcessorTest, BatchesFilledDuringAnExportAreExportedWithoutTheDelay) {
  BatchSpanProcessorOptions options;
  options.max_queue_size = 64;
  options.max_export_batch_size = 8;
  options.schedule_delay = absl::Hours(1);
  Pipeline p = MakeBatch(options);
  constexpr size_t kSpans = 100000;
  for (size_t i = 0; i < kSpans; ++i) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    size_t queued;
    while ((queued = p.processor->Stats().queue_length) >= options.max_queue_size / 2) {
      ASSERT_LT(absl::Now(), deadline)
          << "the export thread slept with " << queued << " spans queued, after " << i << " spans";
      std::this_thread::yield();
    }
    p.processor->OnEnd(MakeSpan("s"));
  }
  ASSERT_TRUE(p.processor->ForceFlush(absl::Seconds(10)).ok());
  const SpanProcessorStats stats = p.processor->Stats();
  EXPECT_EQ(stats.exported, kSpans);
  EXPECT_EQ(stats.dropped_queue_full, 0u);
}

TEST(BatchSpanProcessorTest, FlushTimesOutAgainstAStuckExporterThenRecovers) {
  BatchSpanProcessorOptions options;
  options.schedule_delay = absl::Milliseconds(1);
  Pipeline p = MakeBatch(options);
  p.exporter->Stall();
  p.processor->OnEnd(MakeSpan("stuck"));
  ASSERT_TRUE(p.exporter->WaitUntilStuck());
  p.processor->OnEnd(MakeSpan("queued"));
  absl::Status status = p.processor->ForceFlush(absl::Milliseconds(50));
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  p.exporter->Release();
  EXPECT_TRUE(p.processor->ForceFlush(absl::Seconds(10)).ok());
  EXPECT_EQ(p.exporter->exported(), 2u);
}

TEST(BatchSpanProcessorTest, ShutdownFlushesThenDropsAndCounts) {
  Pipeline p = MakeBatch({});
  for (int i = 0; i < 5; ++i) p.processor->OnEnd(MakeSpan("before"));
  ASSERT_TRUE(p.processor->Shutdown(absl::Seconds(10)).ok());
  EXPECT_EQ(p.exporter->exported(), 5u);
  for (int i = 0; i < 3; ++i) p.processor->OnEnd(MakeSpan("after"));
  EXPECT_TRUE(p.processor->ForceFlush(absl::Seconds(1)).ok());
  EXPECT_EQ(p.exporter->exported(), 5u);  // nothing exported after shutdown
  SpanProcessorStats stats = p.processor->Stats();
  EXPECT_EQ(stats.dropped_shutdown, 3u);
  EXPECT_EQ(stats.exported, 5u);
  EXPECT_TRUE(p.processor->Shutdown(absl::Seconds(1)).ok());  // idempotent
  std::lock_guard<std::mutex> lock(p.exporter->mutex);
  EXPECT_EQ(p.exporter->shutdown_calls, 1);
}

TEST(BatchSpanProcessorTest, FailedExportsAreCountedAsDropped) {
  Pipeline p = MakeBatch({});
  p.exporter->FailWith(absl::UnavailableError("backend down"));
  for (int i = 0; i < 7; ++i) p.processor->OnEnd(MakeSpan("s"));
  ASSERT_TRUE(p.processor->ForceFlush(absl::Seconds(10)).ok());
  SpanProcessorStats stats = p.processor->Stats();
  EXPECT_EQ(stats.dropped_export_failed, 7u);
  EXPECT_EQ(stats.export_failures, stats.export_calls);
  EXPECT_GE(stats.export_calls, 1u);
  EXPECT_EQ(stats.exported, 0u);
}

TEST(BatchSpanProcessorTest, DestructionWithQueuedSpansLosesNothingUncounted) {
  auto exporter = std::make_unique<FakeExporter>();
  auto state = exporter->state();
  {
    BatchSpanProcessorOptions options;
    options.schedule_delay = absl::Hours(1);
    auto processor = *BatchSpanProcessor::Create(std::move(exporter), Resource{}, options);
    for (int i = 0; i < 20; ++i) processor->OnEnd(MakeSpan("s"));
  }
  EXPECT_EQ(state->exported(), 20u);  // the destructor shut down, which flushes
}

TEST(BatchSpanProcessorTest, OptionsAreValidated) {
  auto make = [](BatchSpanProcessorOptions options) {
    return BatchSpanProcessor::Create(std::make_unique<FakeExporter>(), Resource{}, options)
        .status();
  };
  BatchSpanProcessorOptions bad;
  bad.max_export_batch_size = 4096;  // larger than the queue
  EXPECT_EQ(make(bad).code(), absl::StatusCode::kInvalidArgument);
  bad = {};
  bad.max_queue_size = 0;
  EXPECT_EQ(make(bad).code(), absl::StatusCode::kInvalidArgument);
  bad = {};
  bad.schedule_delay = absl::ZeroDuration();
  EXPECT_EQ(make(bad).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BatchSpanProcessor::Create(nullptr, Resource{}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BatchSpanProcessorTest, OptionsFromEnvironment) {
  setenv("OTEL_BSP_MAX_QUEUE_SIZE", "4096", 1);
  setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "256", 1);
  setenv("OTEL_BSP_SCHEDULE_DELAY", "250", 1);
  setenv("OTEL_BSP_EXPORT_TIMEOUT", "1000", 1);
  auto options = BatchSpanProcessorOptions::FromEnvironment();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->max_queue_size, 4096u);
  EXPECT_EQ(options->max_export_batch_size, 256u);
  EXPECT_EQ(options->schedule_delay, absl::Milliseconds(250));
  EXPECT_EQ(options->export_timeout, absl::Seconds(1));
  setenv("OTEL_BSP_SCHEDULE_DELAY", "soon", 1);
  auto bad = BatchSpanProcessorOptions::FromEnvironment();
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("OTEL_BSP_SCHEDULE_DELAY"), absl::string_view::npos);
  for (const char* name : {"OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                           "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT"}) {
    unsetenv(name);
  }
  auto defaults = BatchSpanProcessorOptions::FromEnvironment();
  EXPECT_EQ(defaults->max_queue_size, 2048u);
  EXPECT_EQ(defaults->max_export_batch_size, 512u);
  EXPECT_EQ(defaults->schedule_delay, absl::Seconds(5));
  EXPECT_EQ(defaults->export_timeout, absl::Seconds(30));
}

TEST(SimpleSpanProcessorTest, ExportsOnEndAndStopsAtShutdown) {
  auto exporter = std::make_unique<FakeExporter>();
  auto state = exporter->state();
  SimpleSpanProcessor processor(std::move(exporter), Resource{"svc", {}});
  processor.OnEnd(MakeSpan("a"));
  EXPECT_EQ(state->exported(), 1u);
  ASSERT_TRUE(processor.Shutdown(absl::Seconds(1)).ok());
  processor.OnEnd(MakeSpan("b"));
  EXPECT_EQ(state->exported(), 1u);
  EXPECT_EQ(processor.Stats().dropped_shutdown, 1u);
}

}  // namespace
}  // namespace tracebridge
