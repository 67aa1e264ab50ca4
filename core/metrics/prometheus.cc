// File: core/metrics/prometheus.cc

#include "tracebridge/core/metrics/prometheus.h"

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tracebridge/core/metrics/histogram.h"
#include "tracebridge/core/metrics/text_escape.h"

namespace tracebridge {
namespace {

// Everything that differs between the gRPC and the HTTP families.
struct Naming {
  const char* duration;  // histogram family
  const char* started;
  const char* handled;
  const char* in_flight;
  const char* messages_received;  // nullptr: not exposed
  const char* messages_sent;
  const char* request_bytes;
  const char* response_bytes;
  const char* scope_label;   // label holding SeriesSnapshot::scope
  const char* name_label;    // label holding SeriesSnapshot::name
  const char* status_label;  // label holding the status code
  const char* noun;          // "gRPC call", "HTTP request"
};

constexpr Naming kGrpcNaming[2] = {
    {"rpc_server_call_duration_seconds", "rpc_server_calls_started_total",
     "rpc_server_calls_handled_total", "rpc_server_calls_in_flight",
     "rpc_server_messages_received_total", "rpc_server_messages_sent_total",
     "rpc_server_request_bytes_total", "rpc_server_response_bytes_total", "rpc_service",
     "rpc_method", "rpc_grpc_status_code", "gRPC call"},
    {"rpc_client_call_duration_seconds", "rpc_client_calls_started_total",
     "rpc_client_calls_handled_total", "rpc_client_calls_in_flight",
     "rpc_client_messages_received_total", "rpc_client_messages_sent_total",
     "rpc_client_request_bytes_total", "rpc_client_response_bytes_total", "rpc_service",
     "rpc_method", "rpc_grpc_status_code", "gRPC call"},
};

constexpr Naming kHttpNaming[2] = {
    {"http_server_request_duration_seconds", "http_server_requests_started_total",
     "http_server_requests_handled_total", "http_server_active_requests", nullptr, nullptr,
     "http_server_request_body_bytes_total", "http_server_response_body_bytes_total",
     "http_request_method", "http_route", "http_response_status_code", "HTTP request"},
    {"http_client_request_duration_seconds", "http_client_requests_started_total",
     "http_client_requests_handled_total", "http_client_active_requests", nullptr, nullptr,
     "http_client_request_body_bytes_total", "http_client_response_body_bytes_total",
     "http_request_method", "http_route", "http_response_status_code", "HTTP request"},
};

// The `le` label values, formatted once from the bounds (powers of two, so
// their shortest decimal forms are exact).
const std::array<std::string, kClassicLatencyNumBuckets>& BucketLabels() {
  static const auto* labels = [] {
    auto* out = new std::array<std::string, kClassicLatencyNumBuckets>();
    for (int i = 0; i < kClassicLatencyNumBounds; ++i) {
      AppendDouble(ClassicLatencyBoundSeconds(i), &(*out)[i]);
    }
    (*out)[kClassicLatencyNumBounds] = "+Inf";
    return out;
  }();
  return *labels;
}

// ` # {trace_id="…",span_id="…"} <value> <timestamp>`: an OpenMetrics
// exemplar, value and timestamp in seconds.
void AppendExemplar(const BucketExemplar& exemplar, std::string* out) {
  absl::StrAppend(
      out, " # {trace_id=\"",
      absl::BytesToHexString(absl::string_view(
          reinterpret_cast<const char*>(exemplar.call.trace_id), sizeof(exemplar.call.trace_id))),
      "\",span_id=\"",
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(exemplar.call.span_id),
                                               sizeof(exemplar.call.span_id))),
      "\"} ");
  AppendSecondsFromNs(exemplar.value_ns, out);
  if (exemplar.call.unix_nanos > 0) {
    out->push_back(' ');
    AppendSecondsFromNs(static_cast<uint64_t>(exemplar.call.unix_nanos), out);
  }
}

// Appends `{rpc_system="grpc",rpc_service="…",rpc_method="…"` — no closing
// brace, so callers can add a status or `le` label.
void AppendSeriesLabels(const SeriesSnapshot& series, const Naming& naming, std::string* out) {
  out->push_back('{');
  if (series.protocol == Protocol::kGrpc) out->append("rpc_system=\"grpc\",");
  absl::StrAppend(out, naming.scope_label, "=\"");
  AppendPrometheusLabelValue(series.scope, out);
  absl::StrAppend(out, "\",", naming.name_label, "=\"");
  AppendPrometheusLabelValue(series.name, out);
  out->push_back('"');
}

class Encoder {
 public:
  Encoder(const MetricsSnapshot& snapshot, bool open_metrics)
      : snapshot_(snapshot), open_metrics_(open_metrics) {}

