// File: tests/testing/traced_service.h
//
// Fixtures for end-to-end gRPC tests: a `Telemetry` that exports each span as
// it ends into its in-memory store (plus a JSON-lines file under the test's
// temporary directory), a traced gRPC server on 127.0.0.1:0, and waits over
// the span store and the metrics registry with deadlines.

#ifndef TRACEBRIDGE_TESTS_TESTING_TRACED_SERVICE_H_
#define TRACEBRIDGE_TESTS_TESTING_TRACED_SERVICE_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"
#include "tests/testing/test_telemetry.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/interceptors/install.h"

namespace tracebridge {
namespace testing {

// A traced gRPC server on 127.0.0.1:0 serving `services`, with its admin
// listener (unless `options` turn it off). Aborts with the reason when
// tracebridge cannot be installed.
struct TracedServer {
  // Declared before `server`, so the server goes first: nothing is left to
  // call a service being destroyed.
  Installation installation;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
  // Where the admin listener serves tracebridge.v1.Query and /metrics.
  std::string admin_grpc_address() const { return installation.admin_listener()->grpc_address(); }
  int admin_http_port() const { return installation.admin_listener()->http_port(); }
};
TracedServer StartTracedServer(Telemetry& telemetry, std::vector<grpc::Service*> services,
                               InstallOptions options = {},
                               std::function<void(grpc::ServerBuilder&)> configure = nullptr);

// The gRPC deadline `timeout` from now.
std::chrono::system_clock::time_point DeadlineIn(absl::Duration timeout);

// Calls `ready` every few milliseconds until it returns true (true) or
// `timeout` passes (false): for state that offers no notification.
bool PollUntil(const std::function<bool()>& ready, absl::Duration timeout);

// Every stored span of `trace_id` in `telemetry`'s store, waiting until at
// least `count` are there (or `timeout`).
std::vector<SpanData> WaitForTrace(Telemetry& telemetry, const TraceId& trace_id, size_t count,
                                   absl::Duration timeout = absl::Seconds(10));

// The snapshot of one gRPC series ("pkg.Service", "Method"), waiting until it
// has handled at least `handled` calls (or `timeout`). Empty name on timeout.
SeriesSnapshot WaitForSeries(Telemetry& telemetry, Side side, const std::string& service,
                             const std::string& method, uint64_t handled,
                             absl::Duration timeout = absl::Seconds(10));

// The first span named `name` with `kind` in `spans` (nullptr if none).
const SpanData* FindSpan(const std::vector<SpanData>& spans, const std::string& name,
                         SpanKind kind);

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_TRACED_SERVICE_H_
