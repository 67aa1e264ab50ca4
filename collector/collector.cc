#include "tracebridge/collector/collector.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "tracebridge/collector/line_protocol.h"
#include "tracebridge/collector/series_delta.h"
#include "tracebridge/core/metrics/naming.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/util/utf8.h"
#include "tracebridge/v1/query.grpc.pb.h"

namespace tracebridge {
namespace {

// GetMetrics of a service at its series cap (2000 series with histograms)
// stays well below this.
constexpr int kMaxResponseBytes = 64 << 20;

enum class TargetState { kUnknown, kUp, kDown };

// A round's result for one target.
struct PollResult {
  bool ok = false;
  std::string error;
  std::string service;
  size_t series = 0;
  SeriesDeltas deltas;
};

int64_t InPrecision(int64_t unix_nanos, const std::string& precision) {
  if (precision == "s") return unix_nanos / 1'000'000'000;
  if (precision == "ms") return unix_nanos / 1'000'000;
  if (precision == "u") return unix_nanos / 1'000;
  return unix_nanos;
}

std::string Measurement(const SeriesFigures& series) {
  return absl::StrCat(series.protocol == v1::PROTOCOL_HTTP ? "http_" : "rpc_",
                      series.side == v1::SIDE_CLIENT ? "client" : "server");
}

// Tags every point of a series carries, sorted by key, before `status`.
std::vector<std::pair<std::string, std::string>> SeriesTags(const std::string& service,
                                                            const SeriesFigures& series) {
  if (series.protocol == v1::PROTOCOL_HTTP) {
    return {{"method", series.http_method}, {"route", series.route}, {"service", service}};
  }
  return {{"method", series.name}, {"service", service}};
}

void AddSeriesPoints(const std::string& service, const SeriesFigures& series, int64_t timestamp,
                     std::vector<std::string>* lines) {
  const bool grpc = series.protocol != v1::PROTOCOL_HTTP;
  LinePoint point;
  point.measurement = Measurement(series);
  point.timestamp = timestamp;
  point.tags = SeriesTags(service, series);
  point.tags.emplace_back("status", "all");
  point.fields = {{"count", static_cast<int64_t>(series.count)},
                  {"errors", static_cast<int64_t>(series.errors)}};
  if (series.latency_valid) {
    const ExponentialHistogram& latency = series.latency;
    point.fields.emplace_back("duration_sum_seconds", latency.sum);
    if (latency.count > 0) {
      point.fields.emplace_back("p50_seconds", latency.Quantile(0.50));
      point.fields.emplace_back("p90_seconds", latency.Quantile(0.90));
      point.fields.emplace_back("p99_seconds", latency.Quantile(0.99));
    }
    if (latency.max.has_value()) point.fields.emplace_back("max_seconds", *latency.max);
    point.fields.emplace_back("scale", static_cast<int64_t>(latency.scale));
    point.fields.emplace_back("zero_count", static_cast<int64_t>(latency.zero_count));
    for (size_t i = 0; i < latency.bucket_counts.size(); ++i) {
      if (latency.bucket_counts[i] == 0) continue;
      point.fields.emplace_back(absl::StrCat("bucket_", static_cast<int64_t>(latency.offset) + i),
                                static_cast<int64_t>(latency.bucket_counts[i]));
    }
  }
  std::string line;
  if (AppendLineProtocol(point, &line)) lines->push_back(line.substr(0, line.size() - 1));

  // One point per status code: its calls, and how many of them are errors.
  const Protocol protocol = grpc ? Protocol::kGrpc : Protocol::kHttp;
  const Side side = series.side == v1::SIDE_CLIENT ? Side::kClient : Side::kServer;
  for (const auto& [code, count] : series.status_counts) {
    point.tags.back().second = StatusTagValue(grpc, code);
    point.fields = {
        {"count", static_cast<int64_t>(count)},
        {"errors", IsErrorStatus(protocol, side, code) ? static_cast<int64_t>(count) : int64_t{0}}};
    line.clear();
    if (AppendLineProtocol(point, &line)) lines->push_back(line.substr(0, line.size() - 1));
  }
}

void AddLine(const LinePoint& point, std::vector<std::string>* lines) {
  std::string line;
  if (AppendLineProtocol(point, &line)) {
    line.pop_back();
    lines->push_back(std::move(line));
  }
}

}  // namespace

std::string StatusTagValue(bool grpc, int32_t code) {
  if (grpc) {
    const absl::string_view name = GrpcStatusName(code);
    return name.empty() ? "other" : std::string(name);
  }
  return code >= 100 && code <= 599 ? absl::StrCat(code) : "other";
}

struct MetricsCollector::Target {
  CollectorTarget spec;
  std::unique_ptr<v1::Query::Stub> stub;
  CumulativeTracker tracker;
  TargetState state = TargetState::kUnknown;

