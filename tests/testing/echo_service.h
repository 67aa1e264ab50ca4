// File: tests/testing/echo_service.h
//
// The test Echo service (tests/echo/echo.proto) with sync handlers for all
// four RPC shapes. A request's `status_code` makes the server fail with that
// code, `delay_ms` delays the answer (waiting on the call's cancellation, not
// sleeping blindly), and `count` sets how many messages a server stream sends.
// With a downstream stub, each handler first makes the same kind of call to
// it (so a chain of services can be built); the downstream call's failure is
// returned as is.

#ifndef TRACEBRIDGE_TESTS_TESTING_ECHO_SERVICE_H_
#define TRACEBRIDGE_TESTS_TESTING_ECHO_SERVICE_H_

#include <memory>

#include "tests/echo/echo.grpc.pb.h"

namespace tracebridge {
namespace testing {

class EchoServiceImpl final : public Echo::Service {
 public:
  // `downstream` may be null (a leaf service).
  explicit EchoServiceImpl(std::shared_ptr<Echo::Stub> downstream = nullptr)
      : downstream_(std::move(downstream)) {}

  grpc::Status Unary(grpc::ServerContext* context, const EchoRequest* request,
                     EchoResponse* response) override;
  grpc::Status ClientStream(grpc::ServerContext* context, grpc::ServerReader<EchoRequest>* reader,
                            EchoResponse* response) override;
  grpc::Status ServerStream(grpc::ServerContext* context, const EchoRequest* request,
                            grpc::ServerWriter<EchoResponse>* writer) override;
  grpc::Status BidiStream(grpc::ServerContext* context,
                          grpc::ServerReaderWriter<EchoResponse, EchoRequest>* stream) override;

 private:
  std::shared_ptr<Echo::Stub> downstream_;
};

// Waits `delay_ms`, or until the call is cancelled; true if cancelled.
bool WaitOrCancelled(grpc::ServerContext* context, int delay_ms);

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_ECHO_SERVICE_H_
