// File: exporters/otlp/otlp_metrics_encoder.cc
//
// MetricsSnapshot → ExportMetricsServiceRequest. See otlp_metrics_encoder.h.

#include "tracebridge/exporters/otlp/otlp_metrics_encoder.h"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tracebridge/core/metrics/histogram.h"
#include "tracebridge/core/metrics/naming.h"
#include "tracebridge/core/metrics/size_histogram.h"
#include "tracebridge/exporters/otlp/otlp_common.h"

namespace tracebridge {
namespace {

namespace common = ::opentelemetry::proto::common::v1;
namespace otlp = ::opentelemetry::proto::metrics::v1;
using Attributes = google::protobuf::RepeatedPtrField<common::KeyValue>;

constexpr SeriesFigure kCounterFigures[] = {
    SeriesFigure::kStarted,      SeriesFigure::kMessagesReceived, SeriesFigure::kMessagesSent,
    SeriesFigure::kRequestBytes, SeriesFigure::kResponseBytes,
};

uint64_t Minus(uint64_t now, uint64_t before) { return now > before ? now - before : 0; }

int64_t AsInt(uint64_t value) {
  return static_cast<int64_t>(std::min<uint64_t>(value, std::numeric_limits<int64_t>::max()));
}

uint64_t UnixNanos(int64_t nanos) { return nanos > 0 ? static_cast<uint64_t>(nanos) : 0; }

void AddLabels(const std::vector<MetricLabel>& labels, Attributes* out) {
  for (const MetricLabel& label : labels) {
    common::KeyValue* kv = out->Add();
    kv->set_key(std::string(label.key->otlp));
    if (label.int_value.has_value()) {
      kv->mutable_value()->set_int_value(*label.int_value);
    } else {
      kv->mutable_value()->set_string_value(label.text);
    }
  }
}

// A counter of a snapshot's series.
uint64_t CounterValue(const SeriesSnapshot& series, SeriesFigure figure) {
  switch (figure) {
    case SeriesFigure::kStarted:
      return series.started;
    case SeriesFigure::kMessagesReceived:
      return series.messages_received;
    case SeriesFigure::kMessagesSent:
      return series.messages_sent;
    case SeriesFigure::kRequestBytes:
      return series.request_bytes;
    case SeriesFigure::kResponseBytes:
      return series.response_bytes;
    default:
      return 0;
  }
}

uint64_t StatusValue(const SeriesSnapshot& series, const StatusCount& status) {
  for (const StatusCount& other : series.statuses) {
    if (other.code == status.code && other.label == status.label) return other.count;
  }
  return 0;
}

// One series as this request sends it: its attributes under each label
// scheme and, for deltas, the previous snapshot's copy and the start time.
struct SeriesPoint {
  const SeriesSnapshot* series = nullptr;
  const SeriesSnapshot* base = nullptr;  // subtract this; null: count from the start
  uint64_t start = 0;
  std::vector<MetricLabel> labels[2];
};

class RequestBuilder {
 public:
  RequestBuilder(const MetricsSnapshot& snapshot, const MetricsSnapshot* previous,
                 const OtlpMetricsEncoding& encoding, otlp::ScopeMetrics* out)
      : snapshot_(snapshot),
        previous_(encoding.temporality == OtlpTemporality::kCumulative ? nullptr : previous),
        encoding_(encoding),
        now_(UnixNanos(snapshot.unix_nanos)),
        out_(out) {}

  size_t Build() {
    absl::flat_hash_map<std::tuple<Protocol, Side, absl::string_view, absl::string_view>,
                        const SeriesSnapshot*>
        before;
    if (previous_ != nullptr) {
      for (const SeriesSnapshot& series : previous_->series) {
        before[{series.protocol, series.side, series.scope, series.name}] = &series;
      }
    }
    for (Protocol protocol : {Protocol::kGrpc, Protocol::kHttp}) {
      for (Side side : {Side::kServer, Side::kClient}) {
        std::vector<SeriesPoint> group;
        for (const SeriesSnapshot& series : snapshot_.series) {
          if (series.protocol != protocol || series.side != side) continue;
          SeriesPoint point;
          point.series = &series;
          point.start = UnixNanos(series.start_unix_nanos);
          if (previous_ != nullptr) {
            auto it = before.find(std::make_tuple(protocol, side, absl::string_view(series.scope),
                                                  absl::string_view(series.name)));
            if (it != before.end()) point.base = it->second;
            // Unchanged before `previous` (or not there yet): the change
            // since then is everything.
            point.start = std::max(point.start, UnixNanos(previous_->unix_nanos));
          }
          for (MetricsNaming scheme : {MetricsNaming::kOtel, MetricsNaming::kGrpcPrometheus}) {
            AppendSeriesLabels(scheme, series, &point.labels[static_cast<int>(scheme)]);
          }
          group.push_back(std::move(point));
        }
        if (!group.empty()) EncodeGroup(protocol, side, group);
      }
    }
    for (const MetricFamily& family : snapshot_.families) EncodeFamily(family);
    return points_;
  }