  Target(CollectorTarget target, const CollectorOptions& options, int64_t start_unix_nanos)
      : spec(std::move(target)), tracker(start_unix_nanos) {
    grpc::ChannelArguments args;
    // A target that was down is tried again every round, not after gRPC's
    // default reconnect backoff (up to two minutes).
    const int backoff_ms = static_cast<int>(
        std::clamp<int64_t>(absl::ToInt64Milliseconds(options.interval) / 2, 100, 10000));
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, backoff_ms);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, backoff_ms);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, backoff_ms);
    args.SetMaxReceiveMessageSize(kMaxResponseBytes);
    stub = v1::Query::NewStub(
        grpc::CreateCustomChannel(spec.address, grpc::InsecureChannelCredentials(), args));
  }

  PollResult Poll(absl::Time deadline, const std::string& bearer_token) {
    PollResult result;
    auto prepare = [&](grpc::ClientContext& context) {
      context.set_deadline(absl::ToChronoTime(deadline));
      if (!bearer_token.empty()) context.AddMetadata("authorization", "Bearer " + bearer_token);
    };
    grpc::ClientContext info_context;
    prepare(info_context);
    v1::ServiceInfo info;
    grpc::Status status = stub->GetServiceInfo(&info_context, v1::GetServiceInfoRequest(), &info);
    v1::GetMetricsResponse metrics;
    if (status.ok()) {
      grpc::ClientContext metrics_context;
      prepare(metrics_context);
      status = stub->GetMetrics(&metrics_context, v1::GetMetricsRequest(), &metrics);
    }
    if (!status.ok()) {
      result.error = ValidUtf8Copy(absl::StrCat("GetServiceInfo/GetMetrics: ", status.error_code(),
                                                " ", status.error_message()),
                                   1024);
      return result;
    }
    result.ok = true;
    result.service = !spec.service.empty()             ? spec.service
                     : !metrics.service_name().empty() ? metrics.service_name()
                     : !info.service_name().empty()    ? info.service_name()
                                                       : "unknown_service";
    result.series = static_cast<size_t>(metrics.series_size());
    result.deltas =
        tracker.Update(static_cast<int64_t>(info.start_unix_nanos()), SeriesFromResponse(metrics));
    return result;
  }
};

absl::StatusOr<std::unique_ptr<MetricsCollector>> MetricsCollector::Create(
    CollectorOptions options) {
  if (options.targets.empty()) return absl::InvalidArgumentError("no targets to collect from");
  if (options.interval < absl::Milliseconds(10)) {
    return absl::InvalidArgumentError("the interval must be at least 10ms");
  }
  if (options.poll_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the poll timeout must be positive");
  }
  options.poll_timeout = std::min(options.poll_timeout, options.interval);
  if (options.max_concurrent_polls < 1) {
    return absl::InvalidArgumentError("max_concurrent_polls must be at least 1");
  }
  if (!options.influx.log) options.influx.log = options.log;
  absl::StatusOr<std::unique_ptr<InfluxWriter>> writer = InfluxWriter::Start(options.influx);
  if (!writer.ok()) return writer.status();
  return std::unique_ptr<MetricsCollector>(
      new MetricsCollector(std::move(options), *std::move(writer)));
}

MetricsCollector::MetricsCollector(CollectorOptions options, std::unique_ptr<InfluxWriter> writer)
    : options_(std::move(options)),
      start_unix_nanos_(absl::ToUnixNanos(absl::Now())),
      writer_(std::move(writer)) {
  for (const CollectorTarget& target : options_.targets) {
    targets_.push_back(std::make_unique<Target>(target, options_, start_unix_nanos_));
  }
}

MetricsCollector::~MetricsCollector() { Stop(); }

void MetricsCollector::Log(const std::string& message) {
  (options_.log ? options_.log : LogToStderr)(message);
}

