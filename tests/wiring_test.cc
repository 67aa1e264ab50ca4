// Proves the build wiring end to end: generated protobuf and gRPC code, a real
// gRPC server and client on loopback, a real Pistache endpoint on port 0, and
// the core library, all linked into one test binary.

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>
#include <pistache/endpoint.h>
#include <pistache/http.h>

#include "gtest/gtest.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/http_client.h"
#include "tracebridge/core/trace/ids.h"

namespace tracebridge {
namespace {

class EchoService final : public testing::Echo::Service {
  grpc::Status Unary(grpc::ServerContext*, const testing::EchoRequest* request,
                     testing::EchoResponse* response) override {
    response->set_message(request->message());
    return grpc::Status::OK;
  }
};

class HelloHandler : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(HelloHandler)
  void onRequest(const Pistache::Http::Request& request,
                 Pistache::Http::ResponseWriter response) override {
    response.send(Pistache::Http::Code::Ok, "hello " + request.resource());
  }
};

TEST(WiringTest, GrpcRoundTripOnLoopback) {
  EchoService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  ASSERT_GT(port, 0);

  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto stub = testing::Echo::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  testing::EchoRequest request;
  const std::string message = TraceId::Generate().ToHex();
  request.set_message(message);
  testing::EchoResponse response;
  grpc::Status status = stub->Unary(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.message(), message);
  server->Shutdown();
}

TEST(WiringTest, PistacheEndpointOnPortZero) {
  Pistache::Http::Endpoint endpoint(Pistache::Address(Pistache::IP::loopback(), Pistache::Port(0)));
  endpoint.init(Pistache::Http::Endpoint::options().threads(1));
  endpoint.setHandler(Pistache::Http::make_handler<HelloHandler>());
  endpoint.serveThreaded();
  const int port = static_cast<uint16_t>(endpoint.getPort());
  ASSERT_GT(port, 0);

  auto response = tracebridge::testing::HttpGet(port, "/wired");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello /wired");
  endpoint.shutdown();
}

}  // namespace
}  // namespace tracebridge
