// The interceptors under gRPC's async (completion-queue) and callback APIs,
// on both sides: client (async) → A (callback server, callback client) → B
// (async server). Handlers that run off the interceptor's thread reach their
// span through ServerSpan(context) and parent outgoing calls with SetParent.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/traced_service.h"
#include "tracebridge/interceptors/grpc_interceptors.h"
#include "tracebridge/interceptors/install.h"

namespace tracebridge {
namespace {

using testing::EchoRequest;
using testing::EchoResponse;

constexpr char kUnary[] = "tracebridge.testing.Echo/Unary";

// B: the completion-queue API, one thread driving the queue.
class AsyncLeaf {
 public:
  explicit AsyncLeaf(Telemetry& telemetry) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    InstallOptions options;
    options.admin_listener = false;  // not what this test is about; cannot fail without it
    installation_ = *InstallOn(builder, telemetry, std::move(options));
    cq_ = builder.AddCompletionQueue();
    server_ = builder.BuildAndStart();
    thread_ = std::thread([this] { Run(); });
  }

  ~AsyncLeaf() {
    server_->Shutdown();
    cq_->Shutdown();
    thread_.join();
  }

  int port() const { return port_; }

 private:
  struct Call {
    grpc::ServerContext context;
    EchoRequest request;
    grpc::ServerAsyncResponseWriter<EchoResponse> responder{&context};
    bool answered = false;
  };

  void Request() {
    auto* call = new Call();
    service_.RequestUnary(&call->context, &call->request, &call->responder, cq_.get(), cq_.get(),
                          call);
  }

  void Run() {
    Request();
    void* tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
      auto* call = static_cast<Call*>(tag);
      if (!ok || call->answered) {
        delete call;
        continue;
      }
      Request();
      // Not on the interceptor's stack: the span comes from the context.
      if (Span* span = ServerSpan(&call->context)) span->SetAttribute("handled.by", "async");
      EchoResponse response;
      response.set_message(call->request.message());
      call->answered = true;
      call->responder.Finish(response, grpc::Status::OK, call);
    }
  }

  testing::Echo::AsyncService service_;
  Installation installation_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// A: the callback API; calls B with the callback client API.
class CallbackMiddle final : public testing::Echo::CallbackService {
 public:
  explicit CallbackMiddle(std::shared_ptr<grpc::Channel> downstream)
      : downstream_(testing::Echo::NewStub(std::move(downstream))) {}

  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context, const EchoRequest* request,
                                  EchoResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    Span* span = ServerSpan(context);
    if (span == nullptr) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL, "no server span"));
      return reactor;
    }
    span->SetAttribute("handled.by", "callback");
    struct Outgoing {
      grpc::ClientContext context;
      EchoResponse response;
    };
    auto* outgoing = new Outgoing();
    SetParent(&outgoing->context, span->context());
    downstream_->async()->Unary(&outgoing->context, request, &outgoing->response,
                                [reactor, response, outgoing](grpc::Status status) {
                                  response->set_message(outgoing->response.message());
                                  delete outgoing;
                                  reactor->Finish(status);
                                });
    return reactor;
  }

 private:
  std::unique_ptr<testing::Echo::Stub> downstream_;
};

class ApiVariantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = testing::MakeTestTelemetry("client");
    a_ = testing::MakeTestTelemetry("callback-a");
    b_ = testing::MakeTestTelemetry("async-b");
    leaf_ = std::make_unique<AsyncLeaf>(*b_);
    middle_ = std::make_unique<CallbackMiddle>(CreateTracedChannel(
        absl::StrCat("127.0.0.1:", leaf_->port()), grpc::InsecureChannelCredentials(), *a_));
    a_server_ = testing::StartTracedServer(*a_, {middle_.get()});
    stub_ = testing::Echo::NewStub(
        CreateTracedChannel(a_server_.address(), grpc::InsecureChannelCredentials(), *client_));
  }
  void TearDown() override {
    a_server_.server->Shutdown();
    leaf_.reset();
  }

  // Checks client span (parent `parent`) → A server → A client → B server.
  void ExpectChain(const SpanContext& parent) {
    const TraceId& trace_id = parent.trace_id();
    auto client_spans = testing::WaitForTrace(*client_, trace_id, 1);
    auto a_spans = testing::WaitForTrace(*a_, trace_id, 2);
    auto b_spans = testing::WaitForTrace(*b_, trace_id, 1);
    const SpanData* client = testing::FindSpan(client_spans, kUnary, SpanKind::kClient);
    const SpanData* a_server = testing::FindSpan(a_spans, kUnary, SpanKind::kServer);
    const SpanData* a_client = testing::FindSpan(a_spans, kUnary, SpanKind::kClient);
    const SpanData* b_server = testing::FindSpan(b_spans, kUnary, SpanKind::kServer);
    ASSERT_NE(client, nullptr);
    ASSERT_NE(a_server, nullptr);
    ASSERT_NE(a_client, nullptr);
    ASSERT_NE(b_server, nullptr);
    EXPECT_EQ(client->parent_span_id, parent.span_id());
    EXPECT_EQ(a_server->parent_span_id, client->context.span_id());
    EXPECT_EQ(a_client->parent_span_id, a_server->context.span_id());
    EXPECT_EQ(b_server->parent_span_id, a_client->context.span_id());
    EXPECT_EQ(absl::get<std::string>(*a_server->FindAttribute("handled.by")), "callback");
    EXPECT_EQ(absl::get<std::string>(*b_server->FindAttribute("handled.by")), "async");
  }

  std::unique_ptr<Telemetry> client_, a_, b_;
  std::unique_ptr<AsyncLeaf> leaf_;
  std::unique_ptr<CallbackMiddle> middle_;
  testing::TracedServer a_server_;
  std::unique_ptr<testing::Echo::Stub> stub_;
};

TEST_F(ApiVariantsTest, AsyncClientWithAnExplicitParent) {
  Span root = client_->tracer().StartSpan("root");  // not current: passed explicitly
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  SetParent(&context, root.context());
  grpc::CompletionQueue cq;
  EchoRequest request;
  request.set_message("async");
  auto call = stub_->AsyncUnary(&context, request, &cq);
  EchoResponse response;
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag;
  bool ok;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  ASSERT_TRUE(ok);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.message(), "async");
  // The private parent entry never reaches the wire.
  EXPECT_EQ(context.GetServerInitialMetadata().count("tracebridge-parent"), 0u);
  ExpectChain(root.context());
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(ApiVariantsTest, CallbackClientUsesTheCurrentSpan) {
  Span root = client_->tracer().StartSpan("root");
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  grpc::Status status;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  EchoRequest request;
  EchoResponse response;
  {
    Scope scope(root);
    stub_->async()->Unary(&context, &request, &response, [&](grpc::Status s) {
      std::lock_guard<std::mutex> lock(mutex);
      status = s;
      done = true;
      done_cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mutex);
  ASSERT_TRUE(done_cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; }));
  ASSERT_TRUE(status.ok()) << status.error_message();
  ExpectChain(root.context());
}

}  // namespace
}  // namespace tracebridge
