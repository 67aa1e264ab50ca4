// File: tracebridge/core/telemetry.h
//
// `Telemetry` owns everything one service needs to trace and measure itself:
// the tracer and its sampler, the propagators and their injection budget,
// the span pipeline (a batch processor feeding the exporters and an
// in-memory store of recent spans), and the metrics registry. The gRPC
// interceptors, the Pistache layer and the query service all take a
// `Telemetry&`; nothing is global.
//
// `TelemetryBuilder::Build()` validates the configuration and returns an
// error naming what is wrong. With no exporter configured, spans go to a
// JSON-lines file (see `DefaultJsonLinesPath`), the zero-setup default.
//
// Metrics are served for scraping (the admin listener's `/metrics`) and, with
// `AddMetricExporter`, also pushed: a `PeriodicMetricReader`
// (core/metric_reader.h) exports a snapshot every interval and once more at
// `Shutdown`.
//
// Environment: `TelemetryBuilder::FromEnvironment()` starts from the
// OpenTelemetry variables OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
// OTEL_PROPAGATORS, OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, OTEL_BSP_*,
// OTEL_METRIC_EXPORT_INTERVAL / OTEL_METRIC_EXPORT_TIMEOUT, and
// TRACEBRIDGE_METRICS_NAMING (`otel` or `grpc_prometheus`, see
// core/metrics/naming.h); anything set on the builder afterwards wins.
//
// Threading: every accessor is thread-safe. Destroying a `Telemetry` shuts it
// down; spans must end before that.
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<tracebridge::Telemetry>> telemetry =
//       tracebridge::TelemetryBuilder()
//           .SetServiceName("orders")
//           .SetSampler(tracebridge::ParentBasedSampler(tracebridge::TraceIdRatioSampler(0.1)))
//           .Build();
//   if (!telemetry.ok()) { /* report telemetry.status() */ }
//   tracebridge::Span span = (*telemetry)->tracer().StartSpan("warm-up");

#ifndef TRACEBRIDGE_CORE_TELEMETRY_H_
#define TRACEBRIDGE_CORE_TELEMETRY_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tracebridge/core/export/memory_exporter.h"
#include "tracebridge/core/export/span_exporter.h"
#include "tracebridge/core/export/span_processors.h"
#include "tracebridge/core/metric_reader.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/injection_budget.h"
#include "tracebridge/core/propagation/propagator.h"
#include "tracebridge/core/trace/sampler.h"
#include "tracebridge/core/trace/tracer.h"

namespace tracebridge {

// The library's version, reported by the query service.
inline constexpr absl::string_view kTracebridgeVersion = "0.1.0";

// Baggage members tracebridge did not pass on, by where it left them.
struct PropagationStats {
  uint64_t baggage_members_dropped = 0;     // left out of outgoing requests (budget)
  uint64_t injections_trimmed = 0;          // outgoing requests that lost members
  uint64_t baggage_extract_invalid = 0;     // malformed members of incoming requests
  uint64_t baggage_extract_over_limit = 0;  // incoming members past 64 / 8192 bytes
};

// The span pipeline's figures, for self-metrics and the query service.
struct TelemetryStats {
  TracerStats tracer;
  SpanProcessorStats processor;
  InMemorySpanStats span_store;
  PropagationStats propagation;
  // Zero when no metric exporter is configured.
  MetricReaderStats metric_reader;
};

// One configured exporter and whether it still runs.
struct ExporterState {
  std::string name;
  bool running = true;
};

class Telemetry final {
 public:
  ~Telemetry();
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  Tracer& tracer() noexcept { return *tracer_; }
  const Propagator& propagator() const noexcept { return *propagator_; }
  // The most bytes `Inject` writes (see core/propagation/injection_budget.h).
  size_t injection_budget() const noexcept { return injection_budget_; }

  // Writes `context` to an outgoing request's `carrier` with the configured
  // propagators, within the injection budget: baggage members that do not
  // fit are left out, counted in the self-metrics
  // (`tracebridge_baggage_members_dropped_total`) and, when `span` is given
  // and recording, recorded on it as the int attribute
  // `tracebridge.baggage.dropped_members`. Returns the number left out.
  // Both doors' client sides inject through this.
  size_t Inject(const PropagatedContext& context, CarrierWriter* carrier, Span* span = nullptr);

