// File: bench/grpc_configs.cc

#include "bench/grpc_configs.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "tracebridge/core/trace/sampler.h"
#include "tracebridge/interceptors/grpc_interceptors.h"

namespace tracebridge {
namespace bench {
namespace {

constexpr GrpcMode kModes[] = {GrpcMode::kBare, GrpcMode::kNoop,       GrpcMode::kMetrics,
                               GrpcMode::kFull, GrpcMode::kSampledOut, GrpcMode::kFullNoXid};

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "grpc benchmark: %s\n", what.c_str());
  std::exit(1);
}

std::unique_ptr<Telemetry> MakeTelemetry(const std::string& service, GrpcMode mode,
                                         std::unique_ptr<SpanExporter> exporter) {
  TelemetryBuilder builder;
  builder.SetServiceName(service)
      .AddExporter(exporter != nullptr ? std::move(exporter)
                                       : std::make_unique<DiscardingExporter>())
      .SetSpanStore({}, /*enabled=*/false);
  if (mode == GrpcMode::kSampledOut) builder.SetSampler(ParentBasedSampler(AlwaysOffSampler()));
  absl::StatusOr<std::unique_ptr<Telemetry>> telemetry = builder.Build();
  if (!telemetry.ok()) Fail(service + ": telemetry: " + telemetry.status().ToString());
  return *std::move(telemetry);
}

// An interceptor that only proceeds: what gRPC's interception machinery
// costs by itself, the floor under any interceptor-based instrumentation.
class NoopInterceptor final : public grpc::experimental::Interceptor {
 public:
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }
};

class NoopServerFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo*) override {
    return new NoopInterceptor();
  }
};

class NoopClientFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new NoopInterceptor();
  }
};

}  // namespace

absl::string_view GrpcModeName(GrpcMode mode) {
  switch (mode) {
    case GrpcMode::kBare:
      return "bare";
    case GrpcMode::kNoop:
      return "noop";
    case GrpcMode::kMetrics:
      return "metrics";
    case GrpcMode::kFull:
      return "full";
    case GrpcMode::kSampledOut:
      return "sampled_out";
    case GrpcMode::kFullNoXid:
      return "full_no_xid";
  }
  return "bare";
}

absl::optional<GrpcMode> GrpcModeFromName(absl::string_view name) {
  for (GrpcMode mode : kModes) {
    if (GrpcModeName(mode) == name) return mode;
  }
  return absl::nullopt;
}

std::vector<Telemetry*> GrpcConfig::telemetries() const {
  std::vector<Telemetry*> all;
  for (Telemetry* telemetry : {server_telemetry.get(), client_telemetry.get()}) {
    if (telemetry != nullptr) all.push_back(telemetry);
  }
  return all;
}

void GrpcConfig::Flush() const {
  for (Telemetry* telemetry : telemetries()) (void)telemetry->ForceFlush(absl::Seconds(5));
}

std::unique_ptr<GrpcConfig> StartGrpcConfig(GrpcMode mode, const ExporterFactory& exporter) {
  auto config = std::make_unique<GrpcConfig>();
  config->mode = mode;
  config->name = std::string(GrpcModeName(mode));
  const bool instrumented = mode != GrpcMode::kBare && mode != GrpcMode::kNoop;
  const bool tracing =
      mode == GrpcMode::kFull || mode == GrpcMode::kSampledOut || mode == GrpcMode::kFullNoXid;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&config->service);
  if (mode == GrpcMode::kNoop) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(std::make_unique<NoopServerFactory>());
    builder.experimental().SetInterceptorCreators(std::move(creators));
  } else if (instrumented) {
    config->server_telemetry =
        MakeTelemetry(config->name + "-server", mode, exporter ? exporter("server") : nullptr);
    config->client_telemetry =
        MakeTelemetry(config->name + "-client", mode, exporter ? exporter("client") : nullptr);
    InstallOptions options;
    options.server.tracing = tracing;
    options.server.trace_id_response_header = mode != GrpcMode::kFullNoXid;
    options.admin_listener = false;  // without it InstallOn cannot fail
    config->installation = *InstallOn(builder, *config->server_telemetry, std::move(options));
  }
  config->server = builder.BuildAndStart();
  if (config->server == nullptr || port == 0) Fail(config->name + ": cannot listen on 127.0.0.1");
  const std::string target = "127.0.0.1:" + std::to_string(port);
  std::shared_ptr<grpc::Channel> channel;
  if (mode == GrpcMode::kBare) {
    channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  } else if (mode == GrpcMode::kNoop) {
    std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> creators;
    creators.push_back(std::make_unique<NoopClientFactory>());
    channel = grpc::experimental::CreateCustomChannelWithInterceptors(
        target, grpc::InsecureChannelCredentials(), grpc::ChannelArguments(), std::move(creators));
  } else {
    GrpcClientOptions options;
    options.tracing = tracing;
    channel = CreateTracedChannel(target, grpc::InsecureChannelCredentials(),
                                  *config->client_telemetry, std::move(options));
  }
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    Fail(config->name + ": cannot connect");
  }
  config->stub = testing::Echo::NewStub(channel);
  return config;
}

void StopGrpcConfig(GrpcConfig& config) {
  config.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

testing::EchoRequest EchoProbe() {
  testing::EchoRequest request;
  request.set_message("tracebridge overhead probe");
  return request;
}

bool CallUnary(testing::Echo::Stub& stub, const testing::EchoRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  testing::EchoResponse response;
  return stub.Unary(&context, request, &response).ok();
}

}  // namespace bench
}  // namespace tracebridge