  std::string Encode() {
    for (Protocol protocol : {Protocol::kGrpc, Protocol::kHttp}) {
      for (Side side : {Side::kServer, Side::kClient}) EncodeGroup(protocol, side);
    }
    Header("tracebridge_uptime_seconds", "gauge",
           "Seconds since the tracebridge metrics registry was created.", "seconds");
    absl::StrAppend(&out_, "tracebridge_uptime_seconds ");
    AppendDouble(snapshot_.uptime_seconds, &out_);
    out_.push_back('\n');
    for (const MetricFamily& family : snapshot_.families) EncodeExtra(family);
    if (open_metrics_) out_.append("# EOF\n");
    return std::move(out_);
  }

 private:
  // `# HELP`, `# TYPE` and, in OpenMetrics, `# UNIT` of the family whose
  // samples are named `name` (a counter's family drops `_total` there).
  void Header(absl::string_view name, absl::string_view type, absl::string_view help,
              absl::string_view unit = {}) {
    emitted_.insert(std::string(name));
    const absl::string_view family =
        open_metrics_ && type == "counter" ? absl::StripSuffix(name, "_total") : name;
    absl::StrAppend(&out_, "# HELP ", family, " ");
    // OpenMetrics help is an escaped string like a label value (`"` too).
    open_metrics_ ? AppendPrometheusLabelValue(help, &out_) : AppendPrometheusHelp(help, &out_);
    absl::StrAppend(&out_, "\n# TYPE ", family, " ", type, "\n");
    if (open_metrics_ && !unit.empty()) absl::StrAppend(&out_, "# UNIT ", family, " ", unit, "\n");
  }

  // One family with a sample per series: `value(series)`.
  void Simple(const std::vector<const SeriesSnapshot*>& group, const Naming& naming,
              const char* name, const char* type, const std::string& help,
              const std::function<uint64_t(const SeriesSnapshot&)>& value,
              absl::string_view unit = {}) {
    if (name == nullptr) return;
    Header(name, type, help, unit);
    for (const SeriesSnapshot* series : group) {
      out_.append(name);
      AppendSeriesLabels(*series, naming, &out_);
      absl::StrAppend(&out_, "} ", value(*series), "\n");
    }
  }

  void EncodeGroup(Protocol protocol, Side side) {
    std::vector<const SeriesSnapshot*> group;
    for (const SeriesSnapshot& series : snapshot_.series) {
      if (series.protocol == protocol && series.side == side) group.push_back(&series);
    }
    if (group.empty()) return;
    const Naming& naming =
        (protocol == Protocol::kGrpc ? kGrpcNaming : kHttpNaming)[static_cast<int>(side)];
    const std::string what =
        absl::StrCat(naming.noun, "s this process ", side == Side::kServer ? "served" : "made");
    const char* status_note = protocol == Protocol::kGrpc
                                  ? "\"other\": a code outside 0-16"
                                  : "\"1xx\"-\"5xx\": an uncommon code of that class; "
                                    "\"other\": outside 100-599";

    Header(naming.duration, "histogram",
           absl::StrCat("Duration of ", what, ", from start to final status."), "seconds");
    const auto& le = BucketLabels();
    for (const SeriesSnapshot* series : group) {
      const std::array<uint64_t, kClassicLatencyNumBuckets> counts =
          ClassicLatencyCounts(series->latency, series->latency_overflow);
      auto exemplar = series->exemplars.begin();  // ascending by bucket
      uint64_t cumulative = 0;
      for (int b = 0; b < kClassicLatencyNumBuckets; ++b) {
        cumulative += counts[b];
        absl::StrAppend(&out_, naming.duration, "_bucket");
        AppendSeriesLabels(*series, naming, &out_);
        absl::StrAppend(&out_, ",le=\"", le[b], "\"} ", cumulative);
        while (exemplar != series->exemplars.end() && exemplar->bucket < b) ++exemplar;
        if (open_metrics_ && exemplar != series->exemplars.end() && exemplar->bucket == b) {
          AppendExemplar(*exemplar, &out_);
        }
        out_.push_back('\n');
      }
      absl::StrAppend(&out_, naming.duration, "_sum");
      AppendSeriesLabels(*series, naming, &out_);
      out_.append("} ");
      AppendDouble(series->latency.sum, &out_);
      absl::StrAppend(&out_, "\n", naming.duration, "_count");
      AppendSeriesLabels(*series, naming, &out_);
      absl::StrAppend(&out_, "} ", cumulative, "\n");
    }

    Simple(group, naming, naming.started, "counter",
           absl::StrCat("Number of ", what, " that started."),
           [](const SeriesSnapshot& s) { return s.started; });

    Header(naming.handled, "counter",
           absl::StrCat("Number of ", what, " that finished, by status code (", status_note, ")."));
    for (const SeriesSnapshot* series : group) {
      for (const StatusCount& status : series->statuses) {
        out_.append(naming.handled);
        AppendSeriesLabels(*series, naming, &out_);
        absl::StrAppend(&out_, ",", naming.status_label, "=\"", status.label, "\"} ", status.count,
                        "\n");
      }
    }

    Simple(group, naming, naming.in_flight, "gauge",
           absl::StrCat("Number of ", what, " in flight (started minus finished)."),
           [](const SeriesSnapshot& s) { return s.InFlight(); });
    Simple(group, naming, naming.messages_received, "counter",
           absl::StrCat("Stream messages received by ", what, "."),
           [](const SeriesSnapshot& s) { return s.messages_received; });
    Simple(group, naming, naming.messages_sent, "counter",
           absl::StrCat("Stream messages sent by ", what, "."),
           [](const SeriesSnapshot& s) { return s.messages_sent; });
    Simple(
        group, naming, naming.request_bytes, "counter",
        absl::StrCat("Request payload bytes of ", what, ", where known."),
        [](const SeriesSnapshot& s) { return s.request_bytes; }, "bytes");
    Simple(
        group, naming, naming.response_bytes, "counter",
        absl::StrCat("Response payload bytes of ", what, ", where known."),
        [](const SeriesSnapshot& s) { return s.response_bytes; }, "bytes");
  }

