// File: bench/grpc_configs.cc

#include "bench/grpc_configs.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
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
                               GrpcMode::kFull, GrpcMode::kSampledOut, GrpcMode::kFullNoXid,
                               GrpcMode::kFloor};

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

// The least a propagating interceptor does: the client adds a `traceparent`
// whose ids change every call (as real ones do, so HPACK cannot index the
// value), the server looks it up in the received metadata.
class CarryingClientInterceptor final : public grpc::experimental::Interceptor {
 public:
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      static std::atomic<uint64_t> calls{0};
      char value[] = "00-00000000000000000000000000000000-0000000000000000-01";
      const uint64_t call = calls.fetch_add(1, std::memory_order_relaxed) + 1;
      for (int i = 0; i < 16; ++i) {
        const char digit = "0123456789abcdef"[(call >> (4 * i)) & 0xf];
        value[34 - i] = digit;  // the trace id's last 16 digits
        value[51 - i] = digit;  // the span id
      }
      methods->GetSendInitialMetadata()->emplace("traceparent", std::string(value, 55));
    }
    methods->Proceed();
  }
};

class CarryingServerInterceptor final : public grpc::experimental::Interceptor {
 public:
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      const auto* metadata = methods->GetRecvInitialMetadata();
      if (metadata == nullptr || metadata->find("traceparent") == metadata->end()) {
        std::fprintf(stderr, "grpc benchmark: floor: no traceparent arrived\n");
        std::abort();
      }
    }
    methods->Proceed();
  }
};

template <typename Interceptor>
class ServerFactoryOf final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo*) override {
    return new Interceptor();
  }
};

template <typename Interceptor>
class ClientFactoryOf final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new Interceptor();
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
    case GrpcMode::kFloor:
      return "floor";
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
  const bool instrumented =
      mode != GrpcMode::kBare && mode != GrpcMode::kNoop && mode != GrpcMode::kFloor;
  const bool tracing =
      mode == GrpcMode::kFull || mode == GrpcMode::kSampledOut || mode == GrpcMode::kFullNoXid;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&config->service);
  if (mode == GrpcMode::kNoop || mode == GrpcMode::kFloor) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    if (mode == GrpcMode::kNoop) {
      creators.push_back(std::make_unique<ServerFactoryOf<NoopInterceptor>>());
    } else {
      creators.push_back(std::make_unique<ServerFactoryOf<CarryingServerInterceptor>>());
    }
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
  } else if (mode == GrpcMode::kNoop || mode == GrpcMode::kFloor) {
    std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> creators;
    if (mode == GrpcMode::kNoop) {
      creators.push_back(std::make_unique<ClientFactoryOf<NoopInterceptor>>());
    } else {
      creators.push_back(std::make_unique<ClientFactoryOf<CarryingClientInterceptor>>());
    }
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
