// File: bench/grpc_configs.h
//
// The gRPC configurations the gRPC benchmarks compare, each a real server on
// its own 127.0.0.1 port with its own channel, client and server in this
// process, serving the test Echo service:
//
//   bare         no interceptors on either side
//   noop         an interceptor that only proceeds, on both sides: gRPC's own
//                interception cost, the floor for any interceptor
//   metrics      tracebridge's interceptors with tracing off (metrics only)
//   full         metrics plus tracing at 100% sampling (ParentBased(AlwaysOn))
//   sampled_out  tracing on, every trace sampled out (ParentBased(AlwaysOff)):
//                the context still propagates, nothing is recorded
//   full_no_xid  full without the `x-trace-id` response header
//                (`trace_id_response_header = false`): what that header costs
//   floor        do-nothing interceptors that only carry context: the client
//                adds a fresh 55-byte `traceparent`, the server finds it in
//                the received metadata. No spans, no metrics: what gRPC
//                charges any W3C propagation through its interceptor API
//
// Spans go through the batch processor (default options) to an exporter that
// discards them, with no in-memory span store, unless the caller asks for
// another exporter: the cost measured is tracebridge's, not an exporter's.
//
// Example:
//
//   std::unique_ptr<GrpcConfig> full = StartGrpcConfig(GrpcMode::kFull);
//   testing::EchoResponse response;
//   bool ok = CallUnary(*full->stub, EchoProbe());

#ifndef TRACEBRIDGE_BENCH_GRPC_CONFIGS_H_
#define TRACEBRIDGE_BENCH_GRPC_CONFIGS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/server.h>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/echo_service.h"
#include "tracebridge/core/export/span_exporter.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/interceptors/install.h"

namespace tracebridge {
namespace bench {

enum class GrpcMode { kBare, kNoop, kMetrics, kFull, kSampledOut, kFullNoXid, kFloor };

// "bare", "noop", "metrics", "full", "sampled_out", "full_no_xid", "floor".
absl::string_view GrpcModeName(GrpcMode mode);
// The mode named `name`, if any.
absl::optional<GrpcMode> GrpcModeFromName(absl::string_view name);

// Accepts every batch and drops it.
class DiscardingExporter final : public SpanExporter {
 public:
  absl::string_view Name() const noexcept override { return "discard"; }
  absl::Status Export(const Resource&, absl::Span<const std::unique_ptr<SpanData>>,
                      absl::Time) override {
    return absl::OkStatus();
  }
  absl::Status Shutdown(absl::Duration) override { return absl::OkStatus(); }
};

// Makes the exporter of one side's telemetry ("server" or "client").
using ExporterFactory = std::function<std::unique_ptr<SpanExporter>(absl::string_view side)>;

// One configuration: a server, a channel to it and each side's telemetry.
struct GrpcConfig {
  GrpcMode mode = GrpcMode::kBare;
  std::string name;
  std::unique_ptr<Telemetry> server_telemetry;  // null for bare and noop
  std::unique_ptr<Telemetry> client_telemetry;
  testing::EchoServiceImpl service;
  Installation installation;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<testing::Echo::Stub> stub;

  // Both sides' telemetry, where there is one.
  std::vector<Telemetry*> telemetries() const;
  // Flushes both sides' span pipelines (5 s at most each).
  void Flush() const;
};

// Starts `mode` (exits the process with a message when it cannot: a
// benchmark has nothing to measure then). `exporter` null: discarding.
std::unique_ptr<GrpcConfig> StartGrpcConfig(GrpcMode mode, const ExporterFactory& exporter = {});

// Shuts the server down.
void StopGrpcConfig(GrpcConfig& config);

// The request every benchmark call sends (a 27-byte message).
testing::EchoRequest EchoProbe();

// One unary call with a 10 s deadline; true when it succeeded.
bool CallUnary(testing::Echo::Stub& stub, const testing::EchoRequest& request);

}  // namespace bench
}  // namespace tracebridge

#endif  // TRACEBRIDGE_BENCH_GRPC_CONFIGS_H_
