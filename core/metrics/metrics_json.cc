// File: core/metrics_json.cc

#include "tracebridge/core/metrics/metrics_json.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "tracebridge/core/metrics/size_histogram.h"
#include "tracebridge/core/metrics/text_escape.h"
#include "tracebridge/core/util/json_writer.h"

namespace tracebridge {
namespace {

// JSON has no NaN or infinity; every figure here is finite by construction,
// but a 0 is better than an unparsable document if that ever changes.
void AppendJsonNumber(double value, std::string* out) {
  AppendDouble(std::isfinite(value) ? value : 0.0, out);
}

// `,"<key>":{"count":2,"sum":1024,"buckets":{"0":1,"1024":1}}`: the
// non-empty buckets by upper bound, each with its own count.
void AppendSize(absl::string_view key, const SizeHistogram& size, std::string* out) {
  absl::StrAppend(out, ",\"", key, "\":{\"count\":", size.Count(), ",\"sum\":", size.sum,
                  ",\"buckets\":{");
  bool first = true;
  for (int b = 0; b < kSizeNumBuckets; ++b) {
    if (size.counts[b] == 0) continue;
    if (!first) out->push_back(',');
    first = false;
    out->push_back('"');
    if (b < kSizeNumBounds) {
      absl::StrAppend(out, SizeBucketBound(b));
    } else {
      out->append("+Inf");
    }
    absl::StrAppend(out, "\":", size.counts[b]);
  }
  out->append("}}");
}

void AppendSide(const MetricsSnapshot& snapshot, Side side, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const SeriesSnapshot& series : snapshot.series) {
    if (series.side != side) continue;
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(JsonSeriesKey(series), out);
    absl::StrAppend(out, ":{\"count\":", series.Count(), ",\"avg_duration\":");
    AppendJsonNumber(series.MeanSeconds(), out);
    out->append(",\"status_codes\":{");
    bool first_status = true;
    for (const StatusCount& status : series.statuses) {
      if (!first_status) out->push_back(',');
      first_status = false;
      AppendJsonString(status.label, out);
      absl::StrAppend(out, ":", status.count);
    }
    absl::StrAppend(out, "},\"errors\":", series.Errors(), ",\"p50\":");
    AppendJsonNumber(series.PercentileSeconds(0.5), out);
    out->append(",\"p90\":");
    AppendJsonNumber(series.PercentileSeconds(0.9), out);
    out->append(",\"p99\":");
    AppendJsonNumber(series.PercentileSeconds(0.99), out);
    out->append(",\"max\":");
    AppendJsonNumber(series.MaxSeconds(), out);
    absl::StrAppend(out, ",\"in_flight\":", series.InFlight());
    if (series.request_size) AppendSize("request_size", *series.request_size, out);
    if (series.response_size) AppendSize("response_size", *series.response_size, out);
    out->push_back('}');
  }
  out->push_back('}');
}

}  // namespace

std::string JsonSeriesKey(const SeriesSnapshot& series) {
  if (series.protocol == Protocol::kHttp) return absl::StrCat(series.scope, series.name);
  return absl::StrCat("/", series.scope, "/", series.name);
}

std::string EncodeJson(const MetricsSnapshot& snapshot, absl::string_view service_name) {
  std::string out = "{\"service_name\":";
  AppendJsonString(service_name, &out);
  out.append(",\"uptime_seconds\":");
  AppendJsonNumber(snapshot.uptime_seconds, &out);
  out.append(",\"metrics\":");
  AppendSide(snapshot, Side::kServer, &out);
  out.append(",\"client_metrics\":");
  AppendSide(snapshot, Side::kClient, &out);
  out.append("}");
  return out;
}

}  // namespace tracebridge
