// File: tracebridge/collector/series_delta.h
//
// From cumulative snapshots to intervals. Every tracebridge service reports
// each series (one gRPC method or HTTP route on one side) as totals since it
// started (`tracebridge.v1.Query/GetMetrics`); a collector wants what
// happened between two polls, per instance, and then per service across its
// instances.
//
// `CumulativeTracker` keeps one instance's last snapshot and turns the next
// one into deltas: counts, errors, per-status counts, and the latency
// histogram (`SubtractHistograms`; the duration sum is the histogram's sum).
// A restart is a reset, never a negative delta: when the instance's start
// time changed (GetServiceInfo's `start_unix_nanos`) or any figure went down,
// the whole new snapshot is the interval (what happened since the restart).
// The first snapshot of an instance is a delta when the instance started
// after the collector did (everything it counted is new), and a baseline
// (no delta) when it was already running: its totals cover a time nobody
// can place in one interval.
//
// `AddSeriesDelta` merges instances: counts add, histograms merge
// (`MergeHistograms`), so a service's p50/p90/p99 are quantiles over the
// union of its instances' calls.
//
// Example:
//
//   tracebridge::CumulativeTracker tracker(collector_start_unix_nanos);
//   tracebridge::SeriesDeltas interval =
//       tracker.Update(info.start_unix_nanos(), tracebridge::SeriesFromResponse(metrics));
//   for (const auto& [key, delta] : interval.series) AddSeriesDelta(delta, &service_totals[key]);

#ifndef TRACEBRIDGE_COLLECTOR_SERIES_DELTA_H_
#define TRACEBRIDGE_COLLECTOR_SERIES_DELTA_H_

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "tracebridge/core/metrics/exponential_histogram.h"
#include "tracebridge/v1/query.pb.h"

namespace tracebridge {

// A series' identity: protocol, side, name ("pkg.Service/Method" or
// "METHOD /route").
using SeriesKey = std::tuple<int, int, std::string>;

// One series' figures: cumulative (from a snapshot) or over an interval.
struct SeriesFigures {
  v1::Protocol protocol = v1::PROTOCOL_UNSPECIFIED;
  v1::Side side = v1::SIDE_UNSPECIFIED;
  std::string name;
  // HTTP: the request method and the route template; gRPC: empty.
  std::string http_method;
  std::string route;

  uint64_t count = 0;
  uint64_t errors = 0;
  // Status code → calls.
  std::map<int32_t, uint64_t> status_counts;
  // Seconds. Meaningful only when `latency_valid` (a histogram that failed
  // Validate() or could not be subtracted or merged is left out).
  ExponentialHistogram latency;
  bool latency_valid = false;
};

using SeriesMap = std::map<SeriesKey, SeriesFigures>;

// Every series of a GetMetrics response, histograms converted and checked.
SeriesMap SeriesFromResponse(const v1::GetMetricsResponse& response);

struct SeriesDeltas {
  enum class Kind {
    kBaseline,  // first snapshot of an instance already running: no interval
    kDelta,     // later − previous
    kReset,     // the instance restarted: the snapshot itself is the interval
  };
  Kind kind = Kind::kBaseline;
  // A reset after an earlier snapshot (not an instance seen for the first
  // time): the instance restarted.
  bool restarted = false;
  // Series with calls in the interval (none for a baseline).
  SeriesMap series;
};

class CumulativeTracker {
 public:
  // Instances that started at or after `collector_start_unix_nanos` count
  // from zero on their first snapshot.
  explicit CumulativeTracker(int64_t collector_start_unix_nanos)
      : collector_start_unix_nanos_(collector_start_unix_nanos) {}

  // The interval since the previous snapshot of this instance, which
  // started at `start_unix_nanos`.
  SeriesDeltas Update(int64_t start_unix_nanos, SeriesMap snapshot);

 private:
  const int64_t collector_start_unix_nanos_;
  bool have_previous_ = false;
  int64_t previous_start_ = 0;
  SeriesMap previous_;
};

// Adds `delta` (one instance's interval of a series) into `*total` (the
// series across instances): counts add, histograms merge; the first delta
// added to an empty total is copied.
void AddSeriesDelta(const SeriesFigures& delta, SeriesFigures* total);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_COLLECTOR_SERIES_DELTA_H_
