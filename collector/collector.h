// File: tracebridge/collector/collector.h
//
// `MetricsCollector` gathers many tracebridge services' metrics into one InfluxDB
// 1.x. Every `interval` it polls each target's `tracebridge.v1.Query`
// (GetServiceInfo, then GetMetrics, under one deadline, at most
// `max_concurrent_polls` targets at once), turns each instance's cumulative
// totals into the interval's deltas (collector/series_delta.h: a restart is
// a reset, never a negative delta), merges the instances of each service,
// and hands the points to an `InfluxWriter` (collector/influx_writer.h:
// bounded buffer, retries, exact drop counts). A target that is down, slow
// or not a gRPC server at all is marked down for that round and polled
// again the next; nothing a target or InfluxDB does blocks a round longer
// than `poll_timeout` or stops the collector.
//
// What it writes (one timestamp per round, in the writer's precision):
//
//   rpc_server, rpc_client, http_server, http_client   one measurement per
//       protocol and side. Tags: service; method ("pkg.Service/Method" for
//       gRPC, the request method "GET" for HTTP); route (HTTP: the route
//       template, "/orders/:id"); status.
//       status=all: the series' totals over the interval across the
//         service's instances: count, errors (integers); duration_sum_seconds,
//         p50_seconds, p90_seconds, p99_seconds, max_seconds (floats; from
//         the merged histogram, left out when its distribution is unknown);
//         the histogram itself: scale, zero_count and bucket_<index> for each
//         non-empty bucket (integers; bucket i holds durations in
//         (2^(i·2^-scale), 2^((i+1)·2^-scale)] seconds).
//       status=<code> (gRPC: "OK", "NOT_FOUND", …; HTTP: "200", …; "other"
//         for codes outside the ranges): count and errors of the calls that
//         ended with that code.
//       A series without calls in the interval writes nothing.
//   up   one point per target and round. Tags: service, instance. Fields:
//       up (1 or 0), series (integer, when up), error (string, when down).
//   tracebridge_collector   the collector's own counters (see
//       CollectorStats), cumulative since it started.
//
// Example:
//
//   tracebridge::CollectorOptions options;
//   options.targets = {*tracebridge::ParseCollectorTarget("orders=127.0.0.1:7001")};
//   options.influx.url = "http://127.0.0.1:8086";
//   absl::StatusOr<std::unique_ptr<tracebridge::MetricsCollector>> collector =
//       tracebridge::MetricsCollector::Create(options);
//   if (!collector.ok()) return collector.status();
//   (*collector)->Start();   // a round now, then every interval
//   ...
//   (*collector)->Stop();    // the last points are flushed

#ifndef TRACEBRIDGE_COLLECTOR_COLLECTOR_H_
#define TRACEBRIDGE_COLLECTOR_COLLECTOR_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tracebridge/collector/influx_writer.h"
#include "tracebridge/collector/targets.h"

namespace tracebridge {

struct CollectorOptions {
  std::vector<CollectorTarget> targets;
  absl::Duration interval = absl::Seconds(10);
  // Both RPCs of one target's poll; at most `interval`.
  absl::Duration poll_timeout = absl::Seconds(5);
  int max_concurrent_polls = 16;
  // Sent as `authorization: Bearer <token>` to admin listeners that require
  // one.
  std::string bearer_token;
  InfluxWriterOptions influx;
  // Where the collector says what changed (a target down or up again, a
  // restart, InfluxDB failing): once per change, not per round. Default:
  // stderr. Also the writer's, unless influx.log is set.
  std::function<void(const std::string&)> log;
};

struct CollectorStats {
  uint64_t rounds = 0;
  uint64_t polls = 0;
  uint64_t poll_failures = 0;
  // Instances seen restarting (their totals taken as the interval).
  uint64_t resets = 0;
  InfluxWriterStats writer;
};

class MetricsCollector {
 public:
  // InvalidArgument for no targets, a bad bound or interval, or bad
  // InfluxDB options.
  static absl::StatusOr<std::unique_ptr<MetricsCollector>> Create(CollectorOptions options);
  // Stops (see Stop).
  ~MetricsCollector();
  MetricsCollector(const MetricsCollector&) = delete;
  MetricsCollector& operator=(const MetricsCollector&) = delete;

  // One round, now, on the calling thread: poll, compute, hand to the
  // writer (which sends on its own thread). Rounds never overlap.
  void CollectOnce();

  // Rounds on a thread of the collector's own: one now, then every
  // interval (a round that overruns is followed at once by the next).
  void Start();

  // Ends the rounds, then stops the writer (flushing for at most
  // influx.flush_timeout). Idempotent.
  void Stop();

  CollectorStats stats() const;
  InfluxWriter& writer() { return *writer_; }

 private:
  struct Target;
  MetricsCollector(CollectorOptions options, std::unique_ptr<InfluxWriter> writer);
  void Log(const std::string& message);

  const CollectorOptions options_;
  const int64_t start_unix_nanos_;
  std::unique_ptr<InfluxWriter> writer_;
  std::vector<std::unique_ptr<Target>> targets_;

  std::mutex round_mutex_;  // one round at a time
  mutable std::mutex mutex_;
  std::condition_variable stop_changed_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  CollectorStats stats_ ABSL_GUARDED_BY(mutex_);
  std::thread thread_;
};

// The status tag of a code: gRPC code names ("OK", …), HTTP codes as
// numbers ("404"), "other" outside 0-16 / 100-599.
std::string StatusTagValue(bool grpc, int32_t code);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_COLLECTOR_COLLECTOR_H_
