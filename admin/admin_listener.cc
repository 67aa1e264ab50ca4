#include "tracebridge/admin/admin_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <exception>
#include <utility>

#include <grpcpp/grpcpp.h>
#include <pistache/endpoint.h>
#include <pistache/router.h>

#include "absl/strings/str_cat.h"
#include "tracebridge/admin/query_service.h"
#include "tracebridge/http/endpoints.h"

namespace tracebridge {
namespace {

// Admin requests are small; anything larger is not one.
constexpr int kMaxGrpcRequestBytes = 64 * 1024;

// Checks every request against the policy, then routes it: routes others
// mount later are covered without doing anything themselves.
class AdminHttpHandler final : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(AdminHttpHandler)

  AdminHttpHandler(std::shared_ptr<Pistache::Rest::Router> router,
                   std::shared_ptr<const AccessPolicy> access)
      : router_(std::move(router)), access_(std::move(access)) {}

  void onRequest(const Pistache::Http::Request& request,
                 Pistache::Http::ResponseWriter response) override {
    absl::optional<EndpointReply> refusal = AccessRefusal(*access_, request);
    if (refusal.has_value()) {
      SendReply(*refusal, response);
      return;
    }
    router_->route(request, std::move(response));
  }

  void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    router_->disconnectPeer(peer);
  }

 private:
  std::shared_ptr<Pistache::Rest::Router> router_;
  std::shared_ptr<const AccessPolicy> access_;
};

// The Pistache address of an IP literal; false for anything else.
bool ParseHost(const std::string& host, Pistache::IP* ip, bool* ipv6) {
  sockaddr_in v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    *ip = Pistache::IP(reinterpret_cast<sockaddr*>(&v4));
    *ipv6 = false;
    return true;
  }
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    *ip = Pistache::IP(reinterpret_cast<sockaddr*>(&v6));
    *ipv6 = true;
    return true;
  }
  return false;
}

absl::Status Validate(const AdminListenerOptions& options) {
  for (const int port : {options.http_port, options.grpc_port}) {
    if (port < -1 || port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("admin listener: port ", port, " is outside -1..65535"));
    }
  }
  if (options.http_port == -1 && options.grpc_port == -1) {
    return absl::InvalidArgumentError("admin listener: neither HTTP nor gRPC is served");
  }
  if (options.max_page_bytes < kMinSpanPageBytes) {
    return absl::InvalidArgumentError(absl::StrCat("admin listener: max_page_bytes ",
                                                   options.max_page_bytes, " is below ",
                                                   kMinSpanPageBytes));
  }
  if (options.http_threads < 1) {
    return absl::InvalidArgumentError("admin listener: http_threads must be at least 1");
  }
  return absl::OkStatus();
}

}  // namespace

struct AdminListener::Impl {
  std::string host_in_address;  // "127.0.0.1" or "[::1]"
  std::unique_ptr<QueryService> query;
  std::unique_ptr<grpc::Server> grpc_server;
  int grpc_port = 0;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint;
  int http_port = 0;
  bool stopped = false;
};

AdminListener::AdminListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AdminListener::~AdminListener() { Shutdown(); }

int AdminListener::http_port() const noexcept { return impl_->http_port; }
int AdminListener::grpc_port() const noexcept { return impl_->grpc_port; }

std::string AdminListener::http_address() const {
  if (impl_->http_port == 0) return "";
  return absl::StrCat(impl_->host_in_address, ":", impl_->http_port);
}

std::string AdminListener::grpc_address() const {
  if (impl_->grpc_port == 0) return "";
  return absl::StrCat(impl_->host_in_address, ":", impl_->grpc_port);
}

void AdminListener::Shutdown() {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  if (impl_->endpoint != nullptr) {
    impl_->endpoint->shutdown();
    // Pistache closes the listening socket only when the endpoint goes.
    impl_->endpoint.reset();
  }
  if (impl_->grpc_server != nullptr) {
    impl_->grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    impl_->grpc_server->Wait();
  }
}