  // Reads an incoming request's `carrier` into `*context` with the configured
  // propagators, counting the baggage members it could not keep (malformed,
  // or past the W3C bounds) in `tracebridge_baggage_members_dropped_total`.
  // Both doors' server sides extract through this.
  void Extract(const CarrierReader& carrier, PropagatedContext* context);
  Registry& metrics() noexcept { return *metrics_; }
  const Resource& resource() const noexcept { return resource_; }
  // The in-memory store of recent spans; null when disabled.
  InMemorySpanExporter* span_store() noexcept { return span_store_; }
  absl::Time start_time() const noexcept { return start_time_; }
  const std::string& service_version() const noexcept { return service_version_; }
  // The propagator names in extraction order, as OTEL_PROPAGATORS spells them.
  const std::vector<std::string>& propagator_names() const noexcept { return propagator_names_; }
  std::vector<ExporterState> exporters() const;
  TelemetryStats Stats() const;

  // The metric reader pushing to the metric exporters; null without any.
  PeriodicMetricReader* metric_reader() noexcept { return metric_reader_.get(); }

  // Exports every span ended so far and, with metric exporters, the metrics
  // as they are now.
  absl::Status ForceFlush(absl::Duration timeout);

  // Flushes and stops the span pipeline, then exports the metrics one last
  // time and stops the metric reader; spans ended afterwards are dropped and
  // counted. Idempotent.
  absl::Status Shutdown(absl::Duration timeout);

 private:
  friend class TelemetryBuilder;
  Telemetry() = default;

  Resource resource_;
  std::string service_version_;
  absl::Time start_time_;
  std::unique_ptr<Registry> metrics_;
  std::unique_ptr<Propagator> propagator_;
  std::vector<std::string> propagator_names_;
  size_t injection_budget_ = kDefaultInjectionBudget;
  std::atomic<uint64_t> baggage_members_dropped_{0};
  std::atomic<uint64_t> injections_trimmed_{0};
  std::atomic<uint64_t> baggage_extract_invalid_{0};
  std::atomic<uint64_t> baggage_extract_over_limit_{0};
  std::vector<std::string> exporter_names_;
  InMemorySpanExporter* span_store_ = nullptr;  // owned by the processor's exporter
  std::unique_ptr<SpanProcessor> processor_;
  BatchSpanProcessor* batch_processor_ = nullptr;
  SimpleSpanProcessor* simple_processor_ = nullptr;
  std::unique_ptr<Tracer> tracer_;
  // After the registry: destroyed (stopped) before it.
  std::unique_ptr<PeriodicMetricReader> metric_reader_;
  int collector_id_ = 0;
  std::atomic<bool> shut_down_{false};
};

class TelemetryBuilder final {
 public:
  TelemetryBuilder() = default;

  // A builder preloaded from the OpenTelemetry environment variables (see the
  // file comment). Invalid values are reported by `Build()`.
  static TelemetryBuilder FromEnvironment();

  // `service.name`; default "unknown_service".
  TelemetryBuilder& SetServiceName(std::string name);
  // `service.version`.
  TelemetryBuilder& SetServiceVersion(std::string version);
  TelemetryBuilder& AddResourceAttribute(std::string key, AttributeValue value);

  // Default: ParentBased(AlwaysOn).
  TelemetryBuilder& SetSampler(std::shared_ptr<Sampler> sampler);

  // An OTEL_PROPAGATORS-style list; default "tracecontext,baggage".
  TelemetryBuilder& SetPropagators(std::string list);
  // A ready-made propagator instead of a list.
  TelemetryBuilder& SetPropagator(std::unique_ptr<Propagator> propagator, std::string name);
  // The most bytes injection writes into one outgoing request's headers or
  // metadata (default `kDefaultInjectionBudget`, 2048; must be positive).
  // Baggage members past it are dropped and counted, never the call. To
  // carry full-size W3C baggage (8192 bytes) raise it to about 10 KiB, and
  // the next hops' limits with it.
  TelemetryBuilder& SetInjectionBudget(size_t bytes);

