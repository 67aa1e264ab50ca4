// File: tracebridge/core/metrics/prometheus.h
//
// Prometheus text exposition (format 0.0.4) of a metrics snapshot, named after
// the OpenTelemetry semantic conventions mapped to Prometheus.
//
// Families, for each (protocol, side) that has series; `<side>` is `server`
// or `client`:
//
//   rpc_<side>_call_duration_seconds          histogram  rpc_system, rpc_service, rpc_method
//   rpc_<side>_calls_started_total            counter    same labels
//   rpc_<side>_calls_handled_total            counter    + rpc_grpc_status_code
//   rpc_<side>_calls_in_flight                gauge
//   rpc_<side>_messages_received_total        counter    (stream messages)
//   rpc_<side>_messages_sent_total            counter
//   rpc_<side>_request_bytes_total            counter
//   rpc_<side>_response_bytes_total           counter
//   http_<side>_request_duration_seconds      histogram  http_request_method, http_route
//   http_<side>_requests_started_total        counter    same labels
//   http_<side>_requests_handled_total        counter    + http_response_status_code
//   http_<side>_active_requests               gauge
//   http_<side>_request_body_bytes_total      counter
//   http_<side>_response_body_bytes_total     counter
//   tracebridge_uptime_seconds                gauge      (since the registry was created)
//
// then every collector family (see `Registry::AddCollector`), its name and
// label names made valid (invalid characters become `_`, counters get a
// `_total` suffix) and skipped if the name is already taken.
//
// The duration histogram carries no status label: a histogram per status code
// would multiply memory on the record path, so the status split lives in the
// `*_handled_total` counter next to it (its sum over statuses equals the
// histogram's `_count` whenever no call is mid-finish). Per-RPC message
// averages are `rate(messages_*_total) / rate(calls_handled_total)`.
// Histogram buckets are cumulative and `le="+Inf"` equals `_count`.
//
// Example:
//
//   std::string body = tracebridge::EncodePrometheus(registry.Snapshot());
//   // serve with Content-Type: tracebridge::kPrometheusContentType

#ifndef TRACEBRIDGE_CORE_METRICS_PROMETHEUS_H_
#define TRACEBRIDGE_CORE_METRICS_PROMETHEUS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "tracebridge/core/metrics/registry.h"

namespace tracebridge {

// The Content-Type of the exposition.
inline constexpr absl::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Encodes `snapshot` as Prometheus text exposition format 0.0.4.
std::string EncodePrometheus(const MetricsSnapshot& snapshot);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_METRICS_PROMETHEUS_H_
