// File: core/metrics/naming.cc

#include "tracebridge/core/metrics/naming.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tracebridge {
namespace {

constexpr LabelKey kRpcSystemName{"rpc.system.name", "rpc_system_name"};
constexpr LabelKey kRpcMethod{"rpc.method", "rpc_method"};
// v1.44's name; the conventions' main branch has since renamed it
// `rpc.status_code` (unreleased).
constexpr LabelKey kRpcStatusCode{"rpc.response.status_code", "rpc_response_status_code"};
constexpr LabelKey kErrorType{"error.type", "error_type"};
constexpr LabelKey kHttpMethod{"http.request.method", "http_request_method"};
constexpr LabelKey kHttpRoute{"http.route", "http_route"};
constexpr LabelKey kHttpStatusCode{"http.response.status_code", "http_response_status_code"};
constexpr LabelKey kGrpcType{"grpc_type", "grpc_type"};
constexpr LabelKey kGrpcService{"grpc_service", "grpc_service"};
constexpr LabelKey kGrpcMethod{"grpc_method", "grpc_method"};
constexpr LabelKey kGrpcCode{"grpc_code", "grpc_code"};

constexpr absl::string_view kOtherValue = "_OTHER";

using K = FigureKind;
constexpr MetricsNaming kOtel = MetricsNaming::kOtel;
constexpr MetricsNaming kGrpcProm = MetricsNaming::kGrpcPrometheus;

// [protocol][side][figure], figures in `SeriesFigure` order.
constexpr FigureName kOtelNames[2][2][kSeriesFigureCount] = {
    // gRPC
    {
        // server
        {
            {"rpc.server.call.duration", "rpc_server_call_duration_seconds", "s", "seconds",
             K::kHistogram, kOtel,
             "Duration of gRPC calls this process served, from start to final status."},
            {"rpc.server.calls.started", "rpc_server_calls_started_total", "{call}", "",
             K::kCounter, kOtel, "gRPC calls this process served that started."},
            {"rpc.server.calls.handled", "rpc_server_calls_handled_total", "{call}", "",
             K::kCounter, kOtel,
             "gRPC calls this process served that finished, by status code (_OTHER: a code "
             "outside 0-16)."},
            {"rpc.server.calls.in_flight", "rpc_server_calls_in_flight", "{call}", "", K::kGauge,
             kOtel, "gRPC calls this process is serving (started minus finished)."},
            {"rpc.server.messages.received", "rpc_server_messages_received_total", "{message}", "",
             K::kCounter, kOtel, "Messages received by gRPC calls this process served."},
            {"rpc.server.messages.sent", "rpc_server_messages_sent_total", "{message}", "",
             K::kCounter, kOtel, "Messages sent by gRPC calls this process served."},
            {"rpc.server.request.bytes", "rpc_server_request_bytes_total", "By", "bytes",
             K::kCounter, kOtel,
             "Request payload bytes of gRPC calls this process served, where known."},
            {"rpc.server.response.bytes", "rpc_server_response_bytes_total", "By", "bytes",
             K::kCounter, kOtel,
             "Response payload bytes of gRPC calls this process served, where known."},
            {"rpc.server.request.size", "rpc_server_request_size_bytes", "By", "bytes",
             K::kHistogram, kOtel,
             "Serialised size of each request message of gRPC calls this process served, where "
             "known."},
            {"rpc.server.response.size", "rpc_server_response_size_bytes", "By", "bytes",
             K::kHistogram, kOtel,
             "Serialised size of each response message of gRPC calls this process served, where "
             "known."},
        },
        // client
        {
            {"rpc.client.call.duration", "rpc_client_call_duration_seconds", "s", "seconds",
             K::kHistogram, kOtel,
             "Duration of gRPC calls this process made, from start to final status."},
            {"rpc.client.calls.started", "rpc_client_calls_started_total", "{call}", "",
             K::kCounter, kOtel, "gRPC calls this process made that started."},
            {"rpc.client.calls.handled", "rpc_client_calls_handled_total", "{call}", "",
             K::kCounter, kOtel,
             "gRPC calls this process made that finished, by status code (_OTHER: a code "
             "outside 0-16)."},
            {"rpc.client.calls.in_flight", "rpc_client_calls_in_flight", "{call}", "", K::kGauge,
             kOtel, "gRPC calls this process is making (started minus finished)."},
            {"rpc.client.messages.received", "rpc_client_messages_received_total", "{message}", "",
             K::kCounter, kOtel, "Messages received by gRPC calls this process made."},
            {"rpc.client.messages.sent", "rpc_client_messages_sent_total", "{message}", "",
             K::kCounter, kOtel, "Messages sent by gRPC calls this process made."},
            {"rpc.client.request.bytes", "rpc_client_request_bytes_total", "By", "bytes",
             K::kCounter, kOtel,
             "Request payload bytes of gRPC calls this process made, where known."},
            {"rpc.client.response.bytes", "rpc_client_response_bytes_total", "By", "bytes",
             K::kCounter, kOtel,
             "Response payload bytes of gRPC calls this process made, where known."},
            {"rpc.client.request.size", "rpc_client_request_size_bytes", "By", "bytes",
             K::kHistogram, kOtel,
             "Serialised size of each request message of gRPC calls this process made, where "
             "known."},
            {"rpc.client.response.size", "rpc_client_response_size_bytes", "By", "bytes",
             K::kHistogram, kOtel,
             "Serialised size of each response message of gRPC calls this process made, where "
             "known."},
        },
    },
    // HTTP
    {
        // server
        {
            {"http.server.request.duration", "http_server_request_duration_seconds", "s", "seconds",
             K::kHistogram, kOtel,
             "Duration of HTTP requests this process served, from start to response."},
            {"http.server.requests.started", "http_server_requests_started_total", "{request}", "",
             K::kCounter, kOtel, "HTTP requests this process served that started."},
            {"http.server.requests.handled", "http_server_requests_handled_total", "{request}", "",
             K::kCounter, kOtel,
             "HTTP requests this process served that finished, by status code (1xx-5xx: an "
             "uncommon code of that class; other: outside 100-599)."},
            {"http.server.active_requests", "http_server_active_requests", "{request}", "",
             K::kGauge, kOtel, "HTTP requests this process is serving (started minus finished)."},
            {"", "", "", "", K::kCounter, kOtel, ""},
            {"", "", "", "", K::kCounter, kOtel, ""},
            {"http.server.request.body.bytes", "http_server_request_body_bytes_total", "By",
             "bytes", K::kCounter, kOtel,
             "Request body bytes of HTTP requests this process served, where known."},
            {"http.server.response.body.bytes", "http_server_response_body_bytes_total", "By",
             "bytes", K::kCounter, kOtel,
             "Response body bytes of HTTP requests this process served, where known."},
            {"", "", "", "", K::kHistogram, kOtel, ""},
            {"", "", "", "", K::kHistogram, kOtel, ""},
        },
        // client
        {
            {"http.client.request.duration", "http_client_request_duration_seconds", "s", "seconds",
             K::kHistogram, kOtel,
             "Duration of HTTP requests this process made, from start to response."},
            {"http.client.requests.started", "http_client_requests_started_total", "{request}", "",
             K::kCounter, kOtel, "HTTP requests this process made that started."},
            {"http.client.requests.handled", "http_client_requests_handled_total", "{request}", "",
             K::kCounter, kOtel,
             "HTTP requests this process made that finished, by status code (1xx-5xx: an "
             "uncommon code of that class; other: outside 100-599)."},
            {"http.client.active_requests", "http_client_active_requests", "{request}", "",
             K::kGauge, kOtel, "HTTP requests this process is making (started minus finished)."},
            {"", "", "", "", K::kCounter, kOtel, ""},
            {"", "", "", "", K::kCounter, kOtel, ""},
            {"http.client.request.body.bytes", "http_client_request_body_bytes_total", "By",
             "bytes", K::kCounter, kOtel,
             "Request body bytes of HTTP requests this process made, where known."},
            {"http.client.response.body.bytes", "http_client_response_body_bytes_total", "By",
             "bytes", K::kCounter, kOtel,
             "Response body bytes of HTTP requests this process made, where known."},
            {"", "", "", "", K::kHistogram, kOtel, ""},
            {"", "", "", "", K::kHistogram, kOtel, ""},
        },
    },
};

// go-grpc-prometheus' families, [side][figure]; figures it has no family for
// are empty here and taken from kOtelNames. OTLP names leave `_total` to the
// exporter that adds it (a Collector's Prometheus exporter does), and keep
// `_seconds`, which such an exporter does not add twice.
constexpr FigureName kGrpcPrometheusNames[2][kSeriesFigureCount] = {
    {
        {"grpc_server_handling_seconds", "grpc_server_handling_seconds", "s", "seconds",
         K::kHistogram, kGrpcProm,
         "Seconds from the start of each gRPC call this process served to its final status."},
        {"grpc_server_started", "grpc_server_started_total", "{call}", "", K::kCounter, kGrpcProm,
         "gRPC calls this process served that started."},
        {"grpc_server_handled", "grpc_server_handled_total", "{call}", "", K::kCounter, kGrpcProm,
         "gRPC calls this process served that finished, whatever their status code."},
        {},
        {"grpc_server_msg_received", "grpc_server_msg_received_total", "{message}", "", K::kCounter,
         kGrpcProm, "Messages received by gRPC calls this process served."},
        {"grpc_server_msg_sent", "grpc_server_msg_sent_total", "{message}", "", K::kCounter,
         kGrpcProm, "Messages sent by gRPC calls this process served."},
        {},
        {},
        {"grpc_server_msg_received_bytes", "grpc_server_msg_received_bytes", "By", "bytes",
         K::kHistogram, kGrpcProm,
         "Serialised size of each message received by gRPC calls this process served."},
        {"grpc_server_msg_sent_bytes", "grpc_server_msg_sent_bytes", "By", "bytes", K::kHistogram,
         kGrpcProm, "Serialised size of each message sent by gRPC calls this process served."},
    },
    {
        {"grpc_client_handling_seconds", "grpc_client_handling_seconds", "s", "seconds",
         K::kHistogram, kGrpcProm,
         "Seconds from the start of each gRPC call this process made to its final status."},
        {"grpc_client_started", "grpc_client_started_total", "{call}", "", K::kCounter, kGrpcProm,
         "gRPC calls this process made that started."},
        {"grpc_client_handled", "grpc_client_handled_total", "{call}", "", K::kCounter, kGrpcProm,
         "gRPC calls this process made that finished, whatever their status code."},
        {},
        {"grpc_client_msg_received", "grpc_client_msg_received_total", "{message}", "", K::kCounter,
         kGrpcProm, "Messages received by gRPC calls this process made."},
        {"grpc_client_msg_sent", "grpc_client_msg_sent_total", "{message}", "", K::kCounter,
         kGrpcProm, "Messages sent by gRPC calls this process made."},
        {},
        {},
        {"grpc_client_msg_sent_bytes", "grpc_client_msg_sent_bytes", "By", "bytes", K::kHistogram,
         kGrpcProm, "Serialised size of each message sent by gRPC calls this process made."},
        {"grpc_client_msg_received_bytes", "grpc_client_msg_received_bytes", "By", "bytes",
         K::kHistogram, kGrpcProm,
         "Serialised size of each message received by gRPC calls this process made."},
    },
};

constexpr absl::string_view kGrpcStatusNames[17] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

constexpr absl::string_view kGoGrpcStatusNames[17] = {
    "OK",       "Canceled",        "Unknown",          "InvalidArgument",   "DeadlineExceeded",
    "NotFound", "AlreadyExists",   "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted",  "OutOfRange",      "Unimplemented",    "Internal",          "Unavailable",
    "DataLoss", "Unauthenticated",
};

void Add(const LabelKey& key, std::string text, std::vector<MetricLabel>* out) {
  out->push_back(MetricLabel{&key, std::move(text), std::nullopt});
}

}  // namespace

