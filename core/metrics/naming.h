// File: tracebridge/core/metrics/naming.h
//
// What every encoder calls a series' figures: the metric names, units and
// labels of each `MetricsNaming`, in one table that the Prometheus and
// OpenMetrics encoder (core/metrics/prometheus.h) and the OTLP metrics
// encoder (exporters/otlp/otlp_metrics_encoder.h) both read, so that a
// metric has the same name and labels whichever way it leaves the process.
//
// `kOtel` follows the OpenTelemetry semantic conventions (v1.44) where they
// define a metric, and names the rest in the same style:
//
//   rpc.{server,client}.call.duration      histogram  rpc.system.name, rpc.method
//   rpc.{server,client}.calls.started      counter    same
//   rpc.{server,client}.calls.handled      counter    + rpc.response.status_code
//                                                     ("OK", "NOT_FOUND"), and
//                                                     error.type for failed calls
//   rpc.{server,client}.calls.in_flight    gauge
//   rpc.{server,client}.messages.{received,sent}     counter
//   rpc.{server,client}.{request,response}.bytes     counter (By)
//   rpc.{server,client}.{request,response}.size      histogram (By), one
//                                                     observation per message
//   http.{server,client}.request.duration  histogram  http.request.method, http.route
//   http.{server,client}.requests.started  counter
//   http.{server,client}.requests.handled  counter    + http.response.status_code
//                                                     (an int), error.type for failed
//   http.{server,client}.active_requests   gauge
//   http.{server,client}.{request,response}.body.bytes counter (By)
//
// `rpc.method` is fully qualified ("pkg.Service/Method", or `_OTHER`), and a
// call counts as failed by `IsErrorStatus` (on a gRPC server only UNKNOWN,
// DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS).
// Prometheus names are these with dots as underscores, the unit's suffix
// (`_seconds`, `_bytes`) and `_total` on counters, which is also what an
// OpenTelemetry Collector's Prometheus exporter makes of the OTLP names:
// `rpc_server_calls_handled_total{rpc_system_name="grpc",rpc_method="…",
// rpc_response_status_code="OK"}`.
//
// The duration histograms carry no status or error label under either
// naming: a series records one latency histogram for all its calls (one per
// status would multiply its memory, see core/metrics/registry.h), so the
// status split lives in the handled counter beside it.
//
// `kGrpcPrometheus` gives gRPC series the five families of go-grpc-prometheus,
// names and labels as it defines them, so that dashboards written for it work
// unchanged:
//
//   grpc_{server,client}_handling_seconds  histogram  grpc_type, grpc_service, grpc_method
//   grpc_{server,client}_started_total     counter    same
//   grpc_{server,client}_handled_total     counter    + grpc_code ("OK", "NotFound":
//                                                     grpc-go's code names)
//   grpc_{server,client}_msg_received_total, grpc_{server,client}_msg_sent_total
//
// with `grpc_type` one of "unary", "client_stream", "server_stream",
// "bidi_stream" ("unknown" for the overflow series and methods registered
// without a type). go-grpc-prometheus has no message-size family; the size
// histograms take names in its style, with its labels:
//
//   grpc_{server,client}_msg_received_bytes, grpc_{server,client}_msg_sent_bytes
//                                                     histogram (a server receives
//                                                     requests, a client responses)
//
// What else it has no family for (in flight, payload bytes) and every HTTP
// series keep their `kOtel` names and labels.
//
// Example:
//
//   const tracebridge::FigureName& name = tracebridge::SeriesFigureName(
//       tracebridge::MetricsNaming::kGrpcPrometheus, series.protocol, series.side,
//       tracebridge::SeriesFigure::kHandled);
//   std::vector<tracebridge::MetricLabel> labels;
//   tracebridge::AppendSeriesLabels(name.labels, series, &labels);
//   for (const tracebridge::StatusCount& status : series.statuses) {
//     tracebridge::AppendStatusLabels(name.labels, series.protocol, status, &labels);
//     ...
//   }

#ifndef TRACEBRIDGE_CORE_METRICS_NAMING_H_
#define TRACEBRIDGE_CORE_METRICS_NAMING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tracebridge/core/metrics/registry.h"

