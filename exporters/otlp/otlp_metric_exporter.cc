// File: exporters/otlp/otlp_metric_exporter.cc

#include "tracebridge/exporters/otlp/otlp_metric_exporter.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tracebridge/exporters/otlp/otlp_common.h"

namespace tracebridge {
namespace {

constexpr char kTemporalityEnv[] = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
constexpr char kHistogramEnv[] = "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION";

// A variable's value without surrounding blanks; nullopt when unset or empty.
absl::optional<std::string> Get(const OtlpExporterOptions::EnvLookup& lookup, const char* name) {
  absl::optional<std::string> value = lookup(name);
  if (!value.has_value()) return absl::nullopt;
  std::string stripped(absl::StripAsciiWhitespace(*value));
  if (stripped.empty()) return absl::nullopt;
  return stripped;
}

// Reads variable `name` through `parse` into `*out`, unless it is unset;
// InvalidArgument naming the variable when `parse` refuses the value.
template <typename T>
absl::Status ReadSetting(const OtlpExporterOptions::EnvLookup& lookup, const char* name,
                         absl::StatusOr<T> (*parse)(absl::string_view), T* out) {
  absl::optional<std::string> value = Get(lookup, name);
  if (!value.has_value()) return absl::OkStatus();
  absl::StatusOr<T> parsed = parse(*value);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", parsed.status().message()));
  }
  *out = *parsed;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<OtlpMetricExporterOptions> OtlpMetricExporterOptions::FromEnvironment() {
  return FromEnvironment(OtlpExporterOptions::ProcessEnvironment());
}

absl::StatusOr<OtlpMetricExporterOptions> OtlpMetricExporterOptions::FromEnvironment(
    const OtlpExporterOptions::EnvLookup& lookup) {
  OtlpMetricExporterOptions options;
  absl::StatusOr<OtlpExporterOptions> otlp =
      OtlpExporterOptions::FromEnvironment(lookup, kOtlpMetricsSignal);
  if (!otlp.ok()) return otlp.status();
  options.otlp = *std::move(otlp);
  for (absl::Status status :
       {ReadSetting(lookup, kTemporalityEnv, ParseOtlpTemporality, &options.encoding.temporality),
        ReadSetting(lookup, kHistogramEnv, ParseOtlpHistogramAggregation,
                    &options.encoding.histograms)}) {
    if (!status.ok()) return status;
  }
  return options;
}

absl::StatusOr<std::unique_ptr<OtlpMetricExporter>> OtlpMetricExporter::Create(
    OtlpMetricExporterOptions options) {
  if (options.otlp.protocol == OtlpProtocol::kHttpProtobuf) {
    if (absl::StripAsciiWhitespace(options.otlp.endpoint).empty()) {
      options.otlp.endpoint = std::string(kOtlpMetricsDefaultHttpEndpoint);
    }
    absl::StatusOr<std::unique_ptr<OtlpHttpTransport>> http =
        OtlpHttpTransport::Create(std::move(options.otlp));
    if (!http.ok()) return http.status();
    return std::unique_ptr<OtlpMetricExporter>(
        new OtlpMetricExporter(options.encoding, nullptr, *std::move(http)));
  }
  absl::StatusOr<std::unique_ptr<OtlpGrpcTransport>> grpc =
      OtlpGrpcTransport::Create(std::move(options.otlp), kOtlpMetricsExportMethod);
  if (!grpc.ok()) return grpc.status();
  return std::unique_ptr<OtlpMetricExporter>(
      new OtlpMetricExporter(options.encoding, *std::move(grpc), nullptr));
}

OtlpMetricExporter::OtlpMetricExporter(OtlpMetricsEncoding encoding,
                                       std::unique_ptr<OtlpGrpcTransport> grpc,
                                       std::unique_ptr<OtlpHttpTransport> http)
    : encoding_(encoding), grpc_(std::move(grpc)), http_(std::move(http)) {}

OtlpMetricExporter::~OtlpMetricExporter() = default;

absl::string_view OtlpMetricExporter::Name() const noexcept {
  return grpc_ != nullptr ? "otlp" : "otlp_http";
}

absl::Status OtlpMetricExporter::Export(const Resource& resource, const MetricsSnapshot& snapshot,
                                        absl::Time deadline) {
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest request;
  const size_t points =
      FillOtlpMetricsRequest(resource, snapshot, delivered_.get(), encoding_, &request);
  absl::Status status;
  if (grpc_ != nullptr) {
    const size_t size = request.ByteSizeLong();
    // ByteSizeLong cached the sizes the serialisation below writes by.
    status = grpc_->Export(
        size,
        [&request](char* out) {
          request.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out));
        },
        points, deadline, ParseOtlpMetricsResponse);
  } else {
    request.SerializeToString(&request_bytes_);
    status = http_->Export(request_bytes_, points, deadline, ParseOtlpMetricsResponse);
  }
  if (status.ok() && encoding_.temporality != OtlpTemporality::kCumulative) {
    delivered_ = std::make_unique<MetricsSnapshot>(snapshot);
  }
  return status;
}

absl::Status OtlpMetricExporter::Shutdown(absl::Duration timeout) {
  return grpc_ != nullptr ? grpc_->Shutdown(timeout) : http_->Shutdown(timeout);
}

OtlpExportCounts OtlpMetricExporter::Stats() const noexcept {
  return grpc_ != nullptr ? grpc_->Counts() : http_->Counts();
}

std::string OtlpMetricExporter::last_partial_success_message() const {
  return grpc_ != nullptr ? grpc_->last_partial_success_message()
                          : http_->last_partial_success_message();
}

const std::string& OtlpMetricExporter::destination() const noexcept {
  return grpc_ != nullptr ? grpc_->target() : http_->url();
}

absl::StatusOr<std::unique_ptr<MetricExporter>> MetricExporterFromEnvironment() {
  const char* value = std::getenv("OTEL_METRICS_EXPORTER");
  bool otlp = false;
  if (value != nullptr) {
    for (absl::string_view name : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
      const std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
      if (lower == "none" || lower == "prometheus") continue;
      if (lower != "otlp" || otlp) {
        return absl::InvalidArgumentError(absl::StrCat(
            "OTEL_METRICS_EXPORTER=\"", value,
            "\": tracebridge pushes with \"otlp\" (once) and serves \"prometheus\" on its admin "
            "listener; nothing else is supported"));
      }
      otlp = true;
    }
  }
  if (!otlp) return std::unique_ptr<MetricExporter>();
  absl::StatusOr<OtlpMetricExporterOptions> options = OtlpMetricExporterOptions::FromEnvironment();
  if (!options.ok()) return options.status();
  absl::StatusOr<std::unique_ptr<OtlpMetricExporter>> exporter =
      OtlpMetricExporter::Create(*std::move(options));
  if (!exporter.ok()) return exporter.status();
  return std::unique_ptr<MetricExporter>(*std::move(exporter));
}

}  // namespace tracebridge
