// File: tracebridge/interceptors/install.h
//
// One call per side:
//
// `InstallOn(builder, telemetry)` adds the server interceptors and the
// `tracebridge.v1.Query` service to a `grpc::ServerBuilder`.
// `CreateTracedChannel(target, credentials, telemetry)` makes a channel whose
// calls carry the trace and record client metrics.
//
// Example:
//
//   grpc::ServerBuilder builder;
//   builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
//   builder.RegisterService(&my_service);
//   tracebridge::Installation installation = tracebridge::InstallOn(builder, *telemetry);
//   auto server = builder.BuildAndStart();
//
//   auto channel = tracebridge::CreateTracedChannel(
//       "127.0.0.1:50051", grpc::InsecureChannelCredentials(), *telemetry);
//   auto stub = my::Service::NewStub(channel);

#ifndef TRACEBRIDGE_INTERCEPTORS_INSTALL_H_
#define TRACEBRIDGE_INTERCEPTORS_INSTALL_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/impl/service_type.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/channel_arguments.h>

#include "tracebridge/core/telemetry.h"
#include "tracebridge/interceptors/grpc_interceptors.h"

namespace tracebridge {

struct InstallOptions {
  GrpcServerOptions server;
  // Register the query service too.
  bool query_service = true;
  // Further interceptor factories of the user's, run after tracebridge's
  // (`ServerBuilder::experimental().SetInterceptorCreators` replaces the list,
  // so pass them here rather than setting them separately).
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      extra_interceptors;
};

// What `InstallOn` put on a builder that must stay alive with the server:
// the query service. Keep it (and the `Telemetry`) until the server is shut
// down.
class Installation {
 public:
  Installation() = default;
  Installation(Installation&&) = default;
  Installation& operator=(Installation&&) = default;

 private:
  friend Installation InstallOn(grpc::ServerBuilder&, Telemetry&, InstallOptions);
  std::unique_ptr<grpc::Service> query_service_;
};
// Installs the server interceptors (and the query service) on `builder`.
[[nodiscard]] Installation InstallOn(grpc::ServerBuilder& builder, Telemetry& telemetry,
                                     InstallOptions options = {});

// A channel to `target` with tracebridge's client interceptors (and the
// user's `extra_interceptors` after them). `server.address`/`server.port`
// attributes come from `target` unless set in `options`.
std::shared_ptr<grpc::Channel> CreateTracedChannel(
    const std::string& target, std::shared_ptr<grpc::ChannelCredentials> credentials,
    Telemetry& telemetry, GrpcClientOptions options = {},
    grpc::ChannelArguments arguments = grpc::ChannelArguments(),
    std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
        extra_interceptors = {});

}  // namespace tracebridge

#endif  // TRACEBRIDGE_INTERCEPTORS_INSTALL_H_
