#include "tracebridge/collector/series_delta.h"

#include <utility>

#include "tracebridge/v1/histogram_conversion.h"

namespace tracebridge {
namespace {

bool HasCalls(const SeriesFigures& series) {
  return series.count > 0 || series.errors > 0 ||
         (series.latency_valid && series.latency.count > 0);
}

// later − earlier of one series; false when any figure went down.
bool Subtract(const SeriesFigures& later, const SeriesFigures& earlier, SeriesFigures* out) {
  if (later.count < earlier.count || later.errors < earlier.errors) return false;
  *out = later;
  out->count = later.count - earlier.count;
  out->errors = later.errors - earlier.errors;
  for (const auto& [code, count] : earlier.status_counts) {
    auto it = out->status_counts.find(code);
    const uint64_t now = it == out->status_counts.end() ? 0 : it->second;
    if (now < count) return false;
    if (now == count) {
      out->status_counts.erase(it);
    } else {
      it->second = now - count;
    }
  }
  if (later.latency_valid && earlier.latency_valid) {
    absl::StatusOr<ExponentialHistogram> latency =
        SubtractHistograms(later.latency, earlier.latency);
    if (latency.status().code() == absl::StatusCode::kFailedPrecondition) return false;
    out->latency_valid = latency.ok();
    if (latency.ok()) out->latency = *std::move(latency);
  } else {
    // Without both ends the interval's distribution is unknown.
    out->latency_valid = false;
  }
  return true;
}

}  // namespace

SeriesMap SeriesFromResponse(const v1::GetMetricsResponse& response) {
  SeriesMap out;
  for (const v1::SeriesMetrics& series : response.series()) {
    SeriesFigures figures;
    figures.protocol = series.protocol();
    figures.side = series.side();
    figures.name = series.name();
    if (series.protocol() == v1::PROTOCOL_HTTP) {
      figures.http_method = series.method();
      figures.route = series.route();
    }
    figures.count = series.count();
    figures.errors = series.errors();
    for (const v1::StatusCount& status : series.status_codes()) {
      figures.status_counts[status.code()] += status.count();
    }
    if (series.has_latency()) {
      figures.latency = HistogramFromProto(series.latency());
      figures.latency_valid = figures.latency.Validate().ok();
    }
    SeriesKey key(series.protocol(), series.side(), series.name());
    out.insert_or_assign(std::move(key), std::move(figures));
  }
  return out;
}

SeriesDeltas CumulativeTracker::Update(int64_t start_unix_nanos, SeriesMap snapshot) {
  SeriesDeltas result;
  const bool first = !have_previous_;
  bool reset = have_previous_ && start_unix_nanos != previous_start_;
  if (first) {
    result.kind = start_unix_nanos >= collector_start_unix_nanos_ ? SeriesDeltas::Kind::kReset
                                                                  : SeriesDeltas::Kind::kBaseline;
  } else if (!reset) {
    result.kind = SeriesDeltas::Kind::kDelta;
    for (const auto& [key, series] : snapshot) {
      auto earlier = previous_.find(key);
      SeriesFigures delta;
      if (earlier == previous_.end()) {
        delta = series;  // registered since: all of it is new
      } else if (!Subtract(series, earlier->second, &delta)) {
        reset = true;
        break;
      }
      if (HasCalls(delta)) result.series.emplace(key, std::move(delta));
    }
    // A series that vanished means another registry: a restart.
    for (const auto& entry : previous_) {
      if (reset) break;
      if (snapshot.find(entry.first) == snapshot.end()) reset = true;
    }
  }
  if (reset) {
    result.kind = SeriesDeltas::Kind::kReset;
    result.restarted = true;
  }
  if (result.kind == SeriesDeltas::Kind::kReset) {
    result.series.clear();
    for (const auto& [key, series] : snapshot) {
      if (HasCalls(series)) result.series.emplace(key, series);
    }
  }
  have_previous_ = true;
  previous_start_ = start_unix_nanos;
  previous_ = std::move(snapshot);
  return result;
}

void AddSeriesDelta(const SeriesFigures& delta, SeriesFigures* total) {
  if (total->name.empty()) {
    *total = delta;
    return;
  }
  total->count += delta.count;
  total->errors += delta.errors;
  for (const auto& [code, count] : delta.status_counts) total->status_counts[code] += count;
  if (!total->latency_valid || !delta.latency_valid) {
    // One instance's distribution is unknown: so is the union's.
    total->latency_valid = false;
    return;
  }
  absl::StatusOr<ExponentialHistogram> merged = MergeHistograms(total->latency, delta.latency);
  total->latency_valid = merged.ok();
  if (merged.ok()) total->latency = *std::move(merged);
}

}  // namespace tracebridge
