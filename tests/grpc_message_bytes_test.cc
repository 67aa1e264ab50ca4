// Request and response bytes on both sides of real gRPC calls (127.0.0.1:0),
// unary and streaming, with messages of known sizes. Both sides count a
// message's serialised size (interceptors/message_size.h), so they agree. Calls
// through a generic (ByteBuffer) stub count their messages but not their
// received bytes, and must not be mistaken for the generated type.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/echo_service.h"
#include "tests/testing/traced_service.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/interceptors/install.h"
#include "tracebridge/interceptors/message_size.h"

namespace tracebridge {
namespace {

using testing::EchoRequest;
using testing::EchoResponse;
using testing::EchoServiceImpl;

constexpr char kService[] = "tracebridge.testing.Echo";

EchoRequest Request(size_t payload, int count = 0) {
  EchoRequest request;
  request.set_message(std::string(payload, 'q'));
  request.set_count(count);
  return request;
}

class GrpcMessageBytesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = testing::MakeTestTelemetry("client");
    server_ = testing::MakeTestTelemetry("server");
    traced_ = testing::StartTracedServer(*server_, {&service_});
    channel_ = CreateTracedChannel(traced_.address(), grpc::InsecureChannelCredentials(), *client_);
    stub_ = testing::Echo::NewStub(channel_);
  }
  void TearDown() override { traced_.server->Shutdown(testing::DeadlineIn(absl::Seconds(10))); }

  // Waits for one call of `method` on both sides; checks the four byte
  // counters and the message counts.
  void ExpectBytes(const std::string& method, uint64_t request_bytes, uint64_t response_bytes,
                   uint64_t requests, uint64_t responses) {
    const SeriesSnapshot server =
        testing::WaitForSeries(*server_, Side::kServer, kService, method, 1);
    const SeriesSnapshot client =
        testing::WaitForSeries(*client_, Side::kClient, kService, method, 1);
    ASSERT_FALSE(server.name.empty()) << method;
    ASSERT_FALSE(client.name.empty()) << method;
    EXPECT_EQ(server.request_bytes, request_bytes) << method << " server received";
    EXPECT_EQ(client.request_bytes, request_bytes) << method << " client sent";
    EXPECT_EQ(server.response_bytes, response_bytes) << method << " server sent";
    EXPECT_EQ(client.response_bytes, response_bytes) << method << " client received";
    EXPECT_EQ(server.messages_received, requests) << method;
    EXPECT_EQ(client.messages_sent, requests) << method;
    EXPECT_EQ(server.messages_sent, responses) << method;
    EXPECT_EQ(client.messages_received, responses) << method;
  }

  EchoServiceImpl service_;
  std::unique_ptr<Telemetry> client_;
  std::unique_ptr<Telemetry> server_;
  testing::TracedServer traced_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<testing::Echo::Stub> stub_;
};

TEST_F(GrpcMessageBytesTest, Unary) {
  const EchoRequest request = Request(1000);
  ASSERT_EQ(request.ByteSizeLong(), 1003u);  // tag, two length bytes, payload
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
  EchoResponse response;
  ASSERT_TRUE(stub_->Unary(&context, request, &response).ok());
  ASSERT_EQ(response.ByteSizeLong(), 1003u);
  ExpectBytes("Unary", 1003, 1003, 1, 1);
}

TEST_F(GrpcMessageBytesTest, ClientStream) {
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
  EchoResponse response;
  auto writer = stub_->ClientStream(&context, &response);
  uint64_t sent = 0;
  for (size_t payload : {0, 1, 127, 128, 5000}) {
    const EchoRequest request = Request(payload);
    sent += request.ByteSizeLong();
    ASSERT_TRUE(writer->Write(request));
  }
  ASSERT_TRUE(writer->WritesDone());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(sent, 0 + 3 + 129 + 131 + 5003u);
  ExpectBytes("ClientStream", sent, response.ByteSizeLong(), 5, 1);
}

TEST_F(GrpcMessageBytesTest, ServerStream) {
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
  const EchoRequest request = Request(300, /*count=*/12);
  auto reader = stub_->ServerStream(&context, request);
  EchoResponse response;
  uint64_t received = 0;
  int responses = 0;
  while (reader->Read(&response)) {
    received += response.ByteSizeLong();
    ++responses;
  }
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_EQ(responses, 12);
  // "q"*300 + "0".."11": 10 of 304 bytes and 2 of 305.
  EXPECT_EQ(received, 10 * 304 + 2 * 305u);
  ExpectBytes("ServerStream", request.ByteSizeLong(), received, 1, 12);
}