 private:
  otlp::Metric* NewMetric(const FigureName& name) {
    taken_.insert(std::string(name.otlp));
    otlp::Metric* metric = out_->add_metrics();
    metric->set_name(std::string(name.otlp));
    metric->set_description(std::string(name.description));
    metric->set_unit(std::string(name.unit));
    return metric;
  }

  otlp::AggregationTemporality SeriesTemporality() const {
    return encoding_.temporality == OtlpTemporality::kCumulative
               ? otlp::AGGREGATION_TEMPORALITY_CUMULATIVE
               : otlp::AGGREGATION_TEMPORALITY_DELTA;
  }

  otlp::Sum* NewSum(const FigureName& name, otlp::AggregationTemporality temporality) {
    otlp::Sum* sum = NewMetric(name)->mutable_sum();
    sum->set_aggregation_temporality(temporality);
    sum->set_is_monotonic(true);
    return sum;
  }

  otlp::NumberDataPoint* NewPoint(google::protobuf::RepeatedPtrField<otlp::NumberDataPoint>* points,
                                  const SeriesPoint& point, const FigureName& name,
                                  uint64_t start) {
    ++points_;
    otlp::NumberDataPoint* out = points->Add();
    AddLabels(point.labels[static_cast<int>(name.labels)], out->mutable_attributes());
    out->set_start_time_unix_nano(start);
    out->set_time_unix_nano(now_);
    return out;
  }

  void EncodeGroup(Protocol protocol, Side side, const std::vector<SeriesPoint>& group) {
    auto name = [&](SeriesFigure figure) -> const FigureName& {
      return SeriesFigureName(snapshot_.naming, protocol, side, figure);
    };
    EncodeDurations(name(SeriesFigure::kDuration), group);

    const otlp::AggregationTemporality temporality = SeriesTemporality();
    for (SeriesFigure figure : kCounterFigures) {
      const FigureName& counter = name(figure);
      if (counter.otlp.empty()) continue;
      otlp::Sum* sum = NewSum(counter, temporality);
      for (const SeriesPoint& point : group) {
        const uint64_t now = CounterValue(*point.series, figure);
        const uint64_t before = point.base != nullptr ? CounterValue(*point.base, figure) : 0;
        NewPoint(sum->mutable_data_points(), point, counter, point.start)
            ->set_as_int(AsInt(Minus(now, before)));
      }
    }

    EncodeSizes(name(SeriesFigure::kRequestSize), group, &SeriesSnapshot::request_size);
    EncodeSizes(name(SeriesFigure::kResponseSize), group, &SeriesSnapshot::response_size);

    const FigureName& handled = name(SeriesFigure::kHandled);
    otlp::Sum* sum = NewSum(handled, temporality);
    std::vector<MetricLabel> status_labels;
    for (const SeriesPoint& point : group) {
      for (const StatusCount& status : point.series->statuses) {
        const uint64_t before = point.base != nullptr ? StatusValue(*point.base, status) : 0;
        otlp::NumberDataPoint* out =
            NewPoint(sum->mutable_data_points(), point, handled, point.start);
        status_labels.clear();
        AppendStatusLabels(handled.labels, protocol, status, &status_labels);
        AddLabels(status_labels, out->mutable_attributes());
        out->set_as_int(AsInt(Minus(status.count, before)));
      }
    }

    // In flight is read, not accumulated: a gauge, whatever the temporality.
    const FigureName& in_flight = name(SeriesFigure::kInFlight);
    otlp::Gauge* gauge = NewMetric(in_flight)->mutable_gauge();
    for (const SeriesPoint& point : group) {
      NewPoint(gauge->mutable_data_points(), point, in_flight, 0)
          ->set_as_int(AsInt(point.series->InFlight()));
    }
  }

