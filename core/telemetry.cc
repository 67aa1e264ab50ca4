#include "tracebridge/core/telemetry.h"

#include <cstdlib>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tracebridge/core/export/jsonl_exporter.h"
#include "tracebridge/core/metrics/naming.h"
#include "tracebridge/core/propagation/propagators.h"
#include "tracebridge/core/trace/rule_sampler.h"
#include "tracebridge/core/util/env.h"
#include "tracebridge/core/util/utf8.h"

namespace tracebridge {
namespace {

// Exports each batch to every exporter in turn. The batch processor calls it
// from its one export thread, so the exporters need no locking for Export.
class FanoutExporter final : public SpanExporter {
 public:
  explicit FanoutExporter(std::vector<std::unique_ptr<SpanExporter>> exporters)
      : exporters_(std::move(exporters)) {}

  absl::string_view Name() const noexcept override { return "fanout"; }

  // OK only when every exporter accepted the batch; otherwise the first
  // error (the batch counts as failed, though others may have taken it).
  absl::Status Export(const Resource& resource, absl::Span<const std::unique_ptr<SpanData>> spans,
                      absl::Time deadline) override {
    absl::Status result;
    for (auto& exporter : exporters_) {
      absl::Status status = exporter->Export(resource, spans, deadline);
      if (!status.ok() && result.ok()) {
        result =
            absl::Status(status.code(), absl::StrCat(exporter->Name(), ": ", status.message()));
      }
    }
    return result;
  }

  absl::Status ForceFlush(absl::Duration timeout) override {
    const absl::Time deadline = absl::Now() + timeout;
    absl::Status result;
    for (auto& exporter : exporters_) {
      absl::Status status = exporter->ForceFlush(deadline - absl::Now());
      if (!status.ok() && result.ok()) result = status;
    }
    return result;
  }

  absl::Status Shutdown(absl::Duration timeout) override {
    const absl::Time deadline = absl::Now() + timeout;
    absl::Status result;
    for (auto& exporter : exporters_) {
      absl::Status status =
          exporter->Shutdown(std::max(deadline - absl::Now(), absl::ZeroDuration()));
      if (!status.ok() && result.ok()) result = status;
    }
    return result;
  }

