#include "tracebridge/interceptors/install.h"

#include <utility>

#include <grpcpp/create_channel.h>

#include "absl/strings/numbers.h"

namespace tracebridge {
namespace {

// "host:port", "[::1]:port", "dns:///host:port" → host and port.
void SplitTarget(absl::string_view target, std::string* host, int* port) {
  const size_t scheme = target.find(":///");
  if (scheme != absl::string_view::npos) target = target.substr(scheme + 4);
  const size_t colon = target.rfind(':');
  const size_t bracket = target.rfind(']');
  if (colon == absl::string_view::npos || (bracket != absl::string_view::npos && colon < bracket)) {
    *host = std::string(target);
    return;
  }
  absl::string_view name = target.substr(0, colon);
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  *host = std::string(name);
  if (!absl::SimpleAtoi(target.substr(colon + 1), port)) *port = 0;
}

}  // namespace

absl::StatusOr<Installation> InstallOn(grpc::ServerBuilder& builder, Telemetry& telemetry,
                                       InstallOptions options) {
  Installation installation;
  if (options.admin_listener) {
    absl::StatusOr<std::unique_ptr<AdminListener>> admin =
        StartAdminListener(telemetry, std::move(options.admin));
    if (!admin.ok()) return admin.status();
    installation.admin_listener_ = std::move(*admin);
  }
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(MakeServerInterceptorFactory(telemetry, std::move(options.server)));
  for (auto& extra : options.extra_interceptors) creators.push_back(std::move(extra));
  builder.experimental().SetInterceptorCreators(std::move(creators));
  if (options.serve_query_on_server_port) {
    installation.query_service_ =
        std::make_unique<QueryService>(telemetry, std::move(options.query));
    builder.RegisterService(installation.query_service_.get());
  }
  return installation;
}

std::shared_ptr<grpc::Channel> CreateTracedChannel(
    const std::string& target, std::shared_ptr<grpc::ChannelCredentials> credentials,
    Telemetry& telemetry, GrpcClientOptions options, grpc::ChannelArguments arguments,
    std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
        extra_interceptors) {
  if (options.server_address.empty()) {
    SplitTarget(target, &options.server_address, &options.server_port);
  }
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> creators;
  creators.push_back(MakeClientInterceptorFactory(telemetry, std::move(options)));
  for (auto& extra : extra_interceptors) creators.push_back(std::move(extra));
  return grpc::experimental::CreateCustomChannelWithInterceptors(target, std::move(credentials),
                                                                 arguments, std::move(creators));
}

}  // namespace tracebridge