namespace tracebridge {

// The environment variable `TelemetryBuilder::FromEnvironment()` reads the
// naming from: "otel" or "grpc_prometheus".
inline constexpr char kMetricsNamingEnv[] = "TRACEBRIDGE_METRICS_NAMING";

// "otel" → kOtel, "grpc_prometheus" → kGrpcPrometheus (case-insensitive,
// surrounding blanks ignored); InvalidArgument naming both otherwise.
absl::StatusOr<MetricsNaming> ParseMetricsNaming(absl::string_view text);

// "otel" or "grpc_prometheus".
absl::string_view MetricsNamingName(MetricsNaming naming) noexcept;

// The figures one series holds.
enum class SeriesFigure : uint8_t {
  kDuration = 0,
  kStarted,
  kHandled,
  kInFlight,
  kMessagesReceived,
  kMessagesSent,
  kRequestBytes,
  kResponseBytes,
  kRequestSize,
  kResponseSize,
};
inline constexpr int kSeriesFigureCount = 10;

enum class FigureKind : uint8_t { kHistogram, kCounter, kGauge };

// A label's key in both spellings.
struct LabelKey {
  absl::string_view otlp;        // "rpc.system.name"
  absl::string_view prometheus;  // "rpc_system_name"
};

// One label of a sample. `int_value`, when set, is the value OTLP sends (an
// int attribute, such as `http.response.status_code`); `text` is what
// Prometheus shows.
struct MetricLabel {
  const LabelKey* key = nullptr;
  std::string text;
  std::optional<int64_t> int_value;
};

// What one figure of a (protocol, side) is called under a naming.
struct FigureName {
  // The OTLP metric name; empty when the figure is not exposed (HTTP series
  // have no message counts).
  absl::string_view otlp;
  // The Prometheus sample name (counters end in `_total`, histograms name
  // the family; `_bucket`, `_sum`, `_count` are appended).
  absl::string_view prometheus;
  // UCUM unit ("s", "By", "{call}"), as OTLP and OpenMetrics `# UNIT` want it
  // (`prometheus_unit`: "seconds", "bytes", or empty).
  absl::string_view unit;
  absl::string_view prometheus_unit;
  FigureKind kind = FigureKind::kCounter;
  // Whose labels the samples carry: the series' labels come from
  // `AppendSeriesLabels(labels, …)`.
  MetricsNaming labels = MetricsNaming::kOtel;
  // One sentence, for `# HELP` and the OTLP description.
  absl::string_view description;
};

// The name of `figure` of a (protocol, side) series under `naming`. Static
// storage; never null.
const FigureName& SeriesFigureName(MetricsNaming naming, Protocol protocol, Side side,
                                   SeriesFigure figure) noexcept;

// Appends the labels every figure of `series` carries under the label scheme
// `labels` (a `FigureName::labels`), in output order:
//   kOtel, gRPC:        rpc.system.name="grpc", rpc.method="pkg.Service/Method"
//   kOtel, HTTP:        http.request.method, http.route
//   kGrpcPrometheus:    grpc_type, grpc_service, grpc_method
void AppendSeriesLabels(MetricsNaming labels, const SeriesSnapshot& series,
                        std::vector<MetricLabel>* out);

// Appends the labels of the handled counter's sample for `status`:
//   kOtel, gRPC:        rpc.response.status_code="NOT_FOUND"; error.type as well
//                       when the calls failed; "_OTHER" for a code outside 0-16
//   kOtel, HTTP:        http.response.status_code=404 ("5xx", "other" for the
//                       aggregate slots); error.type ("500", "5xx", "_OTHER")
//                       when the calls failed
//   kGrpcPrometheus:    grpc_code="NotFound" ("_OTHER" outside 0-16)
void AppendStatusLabels(MetricsNaming labels, Protocol protocol, const StatusCount& status,
                        std::vector<MetricLabel>* out);

// gRPC status code names: "OK" … "UNAUTHENTICATED" (the canonical names, as
// the OpenTelemetry conventions spell them), and grpc-go's "OK", "Canceled",
// "NotFound" … (what go-grpc-prometheus' `grpc_code` holds). Empty outside
// 0-16.
absl::string_view GrpcStatusName(int code) noexcept;
absl::string_view GoGrpcStatusName(int code) noexcept;

// go-grpc-prometheus' `grpc_type` value: "unary", "client_stream",
// "server_stream", "bidi_stream", or "unknown".
absl::string_view GrpcTypeName(RpcType type) noexcept;

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_METRICS_NAMING_H_
