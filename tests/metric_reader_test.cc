// PeriodicMetricReader and its wiring into Telemetry: collections on the
// interval, on ForceFlush and at Shutdown; failures counted; an export that
// overruns Shutdown cancelled; recording never waiting for an export; the
// OTEL_METRIC_EXPORT_* and TRACEBRIDGE_METRICS_NAMING variables.

#include "tracebridge/core/metric_reader.h"

#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/testing/scoped_env.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/telemetry.h"

namespace tracebridge {
namespace {

// Keeps what it is given; can be told to fail, or to hold an export until
// released or shut down.
class RecordingExporter final : public MetricExporter {
 public:
  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<MetricsSnapshot> snapshots;
    std::vector<absl::Time> deadlines;
    int shutdowns = 0;
    bool fail = false;
    bool hold = false;     // Export waits while set (and not shut down)
    bool holding = false;  // an Export is waiting
  };

  explicit RecordingExporter(std::shared_ptr<State> state) : state_(std::move(state)) {}

  absl::string_view Name() const noexcept override { return "recording"; }

  absl::Status Export(const Resource& resource, const MetricsSnapshot& snapshot,
                      absl::Time deadline) override {
    std::unique_lock<std::mutex> lock(state_->mutex);
    EXPECT_EQ(resource.service_name, "reader-test");
    state_->holding = state_->hold;
    state_->changed.notify_all();
    state_->changed.wait(lock, [&] { return !state_->hold || state_->shutdowns > 0; });
    const bool cancelled = state_->holding && state_->shutdowns > 0;
    state_->holding = false;
    state_->snapshots.push_back(snapshot);
    state_->deadlines.push_back(deadline);
    state_->changed.notify_all();
    if (cancelled) return absl::CancelledError("shut down while exporting");
    return state_->fail ? absl::UnavailableError("backend down") : absl::OkStatus();
  }

  absl::Status Shutdown(absl::Duration) override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    ++state_->shutdowns;
    state_->changed.notify_all();
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<State> state_;
};

std::string SpanFile() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/metric_reader_test_spans.jsonl";
}

Resource TestResource() {
  Resource resource;
  resource.service_name = "reader-test";
  return resource;
}

std::unique_ptr<PeriodicMetricReader> MakeReader(const Registry& registry,
                                                 std::shared_ptr<RecordingExporter::State> state,
                                                 absl::Duration interval) {
  std::vector<std::unique_ptr<MetricExporter>> exporters;
  exporters.push_back(std::make_unique<RecordingExporter>(std::move(state)));
  MetricReaderOptions options;
  options.interval = interval;
  options.timeout = absl::Seconds(7);
  auto reader =
      PeriodicMetricReader::Create(registry, TestResource(), std::move(exporters), options);
  EXPECT_TRUE(reader.ok()) << reader.status();
  return reader.ok() ? *std::move(reader) : nullptr;
}

uint64_t StartedOf(const MetricsSnapshot& snapshot) {
  uint64_t started = 0;
  for (const SeriesSnapshot& series : snapshot.series) started += series.started;
  return started;
}

TEST(MetricReaderTest, CollectsEveryInterval) {
  Registry registry;
  Series* series = registry.RegisterGrpcMethod(Side::kServer, "s", "m");
  series->Start();
  auto state = std::make_shared<RecordingExporter::State>();
  auto reader = MakeReader(registry, state, absl::Milliseconds(20));
  ASSERT_NE(reader, nullptr);
  {
    std::unique_lock<std::mutex> lock(state->mutex);
    ASSERT_TRUE(state->changed.wait_for(lock, std::chrono::seconds(30),
                                        [&] { return state->snapshots.size() >= 3; }));
    EXPECT_EQ(StartedOf(state->snapshots[0]), 1u);
    // Each collection is bounded by the timeout from its start.
    for (size_t i = 0; i < state->snapshots.size(); ++i) {
      const absl::Time taken = absl::FromUnixNanos(state->snapshots[i].unix_nanos);
      EXPECT_GE(state->deadlines[i], taken + absl::Seconds(6));
      EXPECT_LE(state->deadlines[i], taken + absl::Seconds(7));
    }
  }
  EXPECT_GE(reader->Stats().collections, 3u);
  EXPECT_TRUE(reader->Shutdown(absl::Seconds(5)).ok());
}

