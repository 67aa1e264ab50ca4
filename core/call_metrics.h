// File: tracebridge/core/call_metrics.h
//
// How a door (gRPC interceptors, the Pistache router, outgoing HTTP) ends one
// call's measurement: the status and the latency go into the call's series,
// and when the call's span is sampled its trace and span id become the
// exemplar of the latency's bucket, so that a bucket on a dashboard links to
// a trace the service's span store holds. Unsampled calls cost one branch
// more than `Series::Finish`; sampled ones copy 24 bytes and read no extra
// clock (the exemplar's wall time is derived from the monotonic end time).
//
// Example:
//
//   const int64_t start = tracebridge::MonotonicNanosNow();
//   ...
//   tracebridge::FinishCallMetrics(*series, /*status_code=*/200, start, span);
//   span.End();  // after: an ended span is no longer recording

#ifndef TRACEBRIDGE_CORE_CALL_METRICS_H_
#define TRACEBRIDGE_CORE_CALL_METRICS_H_

#include <cstdint>
#include <cstring>

#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/trace/clock.h"
#include "tracebridge/core/trace/span.h"

namespace tracebridge {

// Records in `series` a call that started at `start_monotonic_nanos`
// (MonotonicNanosNow()) and ends now with `status_code`; `span` is the call's
// span, still unended.
//
// `FinishCallMetricsAt` is the same for a call that ended at
// `end_monotonic_nanos`: a clock read the caller also ends the span with.
inline void FinishCallMetricsAt(Series& series, int status_code, int64_t start_monotonic_nanos,
                                int64_t end_monotonic_nanos, const Span& span) noexcept {
  const int64_t end = end_monotonic_nanos;
  const SpanContext& context = span.context();
  if (!span.IsRecording() || !context.IsSampled()) {
    series.Finish(status_code, end - start_monotonic_nanos);
    return;
  }
  Exemplar exemplar;
  std::memcpy(exemplar.trace_id, context.trace_id().bytes().data(), sizeof(exemplar.trace_id));
  std::memcpy(exemplar.span_id, context.span_id().bytes().data(), sizeof(exemplar.span_id));
  exemplar.unix_nanos = UnixNanosAt(end);
  series.Finish(status_code, end - start_monotonic_nanos, &exemplar);
}

inline void FinishCallMetrics(Series& series, int status_code, int64_t start_monotonic_nanos,
                              const Span& span) noexcept {
  FinishCallMetricsAt(series, status_code, start_monotonic_nanos, MonotonicNanosNow(), span);
}

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_CALL_METRICS_H_