  // Message sizes: explicit-bucket histograms with the bounds 0, 1, 2 …
  // 2^32 bytes (core/metrics/size_histogram.h), whatever the latency
  // aggregation, as they are recorded. Series without them have no point.
  void EncodeSizes(const FigureName& name, const std::vector<SeriesPoint>& group,
                   std::optional<SizeHistogram> SeriesSnapshot::*size) {
    if (name.otlp.empty()) return;
    otlp::Histogram* histogram = nullptr;
    for (const SeriesPoint& point : group) {
      const std::optional<SizeHistogram>& now = point.series->*size;
      if (!now) continue;
      if (histogram == nullptr) {
        histogram = NewMetric(name)->mutable_histogram();
        histogram->set_aggregation_temporality(SeriesTemporality());
      }
      SizeHistogram value = *now;
      const std::optional<SizeHistogram>* before =
          point.base != nullptr ? &(point.base->*size) : nullptr;
      if (before != nullptr && before->has_value()) {
        for (int b = 0; b < kSizeNumBuckets; ++b) {
          value.counts[b] = Minus(value.counts[b], (*before)->counts[b]);
        }
        value.sum = Minus(value.sum, (*before)->sum);
      }
      ++points_;
      otlp::HistogramDataPoint* out = histogram->add_data_points();
      AddLabels(point.labels[static_cast<int>(name.labels)], out->mutable_attributes());
      out->set_start_time_unix_nano(point.start);
      out->set_time_unix_nano(now_);
      out->set_count(value.Count());
      out->set_sum(static_cast<double>(value.sum));
      for (int b = 0; b < kSizeNumBounds; ++b) {
        out->add_explicit_bounds(static_cast<double>(SizeBucketBound(b)));
      }
      out->mutable_bucket_counts()->Add(value.counts.begin(), value.counts.end());
    }
  }

  void EncodeDurations(const FigureName& name, const std::vector<SeriesPoint>& group) {
    otlp::Metric* metric = NewMetric(name);
    const bool exponential = encoding_.histograms == OtlpHistogramAggregation::kExponential;
    if (exponential) {
      metric->mutable_exponential_histogram()->set_aggregation_temporality(SeriesTemporality());
    } else {
      metric->mutable_histogram()->set_aggregation_temporality(SeriesTemporality());
    }
    for (const SeriesPoint& point : group) {
      const SeriesSnapshot& series = *point.series;
      ExponentialHistogram latency = series.latency;
      uint64_t overflow = series.latency_overflow;
      if (point.base != nullptr) {
        // Counts only grow, so this fails only for snapshots of two
        // different registries; then the point counts from the start.
        absl::StatusOr<ExponentialHistogram> delta =
            SubtractHistograms(series.latency, point.base->latency);
        if (delta.ok()) {
          latency = *std::move(delta);
          overflow = Minus(overflow, point.base->latency_overflow);
        }
      }
      latency.Trim();
      ++points_;
      if (exponential) {
        FillExponential(point, name, latency,
                        metric->mutable_exponential_histogram()->add_data_points());
      } else {
        FillExplicit(point, name, latency, overflow,
                     metric->mutable_histogram()->add_data_points());
      }
    }
  }

  template <typename DataPoint>
  void FillCommon(const SeriesPoint& point, const FigureName& name,
                  const ExponentialHistogram& latency, DataPoint* out) {
    AddLabels(point.labels[static_cast<int>(name.labels)], out->mutable_attributes());
    out->set_start_time_unix_nano(point.start);
    out->set_time_unix_nano(now_);
    out->set_count(latency.count);
    out->set_sum(latency.sum);
    if (latency.min.has_value()) out->set_min(*latency.min);
    if (latency.max.has_value()) out->set_max(*latency.max);
    // The exemplars of the interval: recent sampled calls, one per classic
    // bucket at most.
    for (const BucketExemplar& exemplar : point.series->exemplars) {
      if (point.base != nullptr && UnixNanos(exemplar.call.unix_nanos) <= point.start) continue;
      otlp::Exemplar* e = out->add_exemplars();
      e->set_time_unix_nano(UnixNanos(exemplar.call.unix_nanos));
      e->set_as_double(static_cast<double>(exemplar.value_ns) / 1e9);
      e->set_span_id(reinterpret_cast<const char*>(exemplar.call.span_id),
                     sizeof(exemplar.call.span_id));
      e->set_trace_id(reinterpret_cast<const char*>(exemplar.call.trace_id),
                      sizeof(exemplar.call.trace_id));
    }
  }

  void FillExponential(const SeriesPoint& point, const FigureName& name,
                       const ExponentialHistogram& latency,
                       otlp::ExponentialHistogramDataPoint* out) {
    FillCommon(point, name, latency, out);
    out->set_scale(latency.scale);
    out->set_zero_count(latency.zero_count);
    out->set_zero_threshold(latency.zero_threshold);
    if (!latency.bucket_counts.empty()) {
      otlp::ExponentialHistogramDataPoint::Buckets* positive = out->mutable_positive();
      positive->set_offset(latency.offset);
      positive->mutable_bucket_counts()->Add(latency.bucket_counts.begin(),
                                             latency.bucket_counts.end());
    }
  }

