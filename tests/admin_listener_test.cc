// The admin listener over real connections: what InstallOn starts by
// default (loopback only, HTTP and gRPC), a listener on its own for a process
// that serves neither, the access policy (bearer token, predicate) on both
// protocols, routes mounted by others, the telemetry endpoints on a business
// router behind a policy, and setup errors.

#include "tracebridge/admin/admin_listener.h"

#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <pistache/router.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/echo_service.h"
#include "tests/testing/http_client.h"
#include "tests/testing/pistache_server.h"
#include "tests/testing/scoped_env.h"
#include "tests/testing/traced_service.h"
#include "tracebridge/http/endpoints.h"
#include "tracebridge/http/traced_router.h"
#include "tracebridge/interceptors/install.h"
#include "tracebridge/v1/query.grpc.pb.h"

namespace tracebridge {
namespace {

using ::tracebridge::testing::HttpGet;
using ::tracebridge::testing::HttpResponse;

constexpr char kToken[] = "admin-test-token-6f1d2c";

// The local addresses (hex, as /proc/net/tcp{,6} print them) of the sockets
// listening on `port`.
std::set<std::string> ListeningAddresses(int port) {
  std::set<std::string> addresses;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (fields.size() < 4 || fields[3] != "0A") continue;  // 0A: LISTEN
      const std::vector<std::string> local = absl::StrSplit(fields[1], ':');
      int local_port = 0;
      if (local.size() == 2 && absl::SimpleHexAtoi(local[1], &local_port) && local_port == port) {
        addresses.insert(local[0]);
      }
    }
  }
  return addresses;
}

// True when there are listening sockets on `port` and every one is bound to
// a loopback address: 127.0.0.1 as /proc/net/tcp prints it, the same mapped
// into IPv6 (how gRPC binds it), or ::1.
bool ListensOnLoopbackOnly(int port) {
  const std::set<std::string> loopback = {"0100007F", "0000000000000000FFFF00000100007F",
                                          "00000000000000000000000001000000"};
  const std::set<std::string> addresses = ListeningAddresses(port);
  for (const std::string& address : addresses) {
    if (loopback.count(address) == 0) {
      ADD_FAILURE() << "port " << port << " listens on " << address;
      return false;
    }
  }
  return !addresses.empty();
}

std::unique_ptr<v1::Query::Stub> QueryAt(const std::string& address) {
  return v1::Query::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

// The status of GetMetrics with `authorization` metadata (none when empty).
grpc::Status GetMetrics(v1::Query::Stub& stub, const std::string& authorization,
                        v1::GetMetricsResponse* response = nullptr) {
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  v1::GetMetricsResponse ignored;
  return stub.GetMetrics(&context, v1::GetMetricsRequest(),
                         response != nullptr ? response : &ignored);
}

grpc::Status ListSpans(v1::Query::Stub& stub, const std::string& authorization) {
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  v1::ListSpansResponse response;
  return stub.ListSpans(&context, v1::ListSpansRequest(), &response);
}

grpc::Status GetServiceInfo(v1::Query::Stub& stub, const std::string& authorization) {
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  v1::ServiceInfo response;
  return stub.GetServiceInfo(&context, v1::GetServiceInfoRequest(), &response);
}

HttpResponse Get(int port, const std::string& target, const std::string& authorization = "") {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!authorization.empty()) headers.emplace_back("Authorization", authorization);
  absl::StatusOr<HttpResponse> response = HttpGet(port, target, headers);
  EXPECT_TRUE(response.ok()) << response.status();
  return response.ok() ? *response : HttpResponse();
}

// A finished span of a trace of its own in `telemetry`'s store; its trace id.
std::string RecordSpan(Telemetry& telemetry, const std::string& name) {
  Span span = telemetry.tracer().StartSpan(name);
  span.SetAttribute("url.path", "/users/42/orders");
  const std::string trace_id = span.context().trace_id().ToHex();
  span.End();
  return trace_id;
}

// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, as a peer reads them back
// over the query RPC: the name wins over service.name in the attributes,
// service.version is the version, values are percent-decoded.
TEST(AdminListenerTest, ResourceFromTheEnvironmentIsWhatTheQueryRpcReports) {
  testing::ScopedEnv name("OTEL_SERVICE_NAME", "from-env");
  testing::ScopedEnv attributes(
      "OTEL_RESOURCE_ATTRIBUTES",
      "service.name=ignored,service.version=1.2.3,deployment.environment=stage%20a");
  absl::StatusOr<std::unique_ptr<Telemetry>> telemetry =
      TelemetryBuilder::FromEnvironment().SetSpanStore({}, false).Build();
  ASSERT_TRUE(telemetry.ok()) << telemetry.status();
  absl::StatusOr<std::unique_ptr<AdminListener>> admin =
      StartAdminListener(**telemetry, AdminListenerOptions());
  ASSERT_TRUE(admin.ok()) << admin.status();
  auto query = v1::Query::NewStub(
      grpc::CreateChannel((*admin)->grpc_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
  v1::ServiceInfo info;
  ASSERT_TRUE(query->GetServiceInfo(&context, v1::GetServiceInfoRequest(), &info).ok());
  EXPECT_EQ(info.service_name(), "from-env");
  EXPECT_EQ(info.service_version(), "1.2.3");
  bool environment = false;
  for (const v1::Attribute& attribute : info.resource_attributes()) {
    if (attribute.key() == "deployment.environment") {
      environment = true;
      EXPECT_EQ(attribute.string_value(), "stage a");
    }
    EXPECT_NE(attribute.key(), "service.name") << "service.name is the service name";
  }
  EXPECT_TRUE(environment) << info.DebugString();
  (*admin)->Shutdown();
}

TEST(AdminListenerTest, InstallOnServesTelemetryOnLoopbackPortsOfItsOwn) {
  auto telemetry = testing::MakeTestTelemetry("admin-default");
  testing::EchoServiceImpl service;
  testing::TracedServer traced = testing::StartTracedServer(*telemetry, {&service});
  AdminListener* admin = traced.installation.admin_listener();
  ASSERT_NE(admin, nullptr);
  ASSERT_GT(admin->http_port(), 0);
  ASSERT_GT(admin->grpc_port(), 0);
  EXPECT_NE(admin->http_port(), traced.port);
  EXPECT_NE(admin->grpc_port(), traced.port);
  EXPECT_EQ(admin->http_address(), absl::StrCat("127.0.0.1:", admin->http_port()));
  EXPECT_EQ(admin->grpc_address(), absl::StrCat("127.0.0.1:", admin->grpc_port()));
  // Bound to loopback, not to every interface.
  EXPECT_TRUE(ListensOnLoopbackOnly(admin->http_port()));
  EXPECT_TRUE(ListensOnLoopbackOnly(admin->grpc_port()));

  auto echo = testing::Echo::NewStub(
      grpc::CreateChannel(traced.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  testing::EchoResponse echoed;
  ASSERT_TRUE(echo->Unary(&context, testing::EchoRequest(), &echoed).ok());
  const std::string trace_id = [&] {
    for (const auto& entry : context.GetServerInitialMetadata()) {
      if (entry.first == "x-trace-id") return std::string(entry.second.data(), entry.second.size());
    }
    return std::string();
  }();
  ASSERT_EQ(trace_id.size(), 32u);

  const HttpResponse metrics = Get(admin->http_port(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_TRUE(absl::StartsWith(metrics.Header("content-type"), "text/plain; version=0.0.4"));
  EXPECT_TRUE(absl::StrContains(
      metrics.body,
      "rpc_server_call_duration_seconds_count{rpc_system_name=\"grpc\",rpc_method=\"tracebridge."
      "testing.Echo/Unary\"} 1"))
      << metrics.body.substr(0, 2000);
  EXPECT_EQ(Get(admin->http_port(), "/metrics.json").status, 200);
  const HttpResponse trace = Get(admin->http_port(), "/traces/" + trace_id);
  EXPECT_EQ(trace.status, 200);
  EXPECT_TRUE(absl::StrContains(trace.body, "\"name\":\"tracebridge.testing.Echo/Unary\""));
  // Scrapes are neither traced nor counted: still the one span.
  EXPECT_EQ(telemetry->span_store()->Stats().stored, 1u);

  auto query = QueryAt(admin->grpc_address());
  v1::GetMetricsResponse response;
  ASSERT_TRUE(GetMetrics(*query, "", &response).ok());
  EXPECT_EQ(response.service_name(), "admin-default");
  EXPECT_TRUE(GetServiceInfo(*query, "").ok());
  traced.server->Shutdown();
}

TEST(AdminListenerTest, AProcessThatServesNeitherProtocolGetsOneToo) {
  auto telemetry = testing::MakeTestTelemetry("admin-worker");
  absl::StatusOr<std::unique_ptr<AdminListener>> admin = StartAdminListener(*telemetry);
  ASSERT_TRUE(admin.ok()) << admin.status();
  const std::string trace_id = RecordSpan(*telemetry, "nightly-batch");

  EXPECT_EQ(Get((*admin)->http_port(), "/metrics").status, 200);
  EXPECT_EQ(Get((*admin)->http_port(), "/traces/" + trace_id).status, 200);
  auto query = QueryAt((*admin)->grpc_address());
  grpc::ClientContext context;
  v1::ListSpansRequest request;
  request.set_trace_id(trace_id);
  v1::ListSpansResponse spans;
  ASSERT_TRUE(query->ListSpans(&context, request, &spans).ok());
  ASSERT_EQ(spans.spans_size(), 1);
  EXPECT_EQ(spans.spans(0).name(), "nightly-batch");

  // Stopping twice is harmless; afterwards nothing answers.
  const int port = (*admin)->http_port();
  (*admin)->Shutdown();
  (*admin)->Shutdown();
  EXPECT_FALSE(HttpGet(port, "/metrics").ok());
}

TEST(AdminListenerTest, TheBearerTokenGuardsBothProtocols) {
  auto telemetry = testing::MakeTestTelemetry("admin-token");
  const std::string trace_id = RecordSpan(*telemetry, "private");
  AdminListenerOptions options;
  options.access.bearer_token = kToken;
  absl::StatusOr<std::unique_ptr<AdminListener>> admin =
      StartAdminListener(*telemetry, std::move(options));
  ASSERT_TRUE(admin.ok()) << admin.status();
  const std::string right = absl::StrCat("Bearer ", kToken);
  const std::vector<std::string> refused = {"", "Bearer wrong",
                                            absl::StrCat("Bearer ", kToken, "x"),
                                            absl::StrCat("Basic ", kToken), kToken};

  auto query = QueryAt((*admin)->grpc_address());
  for (const std::string& authorization : refused) {
    EXPECT_EQ(GetMetrics(*query, authorization).error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << authorization;
    EXPECT_EQ(ListSpans(*query, authorization).error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << authorization;
    EXPECT_EQ(GetServiceInfo(*query, authorization).error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << authorization;
  }
  EXPECT_TRUE(GetMetrics(*query, right).ok());
  EXPECT_TRUE(ListSpans(*query, right).ok());
  EXPECT_TRUE(GetServiceInfo(*query, right).ok());

  const int port = (*admin)->http_port();
  for (const std::string& target : {std::string("/metrics"), std::string("/metrics.json"),
                                    "/traces/" + trace_id, std::string("/no-such-page")}) {
    for (const std::string& authorization : refused) {
      const HttpResponse response = Get(port, target, authorization);
      EXPECT_EQ(response.status, 401) << target << " " << authorization;
      EXPECT_TRUE(absl::StartsWith(response.Header("www-authenticate"), "Bearer"));
      EXPECT_FALSE(absl::StrContains(response.body, "private"));
    }
  }
  EXPECT_EQ(Get(port, "/metrics", right).status, 200);
  EXPECT_EQ(Get(port, "/metrics.json", right).status, 200);
  const HttpResponse trace = Get(port, "/traces/" + trace_id, right);
  EXPECT_EQ(trace.status, 200);
  EXPECT_TRUE(absl::StrContains(trace.body, "\"name\":\"private\""));
  EXPECT_EQ(Get(port, "/no-such-page", right).status, 404);
}

TEST(AdminListenerTest, APredicateThatRefusesIsPermissionDenied) {
  auto telemetry = testing::MakeTestTelemetry("admin-predicate");
  std::mutex mutex;
  std::set<std::string> seen;  // protocol and path of every request asked about
  AdminListenerOptions options;
  options.access.allow = [&](const AccessRequest& request) {
    std::lock_guard<std::mutex> lock(mutex);
    seen.insert(absl::StrCat(request.protocol(), " ", request.path()));
    EXPECT_TRUE(absl::StrContains(request.peer(), "127.0.0.1")) << request.peer();
    return request.Header("x-admin-role") == "operator";
  };
  absl::StatusOr<std::unique_ptr<AdminListener>> admin =
      StartAdminListener(*telemetry, std::move(options));
  ASSERT_TRUE(admin.ok()) << admin.status();

  auto query = QueryAt((*admin)->grpc_address());
  EXPECT_EQ(GetMetrics(*query, "").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext context;
  context.AddMetadata("x-admin-role", "operator");
  v1::GetMetricsResponse response;
  EXPECT_TRUE(query->GetMetrics(&context, v1::GetMetricsRequest(), &response).ok());

  const int port = (*admin)->http_port();
  EXPECT_EQ(Get(port, "/metrics").status, 403);
  absl::StatusOr<HttpResponse> allowed = HttpGet(port, "/metrics", {{"X-Admin-Role", "operator"}});
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(allowed->status, 200);

  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_EQ(seen,
            (std::set<std::string>{"grpc /tracebridge.v1.Query/GetMetrics", "http /metrics"}));
}

TEST(AdminListenerTest, RoutesMountedByOthersAreServedBehindThePolicy) {
  auto telemetry = testing::MakeTestTelemetry("admin-routes");
  AdminListenerOptions options;
  options.access.bearer_token = kToken;
  options.grpc_port = -1;  // HTTP only
  options.http_routes.push_back([](Pistache::Rest::Router& router) {
    router.get("/statusz", [](const Pistache::Rest::Request&, Pistache::Http::ResponseWriter out) {
      out.send(Pistache::Http::Code::Ok, "statusz page");
      return Pistache::Rest::Route::Result::Ok;
    });
    return absl::OkStatus();
  });
  absl::StatusOr<std::unique_ptr<AdminListener>> admin =
      StartAdminListener(*telemetry, std::move(options));
  ASSERT_TRUE(admin.ok()) << admin.status();
  EXPECT_EQ((*admin)->grpc_port(), 0);
  EXPECT_EQ((*admin)->grpc_address(), "");
  const int port = (*admin)->http_port();
  EXPECT_EQ(Get(port, "/statusz").status, 401);
  const HttpResponse page = Get(port, "/statusz", absl::StrCat("Bearer ", kToken));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body, "statusz page");
}

TEST(AdminListenerTest, EndpointsOnABusinessRouterCanBeOpenedBehindAPolicy) {
  auto telemetry = testing::MakeTestTelemetry("admin-business-http");
  Pistache::Rest::Router router;
  TracedRouter traced(router, *telemetry);
  ASSERT_TRUE(traced
                  .Get("/orders/:id",
                       [](const Pistache::Rest::Request&, TracedResponse response) {
                         response.Send(Pistache::Http::Code::Ok, "order");
                       })
                  .ok());
  TelemetryEndpointOptions endpoints;
  endpoints.access.bearer_token = kToken;
  ASSERT_TRUE(MountTelemetryEndpoints(traced, *telemetry, endpoints).ok());
  testing::PistacheServer server(traced.MakeHandler());
  EXPECT_EQ(Get(server.port(), "/orders/1").status, 200);  // business routes stay open
  EXPECT_EQ(Get(server.port(), "/metrics").status, 401);
  EXPECT_EQ(Get(server.port(), "/metrics", "Bearer nope").status, 401);
  const HttpResponse metrics = Get(server.port(), "/metrics", absl::StrCat("Bearer ", kToken));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_TRUE(absl::StrContains(metrics.body, "http_route=\"/orders/:id\""));
}

TEST(AdminListenerTest, BadOptionsAreInvalidArgument) {
  auto telemetry = testing::MakeTestTelemetry("admin-bad-options");
  std::vector<AdminListenerOptions> bad(8);
  bad[0].host = "localhost";  // a name, not an address
  bad[1].host = "127.0.0.1:80";
  bad[2].http_port = 70000;
  bad[3].grpc_port = -2;
  bad[4].http_port = -1;
  bad[4].grpc_port = -1;
  bad[5].max_page_bytes = 100;
  bad[6].http_threads = 0;
  bad[7].http_routes.push_back(
      [](Pistache::Rest::Router&) { return absl::InvalidArgumentError("no route for you"); });
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_EQ(StartAdminListener(*telemetry, bad[i]).status().code(),
              absl::StatusCode::kInvalidArgument)
        << i;
  }
  AdminListenerOptions throwing;
  throwing.http_routes.push_back([](Pistache::Rest::Router& router) -> absl::Status {
    // Pistache throws on an empty route.
    router.get("", [](const Pistache::Rest::Request&, Pistache::Http::ResponseWriter) {
      return Pistache::Rest::Route::Result::Ok;
    });
    return absl::OkStatus();
  });
  EXPECT_EQ(StartAdminListener(*telemetry, throwing).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AdminListenerTest, ATakenPortIsUnavailableAndInstallOnSaysSo) {
  auto telemetry = testing::MakeTestTelemetry("admin-taken");
  absl::StatusOr<std::unique_ptr<AdminListener>> first = StartAdminListener(*telemetry);
  ASSERT_TRUE(first.ok()) << first.status();

  AdminListenerOptions same_http;
  same_http.http_port = (*first)->http_port();
  EXPECT_EQ(StartAdminListener(*telemetry, same_http).status().code(),
            absl::StatusCode::kUnavailable);
  AdminListenerOptions same_grpc;
  same_grpc.grpc_port = (*first)->grpc_port();
  EXPECT_EQ(StartAdminListener(*telemetry, same_grpc).status().code(),
            absl::StatusCode::kUnavailable);

  grpc::ServerBuilder builder;
  InstallOptions options;
  options.admin.grpc_port = (*first)->grpc_port();
  absl::StatusOr<Installation> installation = InstallOn(builder, *telemetry, std::move(options));
  EXPECT_EQ(installation.status().code(), absl::StatusCode::kUnavailable);
  // The first listener still answers.
  EXPECT_EQ(Get((*first)->http_port(), "/metrics").status, 200);
}

TEST(AdminListenerTest, IPv6LoopbackWorks) {
  auto telemetry = testing::MakeTestTelemetry("admin-ipv6");
  AdminListenerOptions options;
  options.host = "::1";
  options.http_port = -1;
  absl::StatusOr<std::unique_ptr<AdminListener>> admin =
      StartAdminListener(*telemetry, std::move(options));
  if (!admin.ok() && admin.status().code() == absl::StatusCode::kUnavailable) {
    GTEST_SKIP() << "no IPv6 loopback here: " << admin.status();
  }
  ASSERT_TRUE(admin.ok()) << admin.status();
  EXPECT_EQ((*admin)->grpc_address(), absl::StrCat("[::1]:", (*admin)->grpc_port()));
  auto query = QueryAt((*admin)->grpc_address());
  EXPECT_TRUE(GetMetrics(*query, "").ok());
}

}  // namespace
}  // namespace tracebridge
