// File: tracebridge/interceptors/install.h
//
// One call per side:
//
// `InstallOn(builder, telemetry)` adds the server interceptors to a
// `grpc::ServerBuilder` and starts an admin listener (admin/admin_listener.h):
// `/metrics`, `/metrics.json`, `/traces/:trace_id` and the
// `tracebridge.v1.Query` service on loopback ports of their own, never on the
// business port unless `serve_query_on_server_port` deliberately says so.
// `CreateTracedChannel(target, credentials, telemetry)` makes a channel whose
// calls carry the trace and record client metrics.
//
// Example:
//
//   grpc::ServerBuilder builder;
//   builder.AddListeningPort("0.0.0.0:50051", grpc::InsecureServerCredentials(), &port);
//   builder.RegisterService(&my_service);
//   absl::StatusOr<tracebridge::Installation> installation =
//       tracebridge::InstallOn(builder, *telemetry);
//   if (!installation.ok()) return installation.status();  // e.g. admin port taken
//   auto server = builder.BuildAndStart();
//   // Prometheus scrapes http://<installation->admin_listener()->http_address()>/metrics
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

#include "absl/status/statusor.h"
#include "tracebridge/admin/admin_listener.h"
#include "tracebridge/admin/query_service.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/interceptors/grpc_interceptors.h"

namespace tracebridge {

struct InstallOptions {
  GrpcServerOptions server;
  // Start an admin listener with `admin` (loopback, free ports by default).
  // False: none; start one with `StartAdminListener` where it suits, or
  // serve no telemetry at all. A process with several servers wants one.
  bool admin_listener = true;
  AdminListenerOptions admin;
  // Also register `tracebridge.v1.Query` on the server being built, i.e. on
  // the business port, for whoever reaches it. A deliberate opening: set
  // `query.access` with it (see the README's threat model).
  bool serve_query_on_server_port = false;
  // The business-port query service's access policy and page bound.
  QueryServiceOptions query;
  // Further interceptor factories of the user's, run after tracebridge's
  // (`ServerBuilder::experimental().SetInterceptorCreators` replaces the list,
  // so pass them here rather than setting them separately).
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      extra_interceptors;
};

// What `InstallOn` started or put on a builder that must stay alive with the
// server: the admin listener and the business-port query service. Keep it
// (and the `Telemetry`) until the server is shut down; destroying it stops
// the admin listener.
class Installation {
 public:
  Installation() = default;
  Installation(Installation&&) = default;
  Installation& operator=(Installation&&) = default;

  // The admin listener; nullptr when `admin_listener` was false.
  AdminListener* admin_listener() const noexcept { return admin_listener_.get(); }

 private:
  friend absl::StatusOr<Installation> InstallOn(grpc::ServerBuilder&, Telemetry&, InstallOptions);
  std::unique_ptr<grpc::Service> query_service_;
  std::unique_ptr<AdminListener> admin_listener_;
};

// Starts the admin listener (unless turned off), then installs the server
// interceptors (and, when opted in, the query service) on `builder`. The
// admin listener's errors (see `StartAdminListener`) come back before the
// builder is touched.
[[nodiscard]] absl::StatusOr<Installation> InstallOn(grpc::ServerBuilder& builder,
                                                     Telemetry& telemetry,
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