 private:
  std::vector<std::unique_ptr<SpanExporter>> exporters_;
};

// OTEL_RESOURCE_ATTRIBUTES: "key1=value1,key2=value2", values percent-encoded.
absl::Status ParseResourceAttributes(absl::string_view text, std::vector<Attribute>* out) {
  for (absl::string_view member : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(member, absl::MaxSplits('=', 1));
    absl::string_view key = absl::StripAsciiWhitespace(kv.first);
    absl::string_view value = absl::StripAsciiWhitespace(kv.second);
    if (key.empty() || member.find('=') == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("OTEL_RESOURCE_ATTRIBUTES: \"", member, "\" is not key=value"));
    }
    std::string decoded;
    for (size_t i = 0; i < value.size(); ++i) {
      int hi, lo;
      if (value[i] == '%' && i + 2 < value.size() &&
          (hi = hex::DigitValue(absl::ascii_tolower(value[i + 1]))) >= 0 &&
          (lo = hex::DigitValue(absl::ascii_tolower(value[i + 2]))) >= 0) {
        decoded.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
      } else {
        decoded.push_back(value[i]);
      }
    }
    out->push_back(Attribute{std::string(key), std::move(decoded)});
  }
  return absl::OkStatus();
}

// Formats a Telemetry cannot offer, whatever the door: gRPC C++ consumes
// `grpc-trace-bin` in its core and never hands it to interceptors or
// handlers, so a context sent in it would be lost at every traced server.
absl::Status CheckPropagatorsSupported(absl::string_view names) {
  for (absl::string_view name : absl::StrSplit(names, ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(name), "grpc-trace-bin")) {
      return absl::InvalidArgumentError(
          "propagator \"grpc-trace-bin\" is not supported: gRPC C++ keeps the grpc-trace-bin "
          "header to itself and never passes it to interceptors or handlers, so a traced server "
          "could not continue a trace sent in it; use \"tracecontext\"");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<Sampler>> SamplerFromName(absl::string_view name,
                                                         absl::string_view arg) {
  const std::string lowered = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
  absl::string_view lower = lowered;
  arg = absl::StripAsciiWhitespace(arg);
  const bool parent_based = absl::ConsumePrefix(&lower, "parentbased_");
  auto fail = [&](absl::string_view problem) {
    return absl::InvalidArgumentError(absl::StrCat("sampler \"", name, "\": ", problem));
  };
  auto needs_arg = [&](absl::string_view what) {
    return fail(absl::StrCat("needs an argument (OTEL_TRACES_SAMPLER_ARG): ", what));
  };
  std::shared_ptr<Sampler> root;
  if (lower == "always_on" || lower == "always_off" || lower == "traceidratio") {
    // The OpenTelemetry names; only the ratio takes an argument (default 1).
    absl::StatusOr<std::shared_ptr<Sampler>> parsed = ParseSamplerAction(
        lower == "traceidratio" ? absl::StrCat("ratio:", arg.empty() ? "1" : arg) : lower);
    if (!parsed.ok()) return fail(parsed.status().message());
    root = *std::move(parsed);
  } else if (lower == "tracebridge_ratelimiting" || lower == "tracebridge_adaptive") {
    const bool rate = lower == "tracebridge_ratelimiting";
    if (arg.empty()) {
      return needs_arg(rate ? "spans per second, e.g. 10"
                            : "TARGET[:MIN[:MAX]] spans per second and ratio bounds, e.g. 100");
    }
    absl::StatusOr<std::shared_ptr<Sampler>> parsed =
        ParseSamplerAction(absl::StrCat(rate ? "rate:" : "adaptive:", arg));
    if (!parsed.ok()) return fail(parsed.status().message());
    root = *std::move(parsed);
  } else if (lower == "tracebridge_rules") {
    if (arg.empty()) return needs_arg("rules, e.g. route:/healthz=rate:1;default=ratio:0.1");
    absl::StatusOr<SamplingRules> rules = ParseSamplingRules(arg);
    if (!rules.ok()) return fail(rules.status().message());
    return parent_based ? ParentBasedRuleSampler(*std::move(rules))
                        : RuleBasedSampler(*std::move(rules));
  } else {
    return fail(
        "unknown (known: always_on, always_off, traceidratio, tracebridge_ratelimiting, "
        "tracebridge_adaptive, tracebridge_rules, each also with a parentbased_ prefix)");
  }
  return parent_based ? ParentBasedSampler(std::move(root)) : root;
}

// ---- TelemetryBuilder ----

TelemetryBuilder TelemetryBuilder::FromEnvironment() {
  TelemetryBuilder builder;
  auto note = [&builder](absl::Status status) {
    if (!status.ok() && builder.environment_error_.ok()) builder.environment_error_ = status;
  };
  if (const char* name = GetEnv("OTEL_SERVICE_NAME")) builder.service_name_ = name;
  if (const char* attributes = GetEnv("OTEL_RESOURCE_ATTRIBUTES")) {
    std::vector<Attribute> parsed;
    note(ParseResourceAttributes(attributes, &parsed));
    for (Attribute& attribute : parsed) {
      if (attribute.key == "service.name") {
        // OTEL_SERVICE_NAME wins over service.name in the attributes.
        if (GetEnv("OTEL_SERVICE_NAME") == nullptr) {
          builder.service_name_ = absl::get<std::string>(attribute.value);
        }
      } else if (attribute.key == "service.version") {
        builder.service_version_ = absl::get<std::string>(attribute.value);
      } else {
        builder.resource_attributes_.push_back(std::move(attribute));
      }
    }
  }
  if (const char* list = GetEnv("OTEL_PROPAGATORS")) builder.propagator_list_ = list;
  if (const char* name = GetEnv("OTEL_TRACES_SAMPLER")) {
    const char* arg = GetEnv("OTEL_TRACES_SAMPLER_ARG");
    auto sampler = SamplerFromName(name, arg != nullptr ? arg : "");
    if (sampler.ok()) {
      builder.sampler_ = *sampler;
    } else {
      note(absl::InvalidArgumentError(
          absl::StrCat("OTEL_TRACES_SAMPLER: ", sampler.status().message())));
    }
  }
  builder.batch_options_ = BatchSpanProcessorOptions::FromEnvironment();
  builder.metric_reader_options_ = MetricReaderOptions::FromEnvironment();
  builder.stream_progress_ = StreamProgressOptions::FromEnvironment();
  if (const char* naming = GetEnv(kMetricsNamingEnv)) {
    absl::StatusOr<MetricsNaming> parsed = ParseMetricsNaming(naming);
    if (parsed.ok()) {
      builder.metrics_options_.naming = *parsed;
    } else {
      note(absl::InvalidArgumentError(
          absl::StrCat(kMetricsNamingEnv, ": ", parsed.status().message())));
    }
  }
  absl::StatusOr<HeaderCaptureOptions> capture = HeaderCaptureOptions::FromEnvironment();
  if (capture.ok()) {
    builder.header_capture_ = *std::move(capture);
  } else {
    note(capture.status());
  }
  return builder;
}

TelemetryBuilder& TelemetryBuilder::SetServiceName(std::string name) {
  service_name_ = std::move(name);
  return *this;
}
TelemetryBuilder& TelemetryBuilder::SetServiceVersion(std::string version) {
  service_version_ = std::move(version);
  return *this;
}
TelemetryBuilder& TelemetryBuilder::AddResourceAttribute(std::string key, AttributeValue value) {
  resource_attributes_.push_back(Attribute{std::move(key), std::move(value)});
  return *this;
}
TelemetryBuilder& TelemetryBuilder::SetSampler(std::shared_ptr<Sampler> sampler) {
  sampler_ = std::move(sampler);
  return *this;
}
TelemetryBuilder& TelemetryBuilder::SetPropagators(std::string list) {
  propagator_list_ = std::move(list);
  propagator_.reset();
  return *this;
}
TelemetryBuilder& TelemetryBuilder::SetPropagator(std::unique_ptr<Propagator> propagator,
                                                  std::string name) {
  propagator_ = std::move(propagator);
  propagator_name_ = std::move(name);
  return *this;
}
TelemetryBuilder& TelemetryBuilder::SetInjectionBudget(size_t bytes) {
  injection_budget_ = bytes;
  return *this;
}
TelemetryBuilder& TelemetryBuilder::AddExporter(std::unique_ptr<SpanExporter> exporter) {
  exporters_.push_back(std::move(exporter));
  return *this;
}
TelemetryBuilder& TelemetryBuilder::SetDefaultSpanFile(std::string path) {
  default_span_file_ = std::move(path);
  return *this;
}
TelemetryBuilder& TelemetryBuilder::SetBatchOptions(BatchSpanProcessorOptions options) {
  batch_options_ = options;
  return *this;
}
TelemetryBuilder& TelemetryBuilder::UseSimpleProcessor(bool simple) {
  simple_processor_ = simple;
  return *this;
}
TelemetryBuilder& TelemetryBuilder::SetSpanLimits(SpanLimits limits) {
  span_limits_ = limits;
  return *this;
}
TelemetryBuilder& TelemetryBuilder::SetMetricsOptions(RegistryOptions options) {
  metrics_options_ = options;
  return *this;
}
TelemetryBuilder& TelemetryBuilder::SetMetricsNaming(MetricsNaming naming) {
  metrics_options_.naming = naming;
  return *this;
}
TelemetryBuilder& TelemetryBuilder::AddMetricExporter(std::unique_ptr<MetricExporter> exporter) {
  metric_exporters_.push_back(std::move(exporter));
  return *this;
}
TelemetryBuilder& TelemetryBuilder::SetMetricReaderOptions(MetricReaderOptions options) {
  metric_reader_options_ = options;
  return *this;
}
TelemetryBuilder& TelemetryBuilder::SetSpanStore(InMemorySpanExporterOptions options,
                                                 bool enabled) {
  span_store_options_ = options;
  span_store_enabled_ = enabled;
  return *this;
}

TelemetryBuilder& TelemetryBuilder::SetStreamProgress(StreamProgressOptions options) {
  stream_progress_ = options;
  return *this;
}

TelemetryBuilder& TelemetryBuilder::SetHeaderCapture(HeaderCaptureOptions options) {
  header_capture_ = std::move(options);
  return *this;
}

absl::StatusOr<std::unique_ptr<Telemetry>> TelemetryBuilder::Build() {
  if (!environment_error_.ok()) return environment_error_;
  if (!stream_progress_.ok()) return stream_progress_.status();
  if (stream_progress_->interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("stream progress: the interval must not be negative");
  }
  if (stream_progress_->enabled() && stream_progress_->max_streams == 0) {
    return absl::InvalidArgumentError("stream progress: max_streams must be positive");
  }
  if (!batch_options_.ok()) return batch_options_.status();
  if (!metric_reader_options_.ok()) return metric_reader_options_.status();
  if (service_name_.empty()) return absl::InvalidArgumentError("service name is empty");
  if (injection_budget_ == 0) {
    return absl::InvalidArgumentError("injection budget must be positive");
  }
  if (span_store_enabled_ &&
      (span_store_options_.max_spans == 0 || span_store_options_.max_bytes == 0)) {
    return absl::InvalidArgumentError("span store bounds must be positive");
  }
  if (absl::Status capture = ValidateHeaderCapture(header_capture_); !capture.ok()) return capture;

  // The resource goes out with every batch and query answer: repair its
  // strings once, here (see core/util/utf8.h).
  MakeValidUtf8(&service_name_, std::numeric_limits<size_t>::max());
  MakeValidUtf8(&service_version_, std::numeric_limits<size_t>::max());
  internal::MakeValidAttributes(&resource_attributes_, std::numeric_limits<size_t>::max());

  std::unique_ptr<Telemetry> telemetry(new Telemetry());
  telemetry->start_time_ = absl::Now();
  telemetry->resource_.service_name = service_name_;
  telemetry->service_version_ = service_version_;
  if (!service_version_.empty()) {
    telemetry->resource_.attributes.push_back(Attribute{"service.version", service_version_});
  }
  for (Attribute& attribute : resource_attributes_) {
    telemetry->resource_.attributes.push_back(std::move(attribute));
  }
  resource_attributes_.clear();

  // Propagators.
  if (propagator_ != nullptr) {
    telemetry->propagator_ = std::move(propagator_);
    telemetry->propagator_names_ = absl::StrSplit(propagator_name_, ',', absl::SkipEmpty());
  } else {
    auto propagator = MakePropagators(propagator_list_);
    if (!propagator.ok()) return propagator.status();
    telemetry->propagator_ = std::move(*propagator);
    telemetry->propagator_names_ =
        absl::StrSplit(telemetry->propagator_->Name(), ',', absl::SkipEmpty());
  }
  for (absl::string_view names :
       {telemetry->propagator_->Name(), absl::string_view(propagator_name_)}) {
    if (absl::Status supported = CheckPropagatorsSupported(names); !supported.ok()) {
      return supported;
    }
  }

  telemetry->injection_budget_ = injection_budget_;
  for (CaptureKind kind : {CaptureKind::kGrpcRequest, CaptureKind::kGrpcResponse,
                           CaptureKind::kHttpRequest, CaptureKind::kHttpResponse}) {
    telemetry->header_captures_[static_cast<int>(kind)] =
        HeaderCapture(kind, header_capture_, &telemetry->captured_values_truncated_);
  }

  // Exporters: the configured ones (or the JSON-lines default), then the
  // in-memory store.
  if (exporters_.empty()) {
    JsonLinesOptions options;
    options.path =
        default_span_file_.empty() ? DefaultJsonLinesPath(service_name_) : default_span_file_;
    auto jsonl = JsonLinesExporter::Create(options);
    if (!jsonl.ok()) return jsonl.status();
    exporters_.push_back(std::move(*jsonl));
  }
  for (const auto& exporter : exporters_) {
    if (exporter == nullptr) return absl::InvalidArgumentError("null exporter");
    telemetry->exporter_names_.emplace_back(exporter->Name());
  }
  if (span_store_enabled_) {
    auto store = std::make_unique<InMemorySpanExporter>(span_store_options_);
    telemetry->span_store_ = store.get();
    exporters_.push_back(std::move(store));
  }
  auto fanout = std::make_unique<FanoutExporter>(std::move(exporters_));
  exporters_.clear();

  if (simple_processor_) {
    auto simple = std::make_unique<SimpleSpanProcessor>(std::move(fanout), telemetry->resource_);
    telemetry->simple_processor_ = simple.get();
    telemetry->processor_ = std::move(simple);
  } else {
    auto batch =
        BatchSpanProcessor::Create(std::move(fanout), telemetry->resource_, *batch_options_);
    if (!batch.ok()) return batch.status();
    telemetry->batch_processor_ = batch->get();
    telemetry->processor_ = std::move(*batch);
  }

  TracerOptions tracer_options;
  tracer_options.service_name = service_name_;
  tracer_options.sampler = sampler_ ? sampler_ : ParentBasedSampler(AlwaysOnSampler());
  tracer_options.processor = telemetry->processor_.get();
  tracer_options.limits = span_limits_;
  telemetry->tracer_ = std::make_unique<Tracer>(std::move(tracer_options));
  telemetry->streams_ = std::make_unique<StreamMonitor>(*telemetry->tracer_, *stream_progress_,
                                                        span_limits_.max_events);

  telemetry->metrics_ = std::make_unique<Registry>(metrics_options_);
  Telemetry* self = telemetry.get();
  telemetry->collector_id_ =
      telemetry->metrics_->AddCollector([self](std::vector<MetricFamily>* out) {
        const TelemetryStats stats = self->Stats();
        auto counter = [out](std::string name, std::string help, double value) {
          out->push_back(MetricFamily{
              std::move(name), std::move(help), MetricType::kCounter, {MetricSample{{}, value}}});
        };
        auto gauge = [out](std::string name, std::string help, double value) {
          out->push_back(MetricFamily{
              std::move(name), std::move(help), MetricType::kGauge, {MetricSample{{}, value}}});
        };
        counter("tracebridge_spans_started_total", "Sampled spans started.",
                static_cast<double>(stats.tracer.spans_started));
        counter("tracebridge_spans_ended_total", "Sampled spans ended.",
                static_cast<double>(stats.tracer.spans_ended));
        counter("tracebridge_spans_record_only_started_total",
                "Record-only spans started (recorded, not sampled; see the error sampling rule).",
                static_cast<double>(stats.tracer.record_only_started));
        out->push_back(MetricFamily{
            "tracebridge_spans_record_only_ended_total",
            "Record-only spans ended, by outcome: exported (ended in error) or discarded.",
            MetricType::kCounter,
            {MetricSample{{{"outcome", "exported"}},
                          static_cast<double>(stats.tracer.record_only_exported)},
             MetricSample{{{"outcome", "discarded"}},
                          static_cast<double>(stats.tracer.record_only_discarded)}}});
        counter("tracebridge_spans_exported_total", "Spans the exporters accepted.",
                static_cast<double>(stats.processor.exported));
        out->push_back(MetricFamily{
            "tracebridge_spans_dropped_total",
            "Spans dropped, by reason.",
            MetricType::kCounter,
            {MetricSample{{{"reason", "queue_full"}},
                          static_cast<double>(stats.processor.dropped_queue_full)},
             MetricSample{{{"reason", "shutdown"}},
                          static_cast<double>(stats.processor.dropped_shutdown)},
             MetricSample{{{"reason", "export_failed"}},
                          static_cast<double>(stats.processor.dropped_export_failed)}}});
        counter("tracebridge_span_exports_total", "Export calls.",
                static_cast<double>(stats.processor.export_calls));
        counter("tracebridge_span_export_failures_total", "Export calls that failed.",
                static_cast<double>(stats.processor.export_failures));
        gauge("tracebridge_span_queue_length", "Spans waiting for export.",
              static_cast<double>(stats.processor.queue_length));
        gauge("tracebridge_span_queue_capacity", "The span queue's bound.",
              static_cast<double>(stats.processor.queue_capacity));
        gauge("tracebridge_span_store_spans", "Spans held in the in-memory store.",
              static_cast<double>(stats.span_store.stored));
        out->push_back(MetricFamily{
            "tracebridge_baggage_members_dropped_total",
            "Baggage members not passed on, by reason: left out of outgoing requests by "
            "the injection budget, or received malformed or past the W3C bounds.",
            MetricType::kCounter,
            {MetricSample{{{"reason", "injection_budget"}},
                          static_cast<double>(stats.propagation.baggage_members_dropped)},
             MetricSample{{{"reason", "extract_invalid"}},
                          static_cast<double>(stats.propagation.baggage_extract_invalid)},
             MetricSample{{{"reason", "extract_over_limit"}},
                          static_cast<double>(stats.propagation.baggage_extract_over_limit)}}});
        counter("tracebridge_injections_trimmed_total",
                "Outgoing requests whose baggage was trimmed to the injection budget.",
                static_cast<double>(stats.propagation.injections_trimmed));
        if (self->streams_->enabled()) {
          gauge("tracebridge_streams_watched", "Streams in flight whose progress is recorded.",
                static_cast<double>(stats.streams.watched));
          counter("tracebridge_streams_unwatched_total",
                  "Streams left unwatched because the watch limit was reached.",
                  static_cast<double>(stats.streams.unwatched));
          counter("tracebridge_stream_progress_events_total", "Stream progress events recorded.",
                  static_cast<double>(stats.streams.progress_events));
        }
        counter("tracebridge_captured_values_truncated_total",
                "Captured metadata and header attributes cut to their byte bound.",
                static_cast<double>(stats.captured_values_truncated));
        if (self->metric_reader_ != nullptr) {
          counter("tracebridge_metric_exports_total", "Pushes of the metrics to a metric exporter.",
                  static_cast<double>(stats.metric_reader.exports));
          counter("tracebridge_metric_export_failures_total",
                  "Pushes of the metrics that the metric exporter did not complete.",
                  static_cast<double>(stats.metric_reader.export_failures));
        }
      });

  if (!metric_exporters_.empty()) {
    auto reader =
        PeriodicMetricReader::Create(*telemetry->metrics_, telemetry->resource_,
                                     std::move(metric_exporters_), *metric_reader_options_);
    metric_exporters_.clear();
    if (!reader.ok()) return reader.status();
    telemetry->metric_reader_ = *std::move(reader);
  }
  return telemetry;
}

// ---- Telemetry ----

Telemetry::~Telemetry() {
  Shutdown(absl::Seconds(5)).IgnoreError();
  if (metrics_ != nullptr && collector_id_ != 0) metrics_->RemoveCollector(collector_id_);
}

std::vector<ExporterState> Telemetry::exporters() const {
  std::vector<ExporterState> states;
  for (const std::string& name : exporter_names_) states.push_back({name, !shut_down_});
  if (span_store_ != nullptr) states.push_back({"memory", !shut_down_});
  return states;
}

TelemetryStats Telemetry::Stats() const {
  TelemetryStats stats;
  stats.tracer = tracer_->Stats();
  if (batch_processor_ != nullptr) stats.processor = batch_processor_->Stats();
  if (simple_processor_ != nullptr) stats.processor = simple_processor_->Stats();
  if (span_store_ != nullptr) stats.span_store = span_store_->Stats();
  stats.propagation.baggage_members_dropped =
      baggage_members_dropped_.load(std::memory_order_relaxed);
  stats.propagation.injections_trimmed = injections_trimmed_.load(std::memory_order_relaxed);
  stats.propagation.baggage_extract_invalid =
      baggage_extract_invalid_.load(std::memory_order_relaxed);
  stats.propagation.baggage_extract_over_limit =
      baggage_extract_over_limit_.load(std::memory_order_relaxed);
  if (metric_reader_ != nullptr) stats.metric_reader = metric_reader_->Stats();
  if (streams_ != nullptr) stats.streams = streams_->Stats();
  stats.captured_values_truncated = captured_values_truncated_.load(std::memory_order_relaxed);
  return stats;
}

void Telemetry::Extract(const CarrierReader& carrier, PropagatedContext* context) {
  propagator_->Extract(carrier, context);
  if (context->baggage_dropped_invalid != 0) {
    baggage_extract_invalid_.fetch_add(context->baggage_dropped_invalid, std::memory_order_relaxed);
  }
  if (context->baggage_dropped_over_limit != 0) {
    baggage_extract_over_limit_.fetch_add(context->baggage_dropped_over_limit,
                                          std::memory_order_relaxed);
  }
}

size_t Telemetry::Inject(const PropagatedContext& context, CarrierWriter* carrier, Span* span) {
  // Nothing to write: propagators write nothing for an invalid context and
  // empty baggage (core/propagation/propagator.h).
  if (!context.span_context.IsValid() && context.baggage.empty()) return 0;
  const size_t dropped = InjectWithinBudget(*propagator_, context, injection_budget_, carrier);
  if (dropped == 0) return 0;
  baggage_members_dropped_.fetch_add(dropped, std::memory_order_relaxed);
  injections_trimmed_.fetch_add(1, std::memory_order_relaxed);
  if (span != nullptr && span->IsRecording()) {
    span->SetAttribute("tracebridge.baggage.dropped_members", static_cast<int64_t>(dropped));
  }
  return dropped;
}

absl::Status Telemetry::ForceFlush(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status status = processor_->ForceFlush(timeout);
  if (metric_reader_ != nullptr) {
    absl::Status metrics =
        metric_reader_->ForceFlush(std::max(deadline - absl::Now(), absl::ZeroDuration()));
    if (status.ok()) status = metrics;
  }
  return status;
}

absl::Status Telemetry::Shutdown(absl::Duration timeout) {
  // No processor: Build() gave up on a bad configuration half-way.
  if (shut_down_.exchange(true) || processor_ == nullptr) return absl::OkStatus();
  const absl::Time deadline = absl::Now() + timeout;
  // No interval progress (and no child span) into a stopped pipeline.
  if (streams_ != nullptr) streams_->Stop();
  absl::Status status = processor_->Shutdown(timeout);
  // Metrics last, so their final push counts the spans the pipeline flushed.
  if (metric_reader_ != nullptr) {
    absl::Status metrics =
        metric_reader_->Shutdown(std::max(deadline - absl::Now(), absl::ZeroDuration()));
    if (status.ok()) status = metrics;
  }
  return status;
}

}  // namespace tracebridge