TEST_F(GrpcMessageBytesTest, BidiStream) {
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
  auto stream = stub_->BidiStream(&context);
  uint64_t sent = 0, received = 0;
  for (size_t payload : {10, 200, 70000}) {
    const EchoRequest request = Request(payload);
    sent += request.ByteSizeLong();
    ASSERT_TRUE(stream->Write(request));
    EchoResponse response;
    ASSERT_TRUE(stream->Read(&response));
    received += response.ByteSizeLong();
  }
  ASSERT_TRUE(stream->WritesDone());
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(sent, received);
  ExpectBytes("BidiStream", sent, received, 3, 3);
}

// A generic stub receives a ByteBuffer where the generated type would be an
// EchoResponse: the client counts the message, not its bytes, and survives.
TEST_F(GrpcMessageBytesTest, GenericStubResponsesAreCountedWithoutBytes) {
  const EchoRequest request = Request(40);
  grpc::ByteBuffer request_buffer;
  bool own_buffer = false;
  ASSERT_TRUE(
      grpc::SerializationTraits<EchoRequest>::Serialize(request, &request_buffer, &own_buffer)
          .ok());
  grpc::GenericStub generic(channel_);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
  // gRPC keeps a pointer to the method name for the call's lifetime.
  const std::string method = "/tracebridge.testing.Echo/Unary";
  auto call = generic.PrepareUnaryCall(&context, method, request_buffer, &queue);
  call->StartCall();
  grpc::ByteBuffer response_buffer;
  grpc::Status status;
  call->Finish(&response_buffer, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(queue.Next(&tag, &ok));
  ASSERT_TRUE(ok);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response_buffer.Length(), 42u);

  const SeriesSnapshot server =
      testing::WaitForSeries(*server_, Side::kServer, kService, "Unary", 1);
  const SeriesSnapshot client =
      testing::WaitForSeries(*client_, Side::kClient, kService, "Unary", 1);
  EXPECT_EQ(server.request_bytes, 42u);  // the server's type is generated
  EXPECT_EQ(client.request_bytes, 42u);  // sent bytes are always known
  EXPECT_EQ(server.response_bytes, 42u);
  EXPECT_EQ(client.response_bytes, 0u);  // a ByteBuffer: not measured
  EXPECT_EQ(client.messages_received, 1u);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
}

TEST(ReceivedMessageTypeTest, ResolvesGeneratedTypesPerSide) {
  const google::protobuf::Message* request =
      internal::ReceivedMessageType("/tracebridge.testing.Echo/Unary", Side::kServer);
  const google::protobuf::Message* response =
      internal::ReceivedMessageType("/tracebridge.testing.Echo/Unary", Side::kClient);
  ASSERT_NE(request, nullptr);
  ASSERT_NE(response, nullptr);
  EXPECT_EQ(request->GetDescriptor(), EchoRequest::descriptor());
  EXPECT_EQ(response->GetDescriptor(), EchoResponse::descriptor());
  // Cached: the same answer again.
  EXPECT_EQ(internal::ReceivedMessageType("/tracebridge.testing.Echo/Unary", Side::kServer),
            request);
  EXPECT_EQ(internal::ReceivedMessageType("/no.Such/Method", Side::kServer), nullptr);
  EXPECT_EQ(internal::ReceivedMessageType("not a method", Side::kServer), nullptr);
  EXPECT_EQ(internal::ReceivedMessageType("", Side::kClient), nullptr);

  const EchoRequest message = Request(9);
  EXPECT_EQ(internal::MessageBytes(&message, request), 11u);
  EXPECT_EQ(internal::MessageBytes(&message, response), 0u);  // another class
  const grpc::ByteBuffer buffer;
  EXPECT_EQ(internal::MessageBytes(&buffer, request), 0u);
  EXPECT_EQ(internal::MessageBytes(nullptr, request), 0u);
  EXPECT_EQ(internal::MessageBytes(&message, nullptr), 0u);
}

}  // namespace
}  // namespace tracebridge
