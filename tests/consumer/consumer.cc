// File: tests/consumer/consumer.cc
//
// A program outside the tracebridge workspace that uses its public targets
// the way a user's service does: a `Telemetry`, tracebridge installed on its
// own `grpc::ServerBuilder` next to its own service (compiled in this
// workspace with `cc_grpc_library`), calls through `CreateTracedChannel`,
// and the result read back over gRPC from the `tracebridge.v1.Query`
// service. Prints one summary line; exits 0 only when every check holds.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "consumer.grpc.pb.h"
#include "core/telemetry.h"
#include "interceptors/install.h"
#include "proto/tracebridge/v1/query.grpc.pb.h"

namespace {

constexpr int kCalls = 3;
constexpr char kMethod[] = "consumer.Greeter/Greet";

class Greeter final : public consumer::Greeter::Service {
  grpc::Status Greet(grpc::ServerContext*, const consumer::GreetRequest* request,
                     consumer::GreetReply* reply) override {
    reply->set_greeting("hello, " + request->name());
    return grpc::Status::OK;
  }
};

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(10);
}

// The count of `kMethod` on `side`, or -1 when the series is missing.
int64_t CountOf(const tracebridge::v1::GetMetricsResponse& metrics, tracebridge::v1::Side side) {
  for (const tracebridge::v1::SeriesMetrics& series : metrics.series()) {
    if (series.side() == side && series.name() == kMethod) return series.count();
  }
  return -1;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "consumer: FAIL: %s\n", message.c_str());
  return 1;
}

int Run(const std::string& span_file) {
  absl::StatusOr<std::unique_ptr<tracebridge::Telemetry>> telemetry =
      tracebridge::TelemetryBuilder()
          .SetServiceName("consumer")
          .SetDefaultSpanFile(span_file)
          .Build();
  if (!telemetry.ok()) return Fail("telemetry: " + telemetry.status().ToString());

  Greeter greeter;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&greeter);
  tracebridge::Installation installation = tracebridge::InstallOn(builder, **telemetry);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return Fail("could not listen on 127.0.0.1");
  const std::string target = "127.0.0.1:" + std::to_string(port);

  int result = 0;
  std::string summary;
  {
    auto stub = consumer::Greeter::NewStub(
        tracebridge::CreateTracedChannel(target, grpc::InsecureChannelCredentials(), **telemetry));
    for (int i = 0; i < kCalls && result == 0; ++i) {
      grpc::ClientContext context;
      context.set_deadline(Deadline());
      consumer::GreetRequest request;
      request.set_name("consumer");
      consumer::GreetReply reply;
      const grpc::Status status = stub->Greet(&context, request, &reply);
      if (!status.ok()) result = Fail("Greet: " + status.error_message());
    }

    // The query service answers on the same server; any channel reaches it.
    auto query = tracebridge::v1::Query::NewStub(
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    tracebridge::v1::GetMetricsRequest request;
    request.set_protocol(tracebridge::v1::PROTOCOL_GRPC);
    request.set_name_prefix(kMethod);
    tracebridge::v1::GetMetricsResponse metrics;
    const grpc::Status status = query->GetMetrics(&context, request, &metrics);
    if (result == 0 && !status.ok()) result = Fail("GetMetrics: " + status.error_message());
    if (result == 0) {
      // The server records a call before sending its status and the client
      // when the status arrives, so both counts are final by now.
      const int64_t served = CountOf(metrics, tracebridge::v1::SIDE_SERVER);
      const int64_t made = CountOf(metrics, tracebridge::v1::SIDE_CLIENT);
      summary = "server " + std::to_string(served) + ", client " + std::to_string(made);
      if (served != kCalls || made != kCalls) {
        result = Fail(std::string(kMethod) + " counts: " + summary + "; expected " +
                      std::to_string(kCalls) + " each");
      }
    }
  }

  server->Shutdown(Deadline());
  const absl::Status shutdown = (*telemetry)->Shutdown(absl::Seconds(5));
  if (result == 0 && !shutdown.ok()) result = Fail("telemetry shutdown: " + shutdown.ToString());
  if (result == 0) {
    std::printf("consumer: ok, %d calls to %s counted via tracebridge.v1.Query (%s)\n", kCalls,
                kMethod, summary.c_str());
  }
  return result;
}

}  // namespace

int main() {
  // The JSON-lines span file (the default exporter) goes to a private
  // temporary directory, removed afterwards.
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/consumer.XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) return Fail("cannot create a temporary directory");
  const std::string span_file = dir + "/spans.jsonl";
  const int result = Run(span_file);
  unlink(span_file.c_str());
  rmdir(dir.c_str());
  return result;
}
