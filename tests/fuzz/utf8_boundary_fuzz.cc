// Fuzz target: arbitrary bytes through the span API and out of every
// encoder. The input is split at '\n' into the strings of one span (name,
// attribute key and value, event name, event attribute, link attribute,
// status description, new name), a resource attribute and an HTTP route
// label. Properties checked on every input:
// - the query service's ListSpans and GetMetrics answers, serialised, parse
//   back with the generated message types (proto3 parsing rejects an
//   invalid `string` field), and the recorded strings pass protobuf's own
//   UTF-8 validator;
// - routes that differ only in ill-formed bytes share one series;
// - the OTLP export request parses back as ExportTraceServiceRequest, with
//   every span and the resource attribute present;
// - the JSON-lines record and the metrics JSON parse as JSON
//   (google.protobuf.Value) and are valid UTF-8; the Prometheus text is
//   valid UTF-8;
// - libprotobuf logs nothing (it logs an error for each invalid string it
//   serialises).

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/stubs/common.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "tests/fuzz/fuzz_check.h"
#include "tracebridge/core/export/jsonl_exporter.h"
#include "tracebridge/core/metrics/metrics_json.h"
#include "tracebridge/core/metrics/prometheus.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/exporters/otlp/otlp_encoder.h"
#include "tracebridge/admin/query_service.h"

namespace tracebridge {
namespace {

bool ValidUtf8(absl::string_view text) {
  return google::protobuf::internal::IsStructurallyValidUTF8(text.data(),
                                                             static_cast<int>(text.size()));
}

// Any message libprotobuf logs (an invalid string serialised, a parse
// failure) is a failure here.
void TrapProtobufLog(google::protobuf::LogLevel, const char* file, int line,
                     const std::string& message) {
  std::fprintf(stderr, "%s:%d: libprotobuf: %s\n", file, line, message.c_str());
  std::abort();
}

// Keeps nothing: the span store is what the query service reads.
class NullExporter final : public SpanExporter {
 public:
  absl::string_view Name() const noexcept override { return "null\xff"; }
  absl::Status Export(const Resource&, absl::Span<const std::unique_ptr<SpanData>>,
                      absl::Time) override {
    return absl::OkStatus();
  }
  absl::Status Shutdown(absl::Duration) override { return absl::OkStatus(); }
};

// A fresh Telemetry per input (so a failing input fails alone), with the
// input's service name and resource attribute: the builder repairs both.
std::unique_ptr<Telemetry> MakeTelemetry(absl::string_view service, absl::string_view resource_key,
                                         absl::string_view resource_value) {
  static const bool log_trapped = [] {
    google::protobuf::SetLogHandler(&TrapProtobufLog);
    return true;
  }();
  (void)log_trapped;
  RegistryOptions metrics;
  metrics.max_series = 8;
  absl::StatusOr<std::unique_ptr<Telemetry>> built =
      TelemetryBuilder()
          .SetServiceName(absl::StrCat("fuzz ", service))
          .AddResourceAttribute(std::string(resource_key), std::string(resource_value))
          .AddExporter(std::make_unique<NullExporter>())
          .UseSimpleProcessor()
          .SetSpanStore(InMemorySpanExporterOptions{4, 1 << 20})
          .SetMetricsOptions(metrics)
          .Build();
  FUZZ_CHECK(built.ok());
  return *std::move(built);
}

void CheckJson(absl::string_view json) {
  FUZZ_CHECK(ValidUtf8(json));
  google::protobuf::Value value;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &value);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n%.*s\n", status.ToString().c_str(), static_cast<int>(json.size()),
                 json.data());
  }
  FUZZ_CHECK(status.ok());
}