  // Adds an exporter. With none, spans go to a JSON-lines file.
  TelemetryBuilder& AddExporter(std::unique_ptr<SpanExporter> exporter);
  // The JSON-lines file used when no exporter is added (default:
  // `DefaultJsonLinesPath(service name)`).
  TelemetryBuilder& SetDefaultSpanFile(std::string path);

  TelemetryBuilder& SetBatchOptions(BatchSpanProcessorOptions options);
  // Export on the ending thread (tests and debugging only).
  TelemetryBuilder& UseSimpleProcessor(bool simple = true);
  TelemetryBuilder& SetSpanLimits(SpanLimits limits);
  // Series cap, shards and naming (all of `RegistryOptions`).
  TelemetryBuilder& SetMetricsOptions(RegistryOptions options);
  // How metrics are named (core/metrics/naming.h); default `kOtel`.
  TelemetryBuilder& SetMetricsNaming(MetricsNaming naming);
  // Adds an exporter the metrics are pushed to (core/metric_reader.h). With
  // none, metrics are only served for scraping.
  TelemetryBuilder& AddMetricExporter(std::unique_ptr<MetricExporter> exporter);
  // How often and how long the push takes (default 60 s and 30 s).
  TelemetryBuilder& SetMetricReaderOptions(MetricReaderOptions options);
  // Bounds of the in-memory store of recent spans (the query service and the
  // `/traces` endpoint read it); `enabled = false` turns it off.
  TelemetryBuilder& SetSpanStore(InMemorySpanExporterOptions options, bool enabled = true);

  absl::StatusOr<std::unique_ptr<Telemetry>> Build();

 private:
  std::string service_name_ = "unknown_service";
  std::string service_version_;
  std::vector<Attribute> resource_attributes_;
  std::shared_ptr<Sampler> sampler_;
  std::string propagator_list_ = "tracecontext,baggage";
  std::unique_ptr<Propagator> propagator_;
  std::string propagator_name_;
  size_t injection_budget_ = kDefaultInjectionBudget;
  std::vector<std::unique_ptr<SpanExporter>> exporters_;
  std::string default_span_file_;
  absl::StatusOr<BatchSpanProcessorOptions> batch_options_ = BatchSpanProcessorOptions();
  bool simple_processor_ = false;
  SpanLimits span_limits_;
  RegistryOptions metrics_options_;
  std::vector<std::unique_ptr<MetricExporter>> metric_exporters_;
  absl::StatusOr<MetricReaderOptions> metric_reader_options_ = MetricReaderOptions();
  InMemorySpanExporterOptions span_store_options_;
  bool span_store_enabled_ = true;
  // The first invalid environment value, reported by Build().
  absl::Status environment_error_;
};

// Builds a sampler from an OTEL_TRACES_SAMPLER name and its
// OTEL_TRACES_SAMPLER_ARG. Every name also exists with a `parentbased_`
// prefix (a root span asks the named sampler, other spans follow their
// parent; see ParentBasedRuleSampler for the rules' variant).
//   always_on, always_off
//   traceidratio               `arg`: the ratio in [0, 1] (default 1)
//   tracebridge_ratelimiting   `arg`: spans per second (required), e.g. "10"
//   tracebridge_adaptive       `arg`: TARGET[:MIN[:MAX]] (required), e.g.
//                              "100" or "100:0.001:1" (target spans per
//                              second, ratio bounds; default 0.0001 and 1)
//   tracebridge_rules          `arg`: rules (required), as in
//                              core/trace/rule_sampler.h, e.g.
//                              "route:/healthz=rate:1;error=always_on;default=ratio:0.1"
// Names are case-insensitive. InvalidArgument naming the sampler and the
// problem for an unknown name or a malformed argument.
absl::StatusOr<std::shared_ptr<Sampler>> SamplerFromName(absl::string_view name,
                                                         absl::string_view arg);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_TELEMETRY_H_