absl::StatusOr<MetricsNaming> ParseMetricsNaming(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (lower == "otel") return MetricsNaming::kOtel;
  if (lower == "grpc_prometheus") return MetricsNaming::kGrpcPrometheus;
  return absl::InvalidArgumentError(
      absl::StrCat("metrics naming \"", text, "\" is neither otel nor grpc_prometheus"));
}

absl::string_view MetricsNamingName(MetricsNaming naming) noexcept {
  return naming == MetricsNaming::kGrpcPrometheus ? "grpc_prometheus" : "otel";
}

const FigureName& SeriesFigureName(MetricsNaming naming, Protocol protocol, Side side,
                                   SeriesFigure figure) noexcept {
  const int f = static_cast<int>(figure);
  const int s = static_cast<int>(side);
  if (naming == MetricsNaming::kGrpcPrometheus && protocol == Protocol::kGrpc &&
      !kGrpcPrometheusNames[s][f].prometheus.empty()) {
    return kGrpcPrometheusNames[s][f];
  }
  return kOtelNames[static_cast<int>(protocol)][s][f];
}

void AppendSeriesLabels(MetricsNaming labels, const SeriesSnapshot& series,
                        std::vector<MetricLabel>* out) {
  if (series.protocol == Protocol::kHttp) {
    Add(kHttpMethod, series.scope, out);
    Add(kHttpRoute, series.name, out);
    return;
  }
  if (labels == MetricsNaming::kGrpcPrometheus) {
    Add(kGrpcType, std::string(GrpcTypeName(series.rpc_type)), out);
    Add(kGrpcService, series.scope, out);
    Add(kGrpcMethod, series.name, out);
    return;
  }
  Add(kRpcSystemName, "grpc", out);
  Add(kRpcMethod,
      series.is_other ? std::string(kOtherValue) : absl::StrCat(series.scope, "/", series.name),
      out);
}