void MetricsCollector::CollectOnce() {
  std::lock_guard<std::mutex> round(round_mutex_);
  const absl::Time now = absl::Now();
  const int64_t timestamp = InPrecision(absl::ToUnixNanos(now), options_.influx.precision);
  const absl::Time deadline = now + options_.poll_timeout;

  // Poll: each worker takes the next target; a target is touched by one
  // worker only, and its tracker with it.
  std::vector<PollResult> results(targets_.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < targets_.size();) {
      results[i] = targets_[i]->Poll(deadline, options_.bearer_token);
    }
  };
  const size_t workers =
      std::min(targets_.size(), static_cast<size_t>(options_.max_concurrent_polls));
  std::vector<std::thread> threads;
  for (size_t i = 1; i < workers; ++i) threads.emplace_back(work);
  work();
  for (std::thread& thread : threads) thread.join();

  // Merge each service's instances, then write.
  std::vector<std::string> lines;
  std::map<std::pair<std::string, SeriesKey>, SeriesFigures> services;
  uint64_t failures = 0, resets = 0;
  for (size_t i = 0; i < targets_.size(); ++i) {
    Target& target = *targets_[i];
    PollResult& result = results[i];
    const std::string& service = result.ok                     ? result.service
                                 : target.spec.service.empty() ? target.spec.address
                                                               : target.spec.service;
    LinePoint up;
    up.measurement = "up";
    up.timestamp = timestamp;
    up.tags = {{"instance", target.spec.instance}, {"service", service}};
    if (result.ok) {
      up.fields = {{"up", int64_t{1}}, {"series", static_cast<int64_t>(result.series)}};
      if (target.state == TargetState::kDown) {
        Log(absl::StrCat(service, " at ", target.spec.address, " answers again"));
      }
      target.state = TargetState::kUp;
      if (result.deltas.restarted) {
        ++resets;
        Log(absl::StrCat(service, " at ", target.spec.address,
                         " restarted: its totals since the restart are this interval"));
      }
      for (auto& [key, delta] : result.deltas.series) {
        AddSeriesDelta(delta, &services[{result.service, key}]);
      }
    } else {
      ++failures;
      up.fields = {{"up", int64_t{0}}, {"error", result.error}};
      if (target.state != TargetState::kDown) {
        Log(absl::StrCat(service, " at ", target.spec.address, " is down: ", result.error,
                         " (polled again every round)"));
      }
      target.state = TargetState::kDown;
    }
    AddLine(up, &lines);
  }
  for (const auto& [key, series] : services) {
    AddSeriesPoints(key.first, series, timestamp, &lines);
  }

  CollectorStats stats;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.rounds;
    stats_.polls += targets_.size();
    stats_.poll_failures += failures;
    stats_.resets += resets;
    stats = stats_;
  }
  stats.writer = writer_->stats();
  LinePoint self;
  self.measurement = "tracebridge_collector";
  self.timestamp = timestamp;
  self.fields = {
      {"rounds", static_cast<int64_t>(stats.rounds)},
      {"polls", static_cast<int64_t>(stats.polls)},
      {"poll_failures", static_cast<int64_t>(stats.poll_failures)},
      {"resets", static_cast<int64_t>(stats.resets)},
      {"points_offered", static_cast<int64_t>(stats.writer.offered)},
      {"points_written", static_cast<int64_t>(stats.writer.written)},
      {"points_rejected", static_cast<int64_t>(stats.writer.rejected)},
      {"points_dropped_buffer_full", static_cast<int64_t>(stats.writer.dropped_buffer_full)},
      {"points_buffered", static_cast<int64_t>(stats.writer.buffered)},
      {"write_requests", static_cast<int64_t>(stats.writer.requests)},
      {"write_failures", static_cast<int64_t>(stats.writer.failed_requests)},
  };
  AddLine(self, &lines);
  writer_->Offer(std::move(lines));
}

void MetricsCollector::Start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] {
    absl::Time next = absl::Now();
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        stop_changed_.wait_for(
            lock, absl::ToChronoNanoseconds(std::max(next - absl::Now(), absl::ZeroDuration())),
            [&] { return stopping_; });
        if (stopping_) return;
      }
      CollectOnce();
      next = std::max(next + options_.interval, absl::Now());
    }
  });
}

void MetricsCollector::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  writer_->Stop();
}

CollectorStats MetricsCollector::stats() const {
  CollectorStats stats;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats = stats_;
  }
  stats.writer = writer_->stats();
  return stats;
}

}  // namespace tracebridge