  static std::string SanitizeName(absl::string_view name, bool allow_colon) {
    std::string out;
    for (size_t i = 0; i < name.size(); ++i) {
      const char c = name[i];
      const bool letter =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
      const bool digit = c >= '0' && c <= '9';
      if (digit && i == 0) out.push_back('_');  // names cannot start with a digit
      out.push_back(letter || digit ? c : '_');
    }
    if (out.empty()) out = "_";
    return out;
  }

  void EncodeExtra(const MetricFamily& family) {
    std::string name = SanitizeName(family.name, /*allow_colon=*/true);
    const bool counter = family.type == MetricType::kCounter;
    if (counter && !absl::EndsWith(name, "_total")) name += "_total";
    if (emitted_.contains(name)) return;
    Header(name, counter ? "counter" : "gauge",
           family.help.empty() ? absl::StrCat(name, " (no description).") : family.help);
    for (const MetricSample& sample : family.samples) {
      out_.append(name);
      if (!sample.labels.empty()) {
        out_.push_back('{');
        bool first = true;
        for (const auto& label : sample.labels) {
          if (!first) out_.push_back(',');
          first = false;
          absl::StrAppend(&out_, SanitizeName(label.first, /*allow_colon=*/false), "=\"");
          AppendPrometheusLabelValue(label.second, &out_);
          out_.push_back('"');
        }
        out_.push_back('}');
      }
      out_.push_back(' ');
      AppendDouble(sample.value, &out_);
      out_.push_back('\n');
    }
  }

  const MetricsSnapshot& snapshot_;
  const bool open_metrics_;
  std::string out_;
  absl::flat_hash_set<std::string> emitted_;
};

}  // namespace

ExpositionFormat NegotiateExpositionFormat(absl::string_view accept) {
  // The highest q-value given to each format; -1: not mentioned.
  double open_metrics = -1, text = -1;
  for (absl::string_view range : absl::StrSplit(accept, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(range, ';');
    const absl::string_view media = absl::StripAsciiWhitespace(parts[0]);
    double q = 1;
    bool valid = true;
    for (size_t i = 1; i < parts.size(); ++i) {
      const absl::string_view param = absl::StripAsciiWhitespace(parts[i]);
      if (param.size() < 2 || absl::AsciiStrToLower(param.substr(0, 2)) != "q=") continue;
      valid = absl::SimpleAtod(param.substr(2), &q) && q >= 0 && q <= 1;
    }
    if (!valid) continue;
    if (absl::EqualsIgnoreCase(media, "application/openmetrics-text")) {
      open_metrics = std::max(open_metrics, q);
    } else if (absl::EqualsIgnoreCase(media, "text/plain") ||
               absl::EqualsIgnoreCase(media, "text/*") || media == "*/*") {
      text = std::max(text, q);
    }
  }
  return open_metrics > 0 && open_metrics >= text ? ExpositionFormat::kOpenMetrics
                                                  : ExpositionFormat::kPrometheusText;
}

absl::string_view ExpositionContentType(ExpositionFormat format) noexcept {
  return format == ExpositionFormat::kOpenMetrics ? kOpenMetricsContentType
                                                  : kPrometheusContentType;
}

std::string EncodePrometheus(const MetricsSnapshot& snapshot) {
  return Encoder(snapshot, /*open_metrics=*/false).Encode();
}

std::string EncodeOpenMetrics(const MetricsSnapshot& snapshot) {
  return Encoder(snapshot, /*open_metrics=*/true).Encode();
}

std::string EncodeExposition(const MetricsSnapshot& snapshot, ExpositionFormat format) {
  return Encoder(snapshot, format == ExpositionFormat::kOpenMetrics).Encode();
}

}  // namespace tracebridge