TEST(MetricReaderTest, ForceFlushExportsNowAndShutdownExportsOnceMore) {
  Registry registry;
  Series* series = registry.RegisterGrpcMethod(Side::kServer, "s", "m");
  auto state = std::make_shared<RecordingExporter::State>();
  auto reader = MakeReader(registry, state, absl::Hours(1));
  ASSERT_NE(reader, nullptr);
  series->Start();
  ASSERT_TRUE(reader->ForceFlush(absl::Seconds(10)).ok());
  series->Start();
  series->Start();
  ASSERT_TRUE(reader->Shutdown(absl::Seconds(10)).ok());
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    ASSERT_EQ(state->snapshots.size(), 2u);
    EXPECT_EQ(StartedOf(state->snapshots[0]), 1u);
    EXPECT_EQ(StartedOf(state->snapshots[1]), 3u);  // the last figures
    EXPECT_EQ(state->shutdowns, 1);
  }
  EXPECT_EQ(reader->ForceFlush(absl::Seconds(1)).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(reader->Shutdown(absl::Seconds(1)).ok());  // idempotent
  const MetricReaderStats stats = reader->Stats();
  EXPECT_EQ(stats.collections, 2u);
  EXPECT_EQ(stats.exports, 2u);
  EXPECT_EQ(stats.export_failures, 0u);
}

TEST(MetricReaderTest, FailuresAreCountedAndReported) {
  Registry registry;
  auto state = std::make_shared<RecordingExporter::State>();
  state->fail = true;
  auto reader = MakeReader(registry, state, absl::Hours(1));
  ASSERT_NE(reader, nullptr);
  const absl::Status status = reader->ForceFlush(absl::Seconds(10));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(status.message(), "recording: backend down")) << status;
  EXPECT_EQ(reader->Stats().export_failures, 1u);
}

// Recording goes on while an export is stuck; Shutdown gives up on it at its
// bound by shutting the exporter down, which ends the export.
TEST(MetricReaderTest, AStuckExportBlocksNeitherRecordingNorShutdown) {
  Registry registry;
  Series* series = registry.RegisterGrpcMethod(Side::kServer, "s", "m");
  auto state = std::make_shared<RecordingExporter::State>();
  state->hold = true;
  auto reader = MakeReader(registry, state, absl::Milliseconds(1));
  ASSERT_NE(reader, nullptr);
  {
    std::unique_lock<std::mutex> lock(state->mutex);
    ASSERT_TRUE(
        state->changed.wait_for(lock, std::chrono::seconds(30), [&] { return state->holding; }));
  }
  for (int i = 0; i < 10000; ++i) {
    series->Start();
    series->Finish(0, 1000);
  }
  EXPECT_EQ(StartedOf(registry.Snapshot()), 10000u);
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    EXPECT_TRUE(state->holding);  // still stuck: recording did not wait for it
  }
  // The stuck export ends cancelled, and so does the final one.
  EXPECT_EQ(reader->Shutdown(absl::Milliseconds(100)).code(), absl::StatusCode::kCancelled);
  std::lock_guard<std::mutex> lock(state->mutex);
  EXPECT_FALSE(state->holding);
  EXPECT_EQ(state->shutdowns, 1);
}

TEST(MetricReaderTest, RejectsBadOptions) {
  Registry registry;
  MetricReaderOptions options;
  options.interval = absl::ZeroDuration();
  std::vector<std::unique_ptr<MetricExporter>> exporters;
  exporters.push_back(
      std::make_unique<RecordingExporter>(std::make_shared<RecordingExporter::State>()));
  EXPECT_FALSE(
      PeriodicMetricReader::Create(registry, TestResource(), std::move(exporters), options).ok());
  EXPECT_FALSE(PeriodicMetricReader::Create(registry, TestResource(), {}, {}).ok());
}

using testing::ScopedEnv;

