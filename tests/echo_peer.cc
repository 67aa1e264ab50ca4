// An Echo server or streaming client in a process of its own, so that
// tests/grpc_faults_test.cc can kill one side of a call with SIGKILL: the
// most honest way for a peer to vanish (no goodbye on the connection).
//
//   echo_peer server           serves Echo on 127.0.0.1:0 (untraced), prints
//                              "port <n>", and stops when stdin ends.
//   echo_peer stream <port>    starts a long ServerStream call to
//                              127.0.0.1:<port>, prints "streaming" after the
//                              first message, and reads until the call ends.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/echo_service.h"

namespace tracebridge {
namespace {

int Serve() {
  testing::EchoServiceImpl service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port <= 0) {
    std::fprintf(stderr, "echo_peer: could not listen on 127.0.0.1\n");
    return 1;
  }
  std::printf("port %d\n", port);
  std::fflush(stdout);
  // End of input (the test closed the pipe, or died) means stop.
  std::string ignored;
  while (std::getline(std::cin, ignored)) {
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return 0;
}

int Stream(const char* port) {
  auto stub = testing::Echo::NewStub(
      grpc::CreateChannel(std::string("127.0.0.1:") + port, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(2));
  testing::EchoRequest request;
  request.set_message("m");
  request.set_count(1000000);
  request.set_delay_ms(5);
  auto reader = stub->ServerStream(&context, request);
  testing::EchoResponse response;
  if (!reader->Read(&response)) {
    std::fprintf(stderr, "echo_peer: stream ended before its first message: %s\n",
                 reader->Finish().error_message().c_str());
    return 1;
  }
  std::printf("streaming\n");
  std::fflush(stdout);
  while (reader->Read(&response)) {
  }
  return reader->Finish().ok() ? 0 : 1;
}

}  // namespace
}  // namespace tracebridge

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "server") == 0) return tracebridge::Serve();
  if (argc == 3 && std::strcmp(argv[1], "stream") == 0) return tracebridge::Stream(argv[2]);
  std::fprintf(stderr, "usage: echo_peer server | echo_peer stream <port>\n");
  return 2;
}
