// The inventory service of the demo shop: a unary Reserve and a
// server-streaming WatchStock, traced with tracebridge.
//
//   inventory --port=50052

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "examples/proto/shop.grpc.pb.h"
#include "examples/service_main.h"
#include "tracebridge/interceptors/install.h"

ABSL_FLAG(int, port, 0, "Port to listen on (127.0.0.1); 0 picks a free one.");

namespace tracebridge {
namespace examples {
namespace {

// Waits `duration` unless the call is cancelled first.
bool Delay(grpc::ServerContext* context, std::chrono::milliseconds duration) {
  std::mutex mutex;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mutex);
  const auto end = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < end) {
    if (context->IsCancelled()) return false;
    cv.wait_for(lock, std::chrono::milliseconds(10));
  }
  return true;
}

class InventoryService final : public Inventory::Service {
 public:
  grpc::Status Reserve(grpc::ServerContext* context, const ReserveRequest* request,
                       ReserveResponse* response) override {
    Span& span = CurrentSpan();
    span.SetAttribute("inventory.sku", request->sku());
    span.SetAttribute("inventory.quantity", request->quantity());
    if (request->sku() == "broken") {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the stock database is unreachable");
    }
    if (request->sku() == "slow" && !Delay(context, std::chrono::milliseconds(300))) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    }
    response->set_reservation_id(absl::StrCat("r-", next_reservation_++));
    return grpc::Status::OK;
  }

  grpc::Status WatchStock(grpc::ServerContext* context, const WatchStockRequest* request,
                          grpc::ServerWriter<StockLevel>* writer) override {
    int available = 100;
    for (int i = 0; i < request->updates(); ++i) {
      if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
      StockLevel level;
      level.set_sku(request->sku());
      level.set_available(available -= 7);
      if (!writer->Write(level)) break;
    }
    return grpc::Status::OK;
  }

 private:
  std::atomic<int> next_reservation_{1};
};

int Main() {
  auto telemetry = BuildTelemetry("inventory");
  if (!telemetry.ok()) {
    std::fprintf(stderr, "inventory: %s\n", telemetry.status().ToString().c_str());
    return 1;
  }
  InventoryService service;
  return ServeGrpc("inventory", **telemetry, service, absl::GetFlag(FLAGS_port));
}

}  // namespace
}  // namespace examples
}  // namespace tracebridge

int main(int argc, char** argv) {
  tracebridge::examples::InitService(argc, argv);
  return tracebridge::examples::Main();
}
