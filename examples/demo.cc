// The demo entry point. For now it proves the pieces run together: one gRPC
// server and one Pistache endpoint on free loopback ports, each called once.

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include <grpcpp/grpcpp.h>
#include <pistache/client.h>
#include <pistache/endpoint.h>
#include <pistache/http.h>

#include "core/ids.h"
#include "tests/echo/echo.grpc.pb.h"

namespace {

class EchoService final : public tracebridge::testing::Echo::Service {
  grpc::Status Unary(grpc::ServerContext*, const tracebridge::testing::EchoRequest* request,
                     tracebridge::testing::EchoResponse* response) override {
    response->set_message(request->message());
    return grpc::Status::OK;
  }
};

class PingHandler : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(PingHandler)
  void onRequest(const Pistache::Http::Request&, Pistache::Http::ResponseWriter response) override {
    response.send(Pistache::Http::Code::Ok, "pong");
  }
};

int CallGrpc(int port) {
  auto stub = tracebridge::testing::Echo::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  tracebridge::testing::EchoRequest request;
  request.set_message(tracebridge::TraceId::Generate().ToHex());
  tracebridge::testing::EchoResponse response;
  grpc::Status status = stub->Unary(&context, request, &response);
  std::printf("gRPC  127.0.0.1:%d  Echo/Unary  -> %s \"%s\"\n", port,
              status.ok() ? "OK" : status.error_message().c_str(), response.message().c_str());
  return status.ok() && response.message() == request.message() ? 0 : 1;
}

int CallHttp(int port) {
  Pistache::Http::Experimental::Client client;
  client.init(Pistache::Http::Experimental::Client::options().threads(1).maxConnectionsPerHost(1));
  auto request = client.get("http://127.0.0.1:" + std::to_string(port) + "/ping").send();
  // The answer is written on the client's thread and read here: under a lock,
  // and waited for on it. (A Barrier on `request` is released by its own
  // continuation, which may run before this one has written anything.)
  std::mutex mutex;
  std::condition_variable answered;
  bool done = false;
  int code = 0;
  std::string body;
  request.then(
      [&](Pistache::Http::Response response) {
        std::lock_guard<std::mutex> lock(mutex);
        code = static_cast<int>(response.code());
        body = response.body();
        done = true;
        answered.notify_all();
      },
      Pistache::Async::IgnoreException);
  {
    std::unique_lock<std::mutex> lock(mutex);
    answered.wait_for(lock, std::chrono::seconds(5), [&] { return done; });
  }
  client.shutdown();
  std::printf("HTTP  127.0.0.1:%d  GET /ping  -> %d \"%s\"\n", port, code, body.c_str());
  return code == 200 && body == "pong" ? 0 : 1;
}

}  // namespace

int main() {
  EchoService service;
  int grpc_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &grpc_port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "demo: could not start the gRPC server\n");
    return 1;
  }

  Pistache::Http::Endpoint endpoint(Pistache::Address(Pistache::IP::loopback(), Pistache::Port(0)));
  endpoint.init(Pistache::Http::Endpoint::options().threads(1));
  endpoint.setHandler(Pistache::Http::make_handler<PingHandler>());
  endpoint.serveThreaded();

  std::printf("tracebridge demo (placeholder): one gRPC server, one Pistache endpoint\n");
  int failures = CallGrpc(grpc_port) + CallHttp(static_cast<uint16_t>(endpoint.getPort()));

  endpoint.shutdown();
  server->Shutdown();
  std::printf(failures == 0 ? "all calls answered\n" : "some calls failed\n");
  return failures == 0 ? 0 : 1;
}
