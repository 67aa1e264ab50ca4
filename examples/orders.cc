// The orders service of the demo shop. Every order operation calls the
// inventory service through a traced channel, so its spans are children of
// the orders span.
//
//   orders --port=50051 --inventory=127.0.0.1:50052

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "examples/proto/shop.grpc.pb.h"
#include "examples/service_main.h"
#include "tracebridge/interceptors/install.h"

ABSL_FLAG(int, port, 0, "Port to listen on (127.0.0.1); 0 picks a free one.");
ABSL_FLAG(std::string, inventory, "", "The inventory service, host:port.");

namespace tracebridge {
namespace examples {
namespace {

class OrdersService final : public Orders::Service {
 public:
  explicit OrdersService(std::shared_ptr<grpc::Channel> inventory)
      : inventory_(Inventory::NewStub(std::move(inventory))) {
    for (int i = 1; i <= 3; ++i) {
      Order order;
      order.set_id(std::to_string(i));
      OrderLine* line = order.add_lines();
      line->set_sku(absl::StrCat("sku-", 100 + i));
      line->set_quantity(i);
      order.set_status("confirmed");
      orders_[order.id()] = order;
    }
  }

  grpc::Status GetOrder(grpc::ServerContext* context, const GetOrderRequest* request,
                        Order* response) override {
    CurrentSpan().SetAttribute("order.id", request->id());
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = orders_.find(request->id());
      if (it == orders_.end()) {
        return grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("no order ", request->id()));
      }
      *response = it->second;
    }
    // Current stock for the order's first line, streamed from inventory.
    grpc::ClientContext call;
    call.set_deadline(context->deadline());
    WatchStockRequest watch;
    watch.set_sku(response->lines(0).sku());
    watch.set_updates(3);
    auto reader = inventory_->WatchStock(&call, watch);
    StockLevel level;
    while (reader->Read(&level)) response->add_stock(level.available());
    return reader->Finish();
  }

  grpc::Status CreateOrder(grpc::ServerContext* context, const CreateOrderRequest* request,
                           Order* response) override {
    if (request->lines_size() == 0) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "an order needs at least one line");
    }
    for (const OrderLine& line : request->lines()) {
      grpc::ClientContext call;
      call.set_deadline(context->deadline());
      ReserveRequest reserve;
      reserve.set_sku(line.sku());
      reserve.set_quantity(line.quantity());
      ReserveResponse reserved;
      grpc::Status status = inventory_->Reserve(&call, reserve, &reserved);
      if (!status.ok()) {
        return grpc::Status(status.error_code(),
                            absl::StrCat("reserving ", line.sku(), ": ", status.error_message()));
      }
      *response->add_lines() = line;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    response->set_id(std::to_string(orders_.size() + 1));
    response->set_status("confirmed");
    orders_[response->id()] = *response;
    CurrentSpan().SetAttribute("order.id", response->id());
    return grpc::Status::OK;
  }

 private:
  std::unique_ptr<Inventory::Stub> inventory_;
  std::mutex mutex_;
  std::map<std::string, Order> orders_;
};

int Main() {
  if (absl::GetFlag(FLAGS_inventory).empty()) {
    std::fprintf(stderr, "orders: --inventory=host:port is required\n");
    return 2;
  }
  auto telemetry = BuildTelemetry("orders");
  if (!telemetry.ok()) {
    std::fprintf(stderr, "orders: %s\n", telemetry.status().ToString().c_str());
    return 1;
  }
  OrdersService service(CreateTracedChannel(absl::GetFlag(FLAGS_inventory),
                                            grpc::InsecureChannelCredentials(), **telemetry));
  return ServeGrpc("orders", **telemetry, service, absl::GetFlag(FLAGS_port));
}

}  // namespace
}  // namespace examples
}  // namespace tracebridge

int main(int argc, char** argv) {
  tracebridge::examples::InitService(argc, argv);
  return tracebridge::examples::Main();
}
