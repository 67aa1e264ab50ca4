// The HTTP gateway of the demo shop (Pistache): GET /orders/:id and
// POST /orders, answered by the orders service over a traced gRPC channel.
// Its telemetry (/metrics, /metrics.json, /traces/:trace_id and the
// tracebridge.v1.Query service) is on an admin listener bound to loopback,
// not on the public port.
//
//   gateway --port=8080 --admin_port=9090 --admin_grpc_port=9091 --orders=127.0.0.1:50051
//   curl -s localhost:8080/orders/1
//   curl -s -XPOST localhost:8080/orders -d 'sku-101:2,sku-102:1'
//   curl -s localhost:9090/metrics

#include <chrono>
#include <cstdio>
#include <string>

#include <grpcpp/grpcpp.h>
#include <pistache/endpoint.h>
#include <pistache/router.h>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "examples/proto/shop.grpc.pb.h"
#include "examples/service_main.h"
#include "tracebridge/admin/admin_listener.h"
#include "tracebridge/core/util/json_writer.h"
#include "tracebridge/http/traced_router.h"
#include "tracebridge/interceptors/install.h"

ABSL_FLAG(int, port, 0, "HTTP port (127.0.0.1); 0 picks a free one.");
ABSL_FLAG(std::string, orders, "", "The orders service, host:port.");
ABSL_FLAG(int, threads, 2, "Pistache worker threads.");

namespace tracebridge {
namespace examples {
namespace {

using Pistache::Http::Code;

// How the gateway reports a backend failure to its HTTP caller.
Code HttpCodeFor(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return Code::Ok;
    case grpc::StatusCode::NOT_FOUND:
      return Code::Not_Found;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return Code::Bad_Request;
    case grpc::StatusCode::UNAVAILABLE:
      return Code::Service_Unavailable;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Code::Gateway_Timeout;
    default:
      return Code::Bad_Gateway;
  }
}

std::string OrderJson(const Order& order) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject();
  json.Key("id").String(order.id());
  json.Key("status").String(order.status());
  json.Key("lines").BeginArray();
  for (const OrderLine& line : order.lines()) {
    json.BeginObject().Key("sku").String(line.sku()).Key("quantity").Int(line.quantity());
    json.EndObject();
  }
  json.EndArray();
  json.Key("stock").BeginArray();
  for (int level : order.stock()) json.Int(level);
  json.EndArray();
  json.EndObject();
  out.push_back('\n');
  return out;
}

std::string ErrorJson(const grpc::Status& status) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject().Key("error").String(status.error_message()).EndObject();
  out.push_back('\n');
  return out;
}

void Reply(TracedResponse& response, const grpc::Status& status, const Order& order, Code success) {
  const Pistache::Http::Mime::MediaType json(Pistache::Http::Mime::Type::Application,
                                             Pistache::Http::Mime::Subtype::Json);
  if (status.ok()) {
    response.Send(success, OrderJson(order), json);
  } else {
    response.Send(HttpCodeFor(status), ErrorJson(status), json);
  }
}

int Main() {
  if (absl::GetFlag(FLAGS_orders).empty()) {
    std::fprintf(stderr, "gateway: --orders=host:port is required\n");
    return 2;
  }
  auto telemetry = BuildTelemetry("gateway");
  if (!telemetry.ok()) {
    std::fprintf(stderr, "gateway: %s\n", telemetry.status().ToString().c_str());
    return 1;
  }
  std::shared_ptr<Orders::Stub> orders = Orders::NewStub(CreateTracedChannel(
      absl::GetFlag(FLAGS_orders), grpc::InsecureChannelCredentials(), **telemetry));

  Pistache::Rest::Router router;
  TracedRouter traced(router, **telemetry);
  absl::Status status = traced.Get(
      "/orders/:id", [orders](const Pistache::Rest::Request& request, TracedResponse response) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        GetOrderRequest get;
        get.set_id(request.param(":id").as<std::string>());
        Order order;
        grpc::Status result = orders->GetOrder(&context, get, &order);
        Reply(response, result, order, Code::Ok);
      });
  if (status.ok()) {
    status = traced.Post("/orders", [orders](const Pistache::Rest::Request& request,
                                             TracedResponse response) {
      // The body lists "sku:quantity" pairs separated by commas.
      CreateOrderRequest create;
      for (absl::string_view item : absl::StrSplit(request.body(), ',', absl::SkipWhitespace())) {
        std::pair<absl::string_view, absl::string_view> parts =
            absl::StrSplit(absl::StripAsciiWhitespace(item), absl::MaxSplits(':', 1));
        OrderLine* line = create.add_lines();
        line->set_sku(std::string(parts.first));
        int quantity = 1;
        if (!parts.second.empty() && !absl::SimpleAtoi(parts.second, &quantity)) quantity = 1;
        line->set_quantity(quantity);
      }
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      Order order;
      grpc::Status result = orders->CreateOrder(&context, create, &order);
      Reply(response, result, order, Code::Created);
    });
  }
  if (!status.ok()) {
    std::fprintf(stderr, "gateway: %s\n", status.ToString().c_str());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<AdminListener>> admin =
      StartAdminListener(**telemetry, AdminOptionsFromFlags());
  if (!admin.ok()) {
    std::fprintf(stderr, "gateway: %s\n", admin.status().ToString().c_str());
    return 1;
  }

  Pistache::Http::Endpoint endpoint(Pistache::Address(
      Pistache::IP::loopback(), Pistache::Port(static_cast<uint16_t>(absl::GetFlag(FLAGS_port)))));
  endpoint.init(Pistache::Http::Endpoint::options()
                    .threads(absl::GetFlag(FLAGS_threads))
                    .maxRequestSize(16 * 1024));
  endpoint.setHandler(traced.MakeHandler());
  endpoint.serveThreaded();

  AnnounceListening("gateway", static_cast<uint16_t>(endpoint.getPort()), **admin);
  WaitForShutdown();
  endpoint.shutdown();
  (*admin)->Shutdown();
  (*telemetry)->Shutdown(absl::Seconds(2)).IgnoreError();
  return 0;
}

}  // namespace
}  // namespace examples
}  // namespace tracebridge

int main(int argc, char** argv) {
  tracebridge::examples::InitService(argc, argv);
  return tracebridge::examples::Main();
}
