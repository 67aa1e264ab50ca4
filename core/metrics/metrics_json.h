// File: tracebridge/core/metrics/metrics_json.h
//
// JSON encoding of a metrics snapshot in the gin-monitor shape, so a service
// moving from it keeps its collector, extended with error counts, percentile
// estimates, the maximum and the in-flight count:
//
//   {"service_name": "orders",
//    "uptime_seconds": 12.5,
//    "metrics": {
//      "GET/ping": {"count": 3, "avg_duration": 0.0012,
//                   "status_codes": {"200": 2, "503": 1},
//                   "errors": 1, "p50": 0.0011, "p90": 0.0019, "p99": 0.0019,
//                   "max": 0.002, "in_flight": 0},
//      "/helloworld.Greeter/SayHello": {...}},
//    "client_metrics": {...}}
//
// A gRPC series with message-size histograms (core/metrics/size_histogram.h)
// also has `"request_size"` and `"response_size"`:
// `{"count": 2, "sum": 1030, "buckets": {"0": 1, "1024": 1}}`, the
// non-empty buckets keyed by their upper bound in bytes ("+Inf" above 2^32),
// each with its own (not cumulative) count.
//
// `metrics` holds the server side, `client_metrics` the client side. Keys are
// the request method followed by the route template for HTTP ("GET/ping",
// overflow "GET_OTHER") and the gRPC full method name for gRPC
// ("/pkg.Service/Method", overflow "/_OTHER/_OTHER"). Durations are seconds;
// `count` is the number of calls with a recorded latency; status code keys
// are those of `StatusCount::label` ("200", "5xx", "other"). Percentiles are
// histogram estimates (error bound in core/metrics/histogram.h). Every string is
// escaped, and invalid UTF-8 replaced, so the output is always valid JSON.
//
// Example:
//
//   std::string body = tracebridge::EncodeJson(registry.Snapshot(), "orders");
//   // serve with Content-Type: tracebridge::kJsonContentType

#ifndef TRACEBRIDGE_CORE_METRICS_METRICS_JSON_H_
#define TRACEBRIDGE_CORE_METRICS_METRICS_JSON_H_

#include <string>

#include "absl/strings/string_view.h"
#include "tracebridge/core/metrics/registry.h"

namespace tracebridge {

// The Content-Type of the JSON document.
inline constexpr absl::string_view kJsonContentType = "application/json; charset=utf-8";

// The key a series has in the JSON document (see the file comment).
std::string JsonSeriesKey(const SeriesSnapshot& series);

// Encodes `snapshot` for the service called `service_name`.
std::string EncodeJson(const MetricsSnapshot& snapshot, absl::string_view service_name);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_METRICS_METRICS_JSON_H_