void AppendStatusLabels(MetricsNaming labels, Protocol protocol, const StatusCount& status,
                        std::vector<MetricLabel>* out) {
  if (protocol == Protocol::kGrpc) {
    const bool known = status.code >= 0 && status.code <= 16;
    if (labels == MetricsNaming::kGrpcPrometheus) {
      Add(kGrpcCode, std::string(known ? GoGrpcStatusName(status.code) : kOtherValue), out);
      return;
    }
    const std::string name(known ? GrpcStatusName(status.code) : kOtherValue);
    Add(kRpcStatusCode, name, out);
    if (status.error) Add(kErrorType, name, out);
    return;
  }
  if (status.code >= 0) {
    out->push_back(MetricLabel{&kHttpStatusCode, std::to_string(status.code), status.code});
  } else {
    Add(kHttpStatusCode, std::string(status.label), out);
  }
  if (!status.error) return;
  if (status.code >= 0) {
    Add(kErrorType, std::to_string(status.code), out);
  } else {
    Add(kErrorType, std::string(status.label == "other" ? kOtherValue : status.label), out);
  }
}

absl::string_view GrpcStatusName(int code) noexcept {
  return code >= 0 && code <= 16 ? kGrpcStatusNames[code] : absl::string_view();
}

absl::string_view GoGrpcStatusName(int code) noexcept {
  return code >= 0 && code <= 16 ? kGoGrpcStatusNames[code] : absl::string_view();
}

absl::string_view GrpcTypeName(RpcType type) noexcept {
  switch (type) {
    case RpcType::kUnary:
      return "unary";
    case RpcType::kClientStreaming:
      return "client_stream";
    case RpcType::kServerStreaming:
      return "server_stream";
    case RpcType::kBidiStreaming:
      return "bidi_stream";
    case RpcType::kUnknown:
      break;
  }
  return "unknown";
}

}  // namespace tracebridge