TEST(MetricReaderTest, OptionsFromEnvironment) {
  {
    auto options = MetricReaderOptions::FromEnvironment();
    ASSERT_TRUE(options.ok());
    EXPECT_EQ(options->interval, absl::Seconds(60));
    EXPECT_EQ(options->timeout, absl::Seconds(30));
  }
  {
    ScopedEnv interval("OTEL_METRIC_EXPORT_INTERVAL", "1500");
    ScopedEnv timeout("OTEL_METRIC_EXPORT_TIMEOUT", "250");
    auto options = MetricReaderOptions::FromEnvironment();
    ASSERT_TRUE(options.ok());
    EXPECT_EQ(options->interval, absl::Milliseconds(1500));
    EXPECT_EQ(options->timeout, absl::Milliseconds(250));
  }
  {
    ScopedEnv empty("OTEL_METRIC_EXPORT_INTERVAL", "");
    EXPECT_TRUE(MetricReaderOptions::FromEnvironment().ok());
  }
  for (const char* bad : {"0", "-5", "1s", "ten"}) {
    ScopedEnv interval("OTEL_METRIC_EXPORT_INTERVAL", bad);
    auto options = MetricReaderOptions::FromEnvironment();
    ASSERT_FALSE(options.ok()) << bad;
    EXPECT_TRUE(absl::StrContains(options.status().message(), "OTEL_METRIC_EXPORT_INTERVAL"));
    // Build reports it.
    EXPECT_FALSE(TelemetryBuilder::FromEnvironment().SetSpanStore({}, false).Build().ok());
  }
}

TEST(MetricReaderTest, NamingFromEnvironment) {
  {
    ScopedEnv naming("TRACEBRIDGE_METRICS_NAMING", "grpc_prometheus");
    auto telemetry = TelemetryBuilder::FromEnvironment().SetDefaultSpanFile(SpanFile()).Build();
    ASSERT_TRUE(telemetry.ok()) << telemetry.status();
    EXPECT_EQ((*telemetry)->metrics().naming(), MetricsNaming::kGrpcPrometheus);
    EXPECT_EQ((*telemetry)->metrics().Snapshot().naming, MetricsNaming::kGrpcPrometheus);
  }
  {
    ScopedEnv naming("TRACEBRIDGE_METRICS_NAMING", "prometheus");
    auto telemetry = TelemetryBuilder::FromEnvironment().SetDefaultSpanFile(SpanFile()).Build();
    ASSERT_FALSE(telemetry.ok());
    EXPECT_TRUE(absl::StrContains(telemetry.status().message(), "TRACEBRIDGE_METRICS_NAMING"));
  }
  auto telemetry = TelemetryBuilder()
                       .SetMetricsNaming(MetricsNaming::kGrpcPrometheus)
                       .SetDefaultSpanFile(SpanFile())
                       .Build();
  ASSERT_TRUE(telemetry.ok());
  EXPECT_EQ((*telemetry)->metrics().naming(), MetricsNaming::kGrpcPrometheus);
}

// A Telemetry with a metric exporter pushes at ForceFlush and at Shutdown,
// after the span pipeline, and counts its pushes in its self-metrics.
TEST(MetricReaderTest, TelemetryOwnsTheReader) {
  auto state = std::make_shared<RecordingExporter::State>();
  MetricReaderOptions options;
  options.interval = absl::Hours(1);
  auto telemetry = TelemetryBuilder()
                       .SetServiceName("reader-test")
                       .SetDefaultSpanFile(SpanFile())
                       .AddMetricExporter(std::make_unique<RecordingExporter>(state))
                       .SetMetricReaderOptions(options)
                       .Build();
  ASSERT_TRUE(telemetry.ok()) << telemetry.status();
  ASSERT_NE((*telemetry)->metric_reader(), nullptr);
  (*telemetry)->tracer().StartSpan("one").End();
  ASSERT_TRUE((*telemetry)->ForceFlush(absl::Seconds(10)).ok());
  (*telemetry)->tracer().StartSpan("two").End();
  ASSERT_TRUE((*telemetry)->Shutdown(absl::Seconds(10)).ok());
  std::lock_guard<std::mutex> lock(state->mutex);
  ASSERT_EQ(state->snapshots.size(), 2u);
  EXPECT_EQ(state->shutdowns, 1);
  auto value = [](const MetricsSnapshot& snapshot, absl::string_view name) {
    for (const MetricFamily& family : snapshot.families) {
      if (family.name == name && !family.samples.empty()) return family.samples[0].value;
    }
    return -1.0;
  };
  EXPECT_EQ(value(state->snapshots[0], "tracebridge_spans_exported_total"), 1);
  EXPECT_EQ(value(state->snapshots[1], "tracebridge_spans_exported_total"), 2);
  EXPECT_EQ(value(state->snapshots[1], "tracebridge_metric_exports_total"), 1);
  EXPECT_EQ((*telemetry)->Stats().metric_reader.exports, 2u);
}

}  // namespace
}  // namespace tracebridge
