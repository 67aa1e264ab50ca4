// File: core/metrics/prometheus.cc

#include "tracebridge/core/metrics/prometheus.h"

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
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
#include "tracebridge/core/metrics/naming.h"
#include "tracebridge/core/metrics/size_histogram.h"
#include "tracebridge/core/metrics/text_escape.h"

namespace tracebridge {
namespace {

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

// The `le` values of the message-size buckets: "0", "1", "2", "4" …
// "4294967296", "+Inf".
const std::array<std::string, kSizeNumBuckets>& SizeBucketLabels() {
  static const auto* labels = [] {
    auto* out = new std::array<std::string, kSizeNumBuckets>();
    for (int i = 0; i < kSizeNumBounds; ++i) (*out)[i] = absl::StrCat(SizeBucketBound(i));
    (*out)[kSizeNumBounds] = "+Inf";
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

// `{k="v",k2="v2"` — no closing brace, so callers can add a status or `le`
// label.
void AppendLabels(const std::vector<MetricLabel>& labels, std::string* out) {
  char separator = '{';
  for (const MetricLabel& label : labels) {
    out->push_back(separator);
    separator = ',';
    absl::StrAppend(out, label.key->prometheus, "=\"");
    AppendPrometheusLabelValue(label.text, out);
    out->push_back('"');
  }
  if (separator == '{') out->push_back('{');
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

  // One group's series with their labels written out once per label
  // scheme (see `FigureName::labels`).
  struct Entry {
    const SeriesSnapshot* series;
    std::string labels[2];
  };

  // A counter or gauge family with one sample per series: `value(series)`.
  void Simple(const std::vector<Entry>& group, const FigureName& name,
              const std::function<uint64_t(const SeriesSnapshot&)>& value) {
    if (name.prometheus.empty()) return;
    Header(name.prometheus, name.kind == FigureKind::kGauge ? "gauge" : "counter", name.description,
           name.prometheus_unit);
    for (const Entry& entry : group) {
      absl::StrAppend(&out_, name.prometheus, entry.labels[static_cast<int>(name.labels)], "} ",
                      value(*entry.series), "\n");
    }
  }

  // A message-size histogram family: `size(series)`, absent for series
  // that keep none (then no sample; no family if none has one).
  void Sizes(const std::vector<Entry>& group, const FigureName& name,
             std::optional<SizeHistogram> SeriesSnapshot::*size) {
    if (name.prometheus.empty()) return;
    bool any = false;
    for (const Entry& entry : group) any = any || (entry.series->*size).has_value();
    if (!any) return;
    Header(name.prometheus, "histogram", name.description, name.prometheus_unit);
    const auto& le = SizeBucketLabels();
    for (const Entry& entry : group) {
      const std::optional<SizeHistogram>& histogram = entry.series->*size;
      if (!histogram) continue;
      const std::string& labels = entry.labels[static_cast<int>(name.labels)];
      const char* comma = labels.size() > 1 ? "," : "";
      uint64_t cumulative = 0;
      for (int b = 0; b < kSizeNumBuckets; ++b) {
        cumulative += histogram->counts[b];
        absl::StrAppend(&out_, name.prometheus, "_bucket", labels, comma, "le=\"", le[b], "\"} ",
                        cumulative, "\n");
      }
      absl::StrAppend(&out_, name.prometheus, "_sum", labels, "} ", histogram->sum, "\n",
                      name.prometheus, "_count", labels, "} ", cumulative, "\n");
    }
  }

  void EncodeGroup(Protocol protocol, Side side) {
    std::vector<Entry> group;
    for (const SeriesSnapshot& series : snapshot_.series) {
      if (series.protocol != protocol || series.side != side) continue;
      Entry entry{&series, {}};
      for (MetricsNaming scheme : {MetricsNaming::kOtel, MetricsNaming::kGrpcPrometheus}) {
        std::vector<MetricLabel> labels;
        AppendSeriesLabels(scheme, series, &labels);
        AppendLabels(labels, &entry.labels[static_cast<int>(scheme)]);
      }
      group.push_back(std::move(entry));
    }
    if (group.empty()) return;
    auto name = [&](SeriesFigure figure) -> const FigureName& {
      return SeriesFigureName(snapshot_.naming, protocol, side, figure);
    };

    const FigureName& duration = name(SeriesFigure::kDuration);
    Header(duration.prometheus, "histogram", duration.description, duration.prometheus_unit);
    const auto& le = BucketLabels();
    for (const Entry& entry : group) {
      const SeriesSnapshot& series = *entry.series;
      const std::string& labels = entry.labels[static_cast<int>(duration.labels)];
      const std::array<uint64_t, kClassicLatencyNumBuckets> counts =
          ClassicLatencyCounts(series.latency, series.latency_overflow);
      auto exemplar = series.exemplars.begin();  // ascending by bucket
      uint64_t cumulative = 0;
      for (int b = 0; b < kClassicLatencyNumBuckets; ++b) {
        cumulative += counts[b];
        absl::StrAppend(&out_, duration.prometheus, "_bucket", labels, labels.size() > 1 ? "," : "",
                        "le=\"", le[b], "\"} ", cumulative);
        while (exemplar != series.exemplars.end() && exemplar->bucket < b) ++exemplar;
        if (open_metrics_ && exemplar != series.exemplars.end() && exemplar->bucket == b) {
          AppendExemplar(*exemplar, &out_);
        }
        out_.push_back('\n');
      }
      absl::StrAppend(&out_, duration.prometheus, "_sum", labels, "} ");
      AppendDouble(series.latency.sum, &out_);
      absl::StrAppend(&out_, "\n", duration.prometheus, "_count", labels, "} ", cumulative, "\n");
    }

    Simple(group, name(SeriesFigure::kStarted), [](const SeriesSnapshot& s) { return s.started; });

    const FigureName& handled = name(SeriesFigure::kHandled);
    Header(handled.prometheus, "counter", handled.description);
    std::vector<MetricLabel> status_labels;
    for (const Entry& entry : group) {
      const std::string& labels = entry.labels[static_cast<int>(handled.labels)];
      for (const StatusCount& status : entry.series->statuses) {
        status_labels.clear();
        AppendStatusLabels(handled.labels, protocol, status, &status_labels);
        absl::StrAppend(&out_, handled.prometheus, labels);
        bool first = labels.size() == 1;  // only the opening brace
        for (const MetricLabel& label : status_labels) {
          absl::StrAppend(&out_, first ? "" : ",", label.key->prometheus, "=\"");
          first = false;
          AppendPrometheusLabelValue(label.text, &out_);
          out_.push_back('"');
        }
        absl::StrAppend(&out_, "} ", status.count, "\n");
      }
    }

    Simple(group, name(SeriesFigure::kInFlight),
           [](const SeriesSnapshot& s) { return s.InFlight(); });
    Simple(group, name(SeriesFigure::kMessagesReceived),
           [](const SeriesSnapshot& s) { return s.messages_received; });
    Simple(group, name(SeriesFigure::kMessagesSent),
           [](const SeriesSnapshot& s) { return s.messages_sent; });
    Simple(group, name(SeriesFigure::kRequestBytes),
           [](const SeriesSnapshot& s) { return s.request_bytes; });
    Simple(group, name(SeriesFigure::kResponseBytes),
           [](const SeriesSnapshot& s) { return s.response_bytes; });
    Sizes(group, name(SeriesFigure::kRequestSize), &SeriesSnapshot::request_size);
    Sizes(group, name(SeriesFigure::kResponseSize), &SeriesSnapshot::response_size);
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