void FuzzOne(absl::string_view input) {
  std::vector<absl::string_view> parts = absl::StrSplit(input, absl::MaxSplits('\n', 9));
  parts.resize(10);
  const std::unique_ptr<Telemetry> owned = MakeTelemetry(parts[0], parts[8], parts[9]);
  Telemetry& telemetry = *owned;

  // One span with every kind of string the span API takes in.
  const SpanContext linked(TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736"),
                           SpanId::FromHex("00f067aa0ba902b7"), TraceFlags(1), true);
  TraceId trace_id;
  {
    Span span = telemetry.tracer().StartSpan(parts[0], {.kind = SpanKind::kServer});
    trace_id = span.context().trace_id();
    span.SetAttribute(parts[1], parts[2]);
    span.AddEvent(parts[3], {Attribute{std::string(parts[4]), std::string(parts[2])}});
    span.AddLink(linked, {Attribute{std::string(parts[4]), std::string(parts[1])}});
    span.RecordError(parts[5], parts[6]);
    span.UpdateName(parts[7]);
  }
  // Routes that differ only in ill-formed bytes must not become two series
  // with the same (repaired) labels.
  Series* routes[3];
  const absl::string_view suffixes[3] = {"", "\xff", "\xfe"};
  for (int i = 0; i < 3; ++i) {
    routes[i] = telemetry.metrics().RegisterHttpRoute(Side::kServer, parts[8],
                                                      absl::StrCat(parts[9], suffixes[i]));
    routes[i]->Start();
    routes[i]->Finish(200, 1000);
  }
  FUZZ_CHECK(routes[1] == routes[2]);

  // Query service: serialise what a client would receive and parse it back.
  QueryService query(telemetry);
  v1::ListSpansRequest list_request;
  list_request.set_trace_id(trace_id.ToHex());
  v1::ListSpansResponse list_response;
  FUZZ_CHECK(query.ListSpans(nullptr, &list_request, &list_response).ok());
  FUZZ_CHECK(list_response.spans_size() == 1);
  v1::ListSpansResponse list_parsed;
  FUZZ_CHECK(list_parsed.ParseFromString(list_response.SerializeAsString()));
  const v1::Span& span = list_parsed.spans(0);
  FUZZ_CHECK(ValidUtf8(span.name()) && ValidUtf8(span.status_description()));
  for (const v1::Attribute& attribute : span.attributes()) {
    FUZZ_CHECK(ValidUtf8(attribute.key()) && ValidUtf8(attribute.string_value()));
  }
  v1::GetMetricsResponse metrics_response;
  FUZZ_CHECK(
      query.GetMetrics(nullptr, &v1::GetMetricsRequest::default_instance(), &metrics_response)
          .ok());
  v1::GetMetricsResponse metrics_parsed;
  FUZZ_CHECK(metrics_parsed.ParseFromString(metrics_response.SerializeAsString()));
  v1::ServiceInfo info;
  FUZZ_CHECK(
      query.GetServiceInfo(nullptr, &v1::GetServiceInfoRequest::default_instance(), &info).ok());
  v1::ServiceInfo info_parsed;
  FUZZ_CHECK(info_parsed.ParseFromString(info.SerializeAsString()));

  // OTLP.
  SpanQuery by_trace;
  by_trace.trace_id = trace_id;
  std::vector<StoredSpan> stored = telemetry.span_store()->Query(by_trace).spans;
  FUZZ_CHECK(stored.size() == 1);
  const Resource& resource = *stored[0].resource;
  std::vector<std::unique_ptr<SpanData>> batch;
  batch.push_back(std::make_unique<SpanData>(*stored[0].span));
  batch.push_back(std::make_unique<SpanData>(*stored[0].span));
  const std::string otlp = EncodeOtlpExportRequest(resource, batch);
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest otlp_parsed;
  FUZZ_CHECK(otlp_parsed.ParseFromString(otlp));
  FUZZ_CHECK(otlp_parsed.resource_spans(0).scope_spans(0).spans_size() == 2);
  // service.name and the fuzzed attribute (one, if it took that key).
  FUZZ_CHECK(otlp_parsed.resource_spans(0).resource().attributes_size() >= 1);

  // JSON lines, metrics JSON, Prometheus text.
  std::string line;
  JsonLinesExporter::AppendSpanLine(resource, *stored[0].span, &line);
  FUZZ_CHECK(!line.empty() && line.back() == '\n');
  line.pop_back();
  CheckJson(line);
  const MetricsSnapshot snapshot = telemetry.metrics().Snapshot();
  CheckJson(EncodeJson(snapshot, parts[0]));
  FUZZ_CHECK(ValidUtf8(EncodePrometheus(snapshot)));
}

}  // namespace
}  // namespace tracebridge

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tracebridge::FuzzOne(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
