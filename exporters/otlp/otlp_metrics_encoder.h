// File: tracebridge/exporters/otlp/otlp_metrics_encoder.h
//
// The mapping of a registry snapshot onto OTLP metrics: one
// `ExportMetricsServiceRequest` holding one ResourceMetrics (the process'
// resource, `service.name` first) with one ScopeMetrics (scope
// "tracebridge"), built as protobuf messages. Names, units and attributes
// are those of the snapshot's `MetricsNaming` (core/metrics/naming.h), so a
// Collector's Prometheus exporter shows the same names the admin listener's
// `/metrics` does.
//
//   figure             OTLP data                    value
//   duration           ExponentialHistogram         the series' latency histogram in
//                                                   seconds: scale 5, zero_threshold
//                                                   2^-20, zero_count, positive
//                                                   offset/bucket_counts, count, sum,
//                                                   min, max; exemplars (trace and
//                                                   span id of recent sampled calls)
//                      (or Histogram, with          the classic bounds 2^-20 … 2^8 s,
//                      kExplicitBuckets)            exact
//   started, handled,  Sum, monotonic               counts (as_int); handled has one
//   messages, bytes                                 point per status code
//   in flight          Gauge                        started − handled
//   collector families Sum (counters), Gauge        as the collector reported (as_double)
//
// Times: every point's time is when the snapshot was taken; a cumulative
// point starts when its series was created (collector counters: when the
// registry was). Temporality follows the OTLP metric exporter's preference
// (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE):
//
//   kCumulative  everything cumulative (the default)
//   kDelta       series' counters and durations, and collector counters, as
//                the change since `previous` (the last snapshot the exporter
//                delivered), starting at its time; gauges as they are
//   kLowMemory   as kDelta, except collector counters (read at collection
//                time, like asynchronous counters) stay cumulative
//
// A delta point covers (previous snapshot, this snapshot]: an export that
// fails is folded into the next one rather than lost, so a backend sees no
// gap. A series new since `previous` counts from its creation.
//
// Cost: building messages is not the cheapest way (the span exporter writes
// bytes directly), but a collection happens once per export interval, and
// bench/otlp_metrics_benchmark.cc measures it (BENCHMARKS.md, "OTLP metrics").
//
// Example:
//
//   opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest request;
//   size_t points = tracebridge::FillOtlpMetricsRequest(
//       telemetry.resource(), registry.Snapshot(), nullptr, {}, &request);

#ifndef TRACEBRIDGE_EXPORTERS_OTLP_OTLP_METRICS_ENCODER_H_
#define TRACEBRIDGE_EXPORTERS_OTLP_OTLP_METRICS_ENCODER_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "tracebridge/core/export/span_exporter.h"
#include "tracebridge/core/metrics/registry.h"

namespace tracebridge {

// OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: "cumulative", "delta",
// "lowmemory".
enum class OtlpTemporality : uint8_t { kCumulative, kDelta, kLowMemory };

// How durations are sent (OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION):
// "base2_exponential_bucket_histogram" (the default here: what tracebridge
// records) or "explicit_bucket_histogram" (the classic power-of-two bounds,
// for backends without exponential histograms).
enum class OtlpHistogramAggregation : uint8_t { kExponential, kExplicitBuckets };

// Parse the environment spellings above (case-insensitive); InvalidArgument
// listing the accepted values otherwise.
absl::StatusOr<OtlpTemporality> ParseOtlpTemporality(absl::string_view text);
absl::StatusOr<OtlpHistogramAggregation> ParseOtlpHistogramAggregation(absl::string_view text);

struct OtlpMetricsEncoding {
  OtlpTemporality temporality = OtlpTemporality::kCumulative;
  OtlpHistogramAggregation histograms = OtlpHistogramAggregation::kExponential;
};

// Fills `request` (which should be empty) from `snapshot` as the file comment
// says; `previous` is the snapshot of the last delivered export, used for
// delta temporality (null: none yet). Returns the number of data points.
size_t FillOtlpMetricsRequest(
    const Resource& resource, const MetricsSnapshot& snapshot, const MetricsSnapshot* previous,
    const OtlpMetricsEncoding& encoding,
    opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest* request);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_EXPORTERS_OTLP_OTLP_METRICS_ENCODER_H_
