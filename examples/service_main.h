// File: examples/service_main.h
//
// What the example services share: flags for the sampler, the exporter, the
// metrics naming and the admin listener, the Telemetry built from them, the line that tells a
// launcher a service is listening, and waiting for the signal (or closed
// stdin) that stops it.

#ifndef TRACEBRIDGE_EXAMPLES_SERVICE_MAIN_H_
#define TRACEBRIDGE_EXAMPLES_SERVICE_MAIN_H_

#include <memory>
#include <string>

#include <grpcpp/impl/service_type.h>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "tracebridge/admin/admin_listener.h"
#include "tracebridge/core/telemetry.h"

ABSL_DECLARE_FLAG(std::string, sampler);
ABSL_DECLARE_FLAG(std::string, sampler_arg);
ABSL_DECLARE_FLAG(std::string, otlp);
ABSL_DECLARE_FLAG(std::string, otlp_protocol);
ABSL_DECLARE_FLAG(std::string, metrics_naming);
ABSL_DECLARE_FLAG(std::string, span_dir);
ABSL_DECLARE_FLAG(bool, exit_on_stdin_eof);
ABSL_DECLARE_FLAG(int, admin_port);
ABSL_DECLARE_FLAG(int, admin_grpc_port);

namespace tracebridge {
namespace examples {

// Telemetry for `service`: the --sampler (an OTEL_TRACES_SAMPLER name, with
// --sampler_arg), spans over OTLP to --otlp when given (--otlp_protocol,
// otherwise OTEL_EXPORTER_OTLP_*), else to a JSON-lines file in --span_dir
// (default: the temporary directory); metrics named as --metrics_naming says,
// and pushed over OTLP when OTEL_METRICS_EXPORTER=otlp
// (OTEL_EXPORTER_OTLP_METRICS_*, OTEL_METRIC_EXPORT_INTERVAL).
absl::StatusOr<std::unique_ptr<Telemetry>> BuildTelemetry(const std::string& service);

// The admin listener's options from --admin_port (HTTP) and --admin_grpc_port
// (tracebridge.v1.Query): loopback, 0 picks a free port.
AdminListenerOptions AdminOptionsFromFlags();

// Prints "LISTENING <name> <port> admin_http=<host:port> admin_grpc=<host:port>"
// on stdout and flushes: what the demo waits for.
void AnnounceListening(const std::string& name, int port, const AdminListener& admin);

// Serves `service` on 127.0.0.1:`port` (0: a free port) with tracebridge
// installed and its admin listener on loopback, announces both as `name`,
// and runs until `WaitForShutdown` returns; then stops the server and
// flushes the telemetry. The process exit code: 0, or 1 when the server
// cannot start.
int ServeGrpc(const std::string& name, Telemetry& telemetry, grpc::Service& service, int port);

// Parses flags and blocks SIGINT/SIGTERM in every thread started afterwards,
// so that `WaitForShutdown` receives them instead of the default action
// killing the process mid-request. Call first thing in `main`.
void InitService(int argc, char** argv);

// Blocks until SIGINT or SIGTERM arrives or, with --exit_on_stdin_eof, stdin
// reaches end of file (the launcher went away). Call from the main thread
// after the servers have started.
void WaitForShutdown();

}  // namespace examples
}  // namespace tracebridge

#endif  // TRACEBRIDGE_EXAMPLES_SERVICE_MAIN_H_
