// File: tracebridge/core/metrics/prometheus.h
//
// Prometheus text exposition (format 0.0.4) and OpenMetrics 1.0 text of a
// metrics snapshot, named after the OpenTelemetry semantic conventions mapped
// to Prometheus, and the content negotiation between the two.
//
// Families, for each (protocol, side) that has series, named and labelled
// as the snapshot's `MetricsNaming` says (core/metrics/naming.h); under the
// default, `kOtel` (`<side>` is `server` or `client`):
//
//   rpc_<side>_call_duration_seconds          histogram  rpc_system_name, rpc_method
//   rpc_<side>_calls_started_total            counter    same labels
//   rpc_<side>_calls_handled_total            counter    + rpc_response_status_code
//                                                        ("OK"), error_type if failed
//   rpc_<side>_calls_in_flight                gauge
//   rpc_<side>_messages_received_total        counter
//   rpc_<side>_messages_sent_total            counter
//   rpc_<side>_request_bytes_total            counter
//   rpc_<side>_response_bytes_total           counter
//   http_<side>_request_duration_seconds      histogram  http_request_method, http_route
//   http_<side>_requests_started_total        counter    same labels
//   http_<side>_requests_handled_total        counter    + http_response_status_code,
//                                                        error_type if failed
//   http_<side>_active_requests               gauge
//   http_<side>_request_body_bytes_total      counter
//   http_<side>_response_body_bytes_total     counter
//   tracebridge_uptime_seconds                gauge      (since the registry was created)
//
// and under `kGrpcPrometheus` go-grpc-prometheus' `grpc_<side>_handling_seconds`,
// `grpc_<side>_started_total`, `grpc_<side>_handled_total{grpc_code="OK"}`,
// `grpc_<side>_msg_received_total`, `grpc_<side>_msg_sent_total` (labels
// grpc_type, grpc_service, grpc_method) in place of the rpc_ families it has.
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
// Histogram buckets are cumulative and `le="+Inf"` equals `_count`. The
// bucket bounds are the powers of two 2^-20 s … 2^8 s (core/metrics/histogram.h),
// each a boundary of the recorded exponential buckets, so every count is exact.
// `grpc_<side>_handling_seconds` uses the same bounds rather than
// go-grpc-prometheus' default (Prometheus' DefBuckets, 0.005 … 10 s): those
// cut through recorded buckets, so their counts would be guesses, whereas
// `histogram_quantile` (what dashboards run over `_bucket`) takes any bounds,
// and these resolve a factor of 2 from 1 µs to 256 s where DefBuckets see
// nothing below 5 ms or above 10 s. An `le` filter names a bound both share
// (0.25, 0.5, 1) or the nearest power of two.
//
// OpenMetrics differs in what the format requires: a counter family is
// announced without its `_total` suffix (`# TYPE rpc_server_calls_started
// counter`, sample `rpc_server_calls_started_total`), durations and byte
// counters carry `# UNIT` (seconds, bytes), help text escapes `"` as well,
// the text ends with `# EOF`, and each histogram bucket that has one carries
// an exemplar: the trace and span id of a recent sampled call in that bucket
// (see core/metrics/registry.h), its latency and when it ended,
//
//   …_bucket{…,le="0.001953125"} 17 # {trace_id="4bf9…",span_id="00f0…"} 0.00141 1700000000.123
//
// Example:
//
//   const tracebridge::ExpositionFormat format =
//       tracebridge::NegotiateExpositionFormat(request_accept_header);
//   std::string body = tracebridge::EncodeExposition(registry.Snapshot(), format);
//   // serve with Content-Type: tracebridge::ExpositionContentType(format)

#ifndef TRACEBRIDGE_CORE_METRICS_PROMETHEUS_H_
#define TRACEBRIDGE_CORE_METRICS_PROMETHEUS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "tracebridge/core/metrics/registry.h"

namespace tracebridge {

// The Content-Type of the text exposition format 0.0.4.
inline constexpr absl::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// The Content-Type of OpenMetrics 1.0 text.
inline constexpr absl::string_view kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

enum class ExpositionFormat : uint8_t { kPrometheusText, kOpenMetrics };

// The format to answer a request with `Accept` header value `accept`:
// OpenMetrics when the header names `application/openmetrics-text` (any
// version) with a q-value above 0 and at least that of anything matching
// `text/plain` (`text/plain`, `text/*`, `*/*`); otherwise, including an
// empty or malformed header, the text format 0.0.4. Prometheus asks for
// OpenMetrics first; curl and browsers get text.
ExpositionFormat NegotiateExpositionFormat(absl::string_view accept);

// kPrometheusContentType or kOpenMetricsContentType.
absl::string_view ExpositionContentType(ExpositionFormat format) noexcept;

// Encodes `snapshot` as Prometheus text exposition format 0.0.4.
std::string EncodePrometheus(const MetricsSnapshot& snapshot);

// Encodes `snapshot` as OpenMetrics 1.0 text, with exemplars.
std::string EncodeOpenMetrics(const MetricsSnapshot& snapshot);

// One of the two above.
std::string EncodeExposition(const MetricsSnapshot& snapshot, ExpositionFormat format);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_METRICS_PROMETHEUS_H_
