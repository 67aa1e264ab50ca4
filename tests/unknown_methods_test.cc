// A client that calls methods the server does not have (a cardinality bomb:
// one new name per call) must not grow the server's metrics: each such call
// is UNIMPLEMENTED for gRPC, and tracebridge counts it under the one `_OTHER`
// series, never a series per raw method name.

#include <memory>
#include <string>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/echo_service.h"
#include "tests/testing/traced_service.h"
#include "tracebridge/core/metrics/registry.h"

namespace tracebridge {
namespace {

constexpr int kBogusCalls = 50;

// One unary call of `method` with an empty payload; the status.
grpc::Status CallRaw(grpc::GenericStub& stub, grpc::CompletionQueue& queue,
                     const std::string& method) {
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
  grpc::Status status;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      stub.PrepareUnaryCall(&context, method, request, &queue);
  call->StartCall();
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  EXPECT_TRUE(queue.Next(&tag, &ok));
  return status;
}

TEST(UnknownMethodsTest, BogusMethodNamesShareTheOverflowSeries) {
  std::unique_ptr<Telemetry> telemetry = testing::MakeTestTelemetry("unknown-methods");
  testing::EchoServiceImpl service;
  testing::TracedServer server = testing::StartTracedServer(*telemetry, {&service});
  ASSERT_NE(server.server, nullptr);
  const size_t registered_before = telemetry->metrics().registered_count();

  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  for (int i = 0; i < kBogusCalls; ++i) {
    const grpc::Status status = CallRaw(stub, queue, absl::StrCat("/bogus.Service", i, "/M", i));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();
  }
  queue.Shutdown();

  EXPECT_EQ(telemetry->metrics().registered_count(), registered_before);
  const MetricsSnapshot snapshot = telemetry->metrics().Snapshot();
  uint64_t other_unimplemented = 0;
  for (const SeriesSnapshot& series : snapshot.series) {
    EXPECT_EQ(absl::StrContains(series.scope, "bogus"), false) << series.scope;
    if (series.is_other && series.protocol == Protocol::kGrpc && series.side == Side::kServer) {
      for (const StatusCount& status : series.statuses) {
        if (status.code == grpc::StatusCode::UNIMPLEMENTED) other_unimplemented += status.count;
      }
    }
  }
  EXPECT_EQ(other_unimplemented, static_cast<uint64_t>(kBogusCalls));
}

}  // namespace
}  // namespace tracebridge
