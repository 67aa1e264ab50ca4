// File: tracebridge/v1/histogram_conversion.h
//
// Conversions between `tracebridge.v1.ExponentialHistogram` (what
// `GetMetrics` carries in `SeriesMetrics.latency`) and the C++
// `tracebridge::ExponentialHistogram` that implements merge, delta and
// quantiles (core/metrics/exponential_histogram.h). Field for field, no
// checks: a histogram read from a peer is untrusted, so call `Validate()` on
// the result before using it.
//
// Example:
//
//   tracebridge::ExponentialHistogram latency =
//       tracebridge::HistogramFromProto(series.latency());
//   if (latency.Validate().ok()) double p99 = latency.Quantile(0.99);

#ifndef TRACEBRIDGE_PROTO_TRACEBRIDGE_V1_HISTOGRAM_CONVERSION_H_
#define TRACEBRIDGE_PROTO_TRACEBRIDGE_V1_HISTOGRAM_CONVERSION_H_

#include "tracebridge/core/metrics/exponential_histogram.h"
#include "tracebridge/v1/query.pb.h"

namespace tracebridge {

// The proto's fields as they are (min and max only when present).
ExponentialHistogram HistogramFromProto(const v1::ExponentialHistogram& proto);

// Writes `histogram` into `*proto`, replacing what it held.
void HistogramToProto(const ExponentialHistogram& histogram, v1::ExponentialHistogram* proto);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_PROTO_TRACEBRIDGE_V1_HISTOGRAM_CONVERSION_H_
