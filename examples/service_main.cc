#include "examples/service_main.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <grpcpp/grpcpp.h>
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"

#include "tracebridge/core/export/jsonl_exporter.h"
#include "tracebridge/core/metrics/naming.h"
#include "tracebridge/exporters/otlp/otlp_metric_exporter.h"
#include "tracebridge/exporters/otlp/otlp_span_exporter.h"
#include "tracebridge/interceptors/install.h"

ABSL_FLAG(std::string, sampler, "parentbased_always_on",
          "Sampler, as OTEL_TRACES_SAMPLER names it: always_on, always_off, traceidratio, "
          "tracebridge_ratelimiting, tracebridge_adaptive, tracebridge_rules, each also with a "
          "parentbased_ prefix.");
ABSL_FLAG(std::string, sampler_arg, "",
          "The sampler's argument, as OTEL_TRACES_SAMPLER_ARG: a ratio, spans per second, "
          "TARGET[:MIN[:MAX]] or rules such as "
          "\"route:/healthz=rate:1;error=always_on;default=ratio:0.1\".");
ABSL_FLAG(std::string, otlp, "",
          "Send spans over OTLP to this endpoint instead of a file: host:port for grpc, the URL "
          "(http://host:4318/v1/traces) for http/protobuf. Other settings come from "
          "OTEL_EXPORTER_OTLP_*.");
ABSL_FLAG(std::string, otlp_protocol, "",
          "grpc or http/protobuf (default: OTEL_EXPORTER_OTLP_PROTOCOL, else grpc).");
ABSL_FLAG(std::string, metrics_naming, "",
          "Metric names on /metrics and over OTLP: otel (the OpenTelemetry semantic "
          "conventions) or grpc_prometheus (go-grpc-prometheus' grpc_server_* families for "
          "gRPC); default: TRACEBRIDGE_METRICS_NAMING, else otel.");
ABSL_FLAG(std::string, span_dir, "",
          "Directory for the JSON-lines span file (default: $TMPDIR or /tmp).");
ABSL_FLAG(int, admin_port, 0,
          "HTTP port of the admin listener (/metrics, /metrics.json, /traces/:id) on "
          "127.0.0.1; 0 picks a free one.");
ABSL_FLAG(int, admin_grpc_port, 0,
          "gRPC port of the admin listener (tracebridge.v1.Query) on 127.0.0.1; 0 picks a "
          "free one.");
ABSL_FLAG(bool, exit_on_stdin_eof, false,
          "Stop when stdin closes, and when the parent process dies (how the demo runs "
          "its services, so none outlives it).");

namespace tracebridge {
namespace examples {

absl::StatusOr<std::unique_ptr<Telemetry>> BuildTelemetry(const std::string& service) {
  auto sampler = SamplerFromName(absl::GetFlag(FLAGS_sampler), absl::GetFlag(FLAGS_sampler_arg));
  if (!sampler.ok()) return sampler.status();
  TelemetryBuilder builder = TelemetryBuilder::FromEnvironment();
  builder.SetServiceName(service).SetServiceVersion("demo").SetSampler(*sampler);
  // Short export delay so the demo's spans are queryable within a moment.
  BatchSpanProcessorOptions batch;
  batch.schedule_delay = absl::Milliseconds(200);
  builder.SetBatchOptions(batch);
  if (const std::string naming = absl::GetFlag(FLAGS_metrics_naming); !naming.empty()) {
    absl::StatusOr<MetricsNaming> parsed = ParseMetricsNaming(naming);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--metrics_naming: ", parsed.status().message()));
    }
    builder.SetMetricsNaming(*parsed);
  }
  // Metrics are pushed over OTLP only when OTEL_METRICS_EXPORTER=otlp asks.
  absl::StatusOr<std::unique_ptr<MetricExporter>> metric_exporter = MetricExporterFromEnvironment();
  if (!metric_exporter.ok()) return metric_exporter.status();
  if (*metric_exporter != nullptr) builder.AddMetricExporter(*std::move(metric_exporter));
  if (!absl::GetFlag(FLAGS_otlp).empty()) {
    absl::StatusOr<OtlpExporterOptions> options = OtlpExporterOptions::FromEnvironment();
    if (!options.ok()) return options.status();
    const std::string protocol = absl::GetFlag(FLAGS_otlp_protocol);
    if (protocol == "grpc") {
      options->protocol = OtlpProtocol::kGrpc;
    } else if (protocol == "http/protobuf") {
      options->protocol = OtlpProtocol::kHttpProtobuf;
    } else if (!protocol.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--otlp_protocol=", protocol, ": neither grpc nor http/protobuf"));
    }
    options->endpoint = absl::GetFlag(FLAGS_otlp);
    auto exporter = CreateOtlpSpanExporter(*std::move(options));
    if (!exporter.ok()) return exporter.status();
    builder.AddExporter(std::move(*exporter));
  } else {
    std::string dir = absl::GetFlag(FLAGS_span_dir);
    if (dir.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    }
    builder.SetDefaultSpanFile(absl::StrCat(dir, "/", service, ".jsonl"));
  }
  return builder.Build();
}

AdminListenerOptions AdminOptionsFromFlags() {
  AdminListenerOptions options;
  options.http_port = absl::GetFlag(FLAGS_admin_port);
  options.grpc_port = absl::GetFlag(FLAGS_admin_grpc_port);
  return options;
}

int ServeGrpc(const std::string& name, Telemetry& telemetry, grpc::Service& service, int port) {
  int bound = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::InsecureServerCredentials(),
                           &bound);
  builder.RegisterService(&service);
  InstallOptions options;
  options.admin = AdminOptionsFromFlags();
  absl::StatusOr<Installation> installation = InstallOn(builder, telemetry, std::move(options));
  if (!installation.ok()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), installation.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound == 0) {
    std::fprintf(stderr, "%s: cannot listen on port %d\n", name.c_str(), port);
    return 1;
  }
  AnnounceListening(name, bound, *installation->admin_listener());
  WaitForShutdown();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  installation->admin_listener()->Shutdown();
  telemetry.Shutdown(absl::Seconds(2)).IgnoreError();
  return 0;
}

void AnnounceListening(const std::string& name, int port, const AdminListener& admin) {
  std::printf("LISTENING %s %d admin_http=%s admin_grpc=%s\n", name.c_str(), port,
              admin.http_address().c_str(), admin.grpc_address().c_str());
  std::fflush(stdout);
}

namespace {
sigset_t ShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}
}  // namespace

void InitService(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  sigset_t signals = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (absl::GetFlag(FLAGS_exit_on_stdin_eof)) prctl(PR_SET_PDEATHSIG, SIGTERM);
}

void WaitForShutdown() {
  sigset_t signals = ShutdownSignals();
  const bool watch_stdin = absl::GetFlag(FLAGS_exit_on_stdin_eof);
  for (;;) {
    timespec timeout{0, 100 * 1000 * 1000};
    if (sigtimedwait(&signals, nullptr, &timeout) > 0) return;
    if (!watch_stdin) continue;
    pollfd in{STDIN_FILENO, POLLIN, 0};
    if (poll(&in, 1, 0) > 0 && (in.revents & (POLLHUP | POLLIN | POLLERR)) != 0) {
      char buffer[256];
      if (read(STDIN_FILENO, buffer, sizeof(buffer)) <= 0) return;
    }
  }
}

}  // namespace examples
}  // namespace tracebridge