  void FillExplicit(const SeriesPoint& point, const FigureName& name,
                    const ExponentialHistogram& latency, uint64_t overflow,
                    otlp::HistogramDataPoint* out) {
    FillCommon(point, name, latency, out);
    const std::array<uint64_t, kClassicLatencyNumBuckets> counts =
        ClassicLatencyCounts(latency, overflow);
    for (int b = 0; b < kClassicLatencyNumBounds; ++b) {
      out->add_explicit_bounds(ClassicLatencyBoundSeconds(b));
    }
    out->mutable_bucket_counts()->Add(counts.begin(), counts.end());
  }

  // Collector families: counters as monotonic Sums (delta only under
  // kDelta: they are read at collection time, like asynchronous counters),
  // gauges as Gauges. A name a series metric took is left out.
  void EncodeFamily(const MetricFamily& family) {
    const bool counter = family.type == MetricType::kCounter;
    const std::string name(counter ? absl::StripSuffix(family.name, "_total") : family.name);
    if (name.empty() || !taken_.insert(name).second) return;
    otlp::Metric* metric = out_->add_metrics();
    metric->set_name(name);
    metric->set_description(family.help);
    const bool delta = counter && encoding_.temporality == OtlpTemporality::kDelta;
    google::protobuf::RepeatedPtrField<otlp::NumberDataPoint>* points;
    uint64_t start = 0;
    if (counter) {
      otlp::Sum* sum = metric->mutable_sum();
      sum->set_is_monotonic(true);
      sum->set_aggregation_temporality(delta ? otlp::AGGREGATION_TEMPORALITY_DELTA
                                             : otlp::AGGREGATION_TEMPORALITY_CUMULATIVE);
      points = sum->mutable_data_points();
      start = UnixNanos(delta && previous_ != nullptr ? previous_->unix_nanos
                                                      : snapshot_.start_unix_nanos);
    } else {
      points = metric->mutable_gauge()->mutable_data_points();
    }
    for (const MetricSample& sample : family.samples) {
      ++points_;
      otlp::NumberDataPoint* out = points->Add();
      for (const auto& label : sample.labels) {
        common::KeyValue* kv = out->add_attributes();
        kv->set_key(label.first);
        kv->mutable_value()->set_string_value(label.second);
      }
      out->set_start_time_unix_nano(start);
      out->set_time_unix_nano(now_);
      double value = sample.value;
      if (delta && previous_ != nullptr) {
        value = std::max(0.0, value - PreviousValue(family.name, sample));
      }
      out->set_as_double(value);
    }
  }

  double PreviousValue(absl::string_view family_name, const MetricSample& sample) const {
    for (const MetricFamily& family : previous_->families) {
      if (family.name != family_name) continue;
      for (const MetricSample& before : family.samples) {
        if (before.labels == sample.labels) return before.value;
      }
    }
    return 0;
  }

  const MetricsSnapshot& snapshot_;
  const MetricsSnapshot* const previous_;
  const OtlpMetricsEncoding& encoding_;
  const uint64_t now_;
  otlp::ScopeMetrics* const out_;
  absl::flat_hash_set<std::string> taken_;
  size_t points_ = 0;
};

}  // namespace

absl::StatusOr<OtlpTemporality> ParseOtlpTemporality(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (lower == "cumulative") return OtlpTemporality::kCumulative;
  if (lower == "delta") return OtlpTemporality::kDelta;
  if (lower == "lowmemory") return OtlpTemporality::kLowMemory;
  return absl::InvalidArgumentError(absl::StrCat("temporality preference \"", text,
                                                 "\" is none of cumulative, delta, lowmemory"));
}

absl::StatusOr<OtlpHistogramAggregation> ParseOtlpHistogramAggregation(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (lower == "base2_exponential_bucket_histogram") return OtlpHistogramAggregation::kExponential;
  if (lower == "explicit_bucket_histogram") return OtlpHistogramAggregation::kExplicitBuckets;
  return absl::InvalidArgumentError(absl::StrCat(
      "histogram aggregation \"", text,
      "\" is neither base2_exponential_bucket_histogram nor explicit_bucket_histogram"));
}

size_t FillOtlpMetricsRequest(
    const Resource& resource, const MetricsSnapshot& snapshot, const MetricsSnapshot* previous,
    const OtlpMetricsEncoding& encoding,
    opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest* request) {
  otlp::ResourceMetrics* resource_metrics = request->add_resource_metrics();
  FillOtlpResource(resource, resource_metrics->mutable_resource());
  otlp::ScopeMetrics* scope_metrics = resource_metrics->add_scope_metrics();
  FillOtlpScope(scope_metrics->mutable_scope());
  return RequestBuilder(snapshot, previous, encoding, scope_metrics).Build();
}

}  // namespace tracebridge