absl::StatusOr<std::unique_ptr<AdminListener>> StartAdminListener(Telemetry& telemetry,
                                                                  AdminListenerOptions options) {
  absl::Status valid = Validate(options);
  if (!valid.ok()) return valid;
  Pistache::IP ip;
  bool ipv6 = false;
  if (!ParseHost(options.host, &ip, &ipv6)) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin listener: host \"", options.host, "\" is not an IPv4 or IPv6 address"));
  }
  auto impl = std::make_unique<AdminListener::Impl>();
  impl->host_in_address = ipv6 ? absl::StrCat("[", options.host, "]") : options.host;
  // From here on, destroying `listener` stops whatever has started.
  std::unique_ptr<AdminListener> listener(new AdminListener(std::move(impl)));
  AdminListener::Impl& state = *listener->impl_;

  if (options.grpc_port != -1) {
    QueryServiceOptions query_options;
    query_options.access = options.access;
    query_options.max_page_bytes = options.max_page_bytes;
    state.query = std::make_unique<QueryService>(telemetry, std::move(query_options));
    grpc::ServerBuilder builder;
    // Without this, gRPC on Linux binds a port another process already
    // serves (SO_REUSEPORT) and the two split the calls.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.SetMaxReceiveMessageSize(kMaxGrpcRequestBytes);
    builder.AddListeningPort(absl::StrCat(state.host_in_address, ":", options.grpc_port),
                             grpc::InsecureServerCredentials(), &state.grpc_port);
    builder.RegisterService(state.query.get());
    state.grpc_server = builder.BuildAndStart();
    if (state.grpc_server == nullptr || state.grpc_port == 0) {
      state.grpc_port = 0;
      return absl::UnavailableError(absl::StrCat("admin listener: cannot listen for gRPC on ",
                                                 state.host_in_address, ":", options.grpc_port));
    }
  }

  if (options.http_port != -1) {
    auto router = std::make_shared<Pistache::Rest::Router>();
    TelemetryEndpointOptions endpoints;
    endpoints.max_trace_bytes = options.max_page_bytes;  // access: checked by the handler
    // The pages answer /traces/:trace_id themselves, JSON included.
    if (options.pages.enabled) endpoints.traces_path.clear();
    absl::Status mounted = MountTelemetryEndpoints(*router, telemetry, endpoints);
    if (mounted.ok() && options.pages.enabled) {
      options.pages.max_trace_bytes = options.max_page_bytes;
      options.pages.access = AccessPolicy();
      mounted = MountPages(*router, telemetry, options.pages);
    }
    for (const auto& mount : options.http_routes) {
      if (!mounted.ok()) break;
      if (!mount) continue;
      try {
        mounted = mount(*router);
      } catch (const std::exception& e) {
        mounted = absl::InvalidArgumentError(
            absl::StrCat("admin listener: mounting a route threw: ", e.what()));
      }
    }
    if (!mounted.ok()) return mounted;
    try {
      state.endpoint = std::make_unique<Pistache::Http::Endpoint>(
          Pistache::Address(ip, Pistache::Port(static_cast<uint16_t>(options.http_port))));
      state.endpoint->init(Pistache::Http::Endpoint::options().threads(options.http_threads));
      state.endpoint->setHandler(std::make_shared<AdminHttpHandler>(
          router, std::make_shared<const AccessPolicy>(options.access)));
      state.endpoint->serveThreaded();
      state.http_port = static_cast<uint16_t>(state.endpoint->getPort());
    } catch (const std::exception& e) {
      state.endpoint.reset();
      return absl::UnavailableError(absl::StrCat("admin listener: cannot listen for HTTP on ",
                                                 state.host_in_address, ":", options.http_port,
                                                 ": ", e.what()));
    }
  }
  return listener;
}

}  // namespace tracebridge
