// End-to-end tests of the gRPC interceptors with real servers on 127.0.0.1:0:
// a client → A → B chain for every RPC shape, the async and callback APIs,
// errors, deadlines, cancellation, filters, the trust boundary and baggage
// at gRPC's metadata size limit.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/echo_service.h"
#include "tests/testing/traced_service.h"
#include "tracebridge/core/trace/span.h"
#include "tracebridge/interceptors/grpc_interceptors.h"
#include "tracebridge/interceptors/install.h"
#include "tracebridge/v1/query.grpc.pb.h"

namespace tracebridge {
namespace {

using testing::EchoRequest;
using testing::EchoResponse;
using testing::EchoServiceImpl;

constexpr char kService[] = "tracebridge.testing.Echo";

std::chrono::system_clock::time_point In(std::chrono::milliseconds duration) {
  return std::chrono::system_clock::now() + duration;
}

// client → A → B, each with its own Telemetry.
class ChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = testing::MakeTestTelemetry("client");
    a_ = testing::MakeTestTelemetry("service-a");
    b_ = testing::MakeTestTelemetry("service-b");
    b_service_ = std::make_unique<EchoServiceImpl>();
    b_server_ = testing::StartTracedServer(*b_, {b_service_.get()});
    a_service_ = std::make_unique<EchoServiceImpl>(testing::Echo::NewStub(
        CreateTracedChannel(b_server_.address(), grpc::InsecureChannelCredentials(), *a_)));
    a_server_ = testing::StartTracedServer(*a_, {a_service_.get()});
    stub_ = testing::Echo::NewStub(
        CreateTracedChannel(a_server_.address(), grpc::InsecureChannelCredentials(), *client_));
  }

  void TearDown() override {
    a_server_.server->Shutdown();
    b_server_.server->Shutdown();
  }

  // Runs one call of `method` to A inside a client root span; returns the
  // root's trace id.
  TraceId CallWithRoot(const std::string& method, const EchoRequest& request,
                       grpc::Status* status) {
    Span root = client_->tracer().StartSpan("client-root");
    Scope scope(root);
    grpc::ClientContext context;
    context.set_deadline(In(std::chrono::seconds(10)));
    EchoResponse response;
    if (method == "Unary") {
      *status = stub_->Unary(&context, request, &response);
    } else if (method == "ClientStream") {
      auto writer = stub_->ClientStream(&context, &response);
      for (int i = 0; i < 3; ++i) writer->Write(request);
      writer->WritesDone();
      *status = writer->Finish();
    } else if (method == "ServerStream") {
      auto reader = stub_->ServerStream(&context, request);
      while (reader->Read(&response)) {
      }
      *status = reader->Finish();
    } else {
      auto stream = stub_->BidiStream(&context);
      for (int i = 0; i < 3; ++i) {
        stream->Write(request);
        stream->Read(&response);
      }
      stream->WritesDone();
      *status = stream->Finish();
    }
    last_trace_id_header_.clear();
    for (const auto& entry : context.GetServerInitialMetadata()) {
      if (entry.first == "x-trace-id") {
        last_trace_id_header_ = std::string(entry.second.data(), entry.second.size());
      }
    }
    return root.context().trace_id();
  }

  std::unique_ptr<Telemetry> client_, a_, b_;
  std::unique_ptr<EchoServiceImpl> a_service_, b_service_;
  testing::TracedServer a_server_, b_server_;
  std::unique_ptr<testing::Echo::Stub> stub_;
  std::string last_trace_id_header_;
};

class ChainPerShapeTest : public ChainTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(ChainPerShapeTest, OneTraceWithCorrectParentage) {
  const std::string method = GetParam();
  const std::string span_name = absl::StrCat(kService, "/", method);
  EchoRequest request;
  request.set_message("hi");
  request.set_count(4);
  grpc::Status status;
  const TraceId trace_id = CallWithRoot(method, request, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(last_trace_id_header_, trace_id.ToHex());

  auto client_spans = testing::WaitForTrace(*client_, trace_id, 2);
  auto a_spans = testing::WaitForTrace(*a_, trace_id, 2);
  auto b_spans = testing::WaitForTrace(*b_, trace_id, 1);
  const SpanData* root = testing::FindSpan(client_spans, "client-root", SpanKind::kInternal);
  const SpanData* client = testing::FindSpan(client_spans, span_name, SpanKind::kClient);
  const SpanData* a_server = testing::FindSpan(a_spans, span_name, SpanKind::kServer);
  const SpanData* a_client = testing::FindSpan(a_spans, span_name, SpanKind::kClient);
  const SpanData* b_server = testing::FindSpan(b_spans, span_name, SpanKind::kServer);
  ASSERT_NE(root, nullptr);
  ASSERT_NE(client, nullptr);
  ASSERT_NE(a_server, nullptr);
  ASSERT_NE(a_client, nullptr);
  ASSERT_NE(b_server, nullptr);

  EXPECT_EQ(client->parent_span_id, root->context.span_id());
  EXPECT_EQ(a_server->parent_span_id, client->context.span_id());
  EXPECT_TRUE(a_server->parent_is_remote);
  EXPECT_EQ(a_client->parent_span_id, a_server->context.span_id());
  EXPECT_FALSE(a_client->parent_is_remote);
  EXPECT_EQ(b_server->parent_span_id, a_client->context.span_id());
  for (const SpanData* span : {client, a_server, a_client, b_server}) {
    EXPECT_EQ(span->context.trace_id(), trace_id);
    EXPECT_EQ(span->status, StatusCode::kUnset) << span->name;
    ASSERT_NE(span->FindAttribute("rpc.system"), nullptr);
    EXPECT_EQ(absl::get<std::string>(*span->FindAttribute("rpc.system")), "grpc");
    EXPECT_EQ(absl::get<std::string>(*span->FindAttribute("rpc.service")), kService);
    EXPECT_EQ(absl::get<std::string>(*span->FindAttribute("rpc.method")), method);
    EXPECT_EQ(absl::get<int64_t>(*span->FindAttribute("rpc.grpc.status_code")), 0);
  }
  EXPECT_EQ(absl::get<std::string>(*a_server->FindAttribute("network.peer.address")), "127.0.0.1");
  EXPECT_EQ(absl::get<std::string>(*client->FindAttribute("server.address")), "127.0.0.1");
  EXPECT_EQ(absl::get<int64_t>(*client->FindAttribute("server.port")), a_server_.port);

  // One call per side and hop, all OK.
  const std::pair<Telemetry*, Side> sides[] = {{a_.get(), Side::kServer},
                                               {a_.get(), Side::kClient},
                                               {b_.get(), Side::kServer},
                                               {client_.get(), Side::kClient}};
  for (const auto& [telemetry, side] : sides) {
    SeriesSnapshot series = testing::WaitForSeries(*telemetry, side, kService, method, 1);
    EXPECT_EQ(series.Handled(), 1u) << telemetry->resource().service_name;
    EXPECT_EQ(testing::StatusCountOf(series, 0), 1u);
    EXPECT_EQ(series.Errors(), 0u);
    EXPECT_EQ(series.InFlight(), 0u);
    EXPECT_GT(series.messages_sent, 0u);
    EXPECT_GT(series.messages_received, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(AllShapes, ChainPerShapeTest,
                         ::testing::Values("Unary", "ClientStream", "ServerStream", "BidiStream"));

TEST_F(ChainTest, MetricCountsEqualCallsPerStatusCode) {
  for (int code : {0, 0, 0, 5, 13, 13}) {
    EchoRequest request;
    request.set_status_code(code);
    grpc::Status status;
    CallWithRoot("Unary", request, &status);
    EXPECT_EQ(static_cast<int>(status.error_code()), code);
  }
  SeriesSnapshot a = testing::WaitForSeries(*a_, Side::kServer, kService, "Unary", 6);
  EXPECT_EQ(a.Handled(), 6u);
  EXPECT_EQ(a.started, 6u);
  EXPECT_EQ(testing::StatusCountOf(a, 0), 3u);
  EXPECT_EQ(testing::StatusCountOf(a, 5), 1u);   // NOT_FOUND: not a server error
  EXPECT_EQ(testing::StatusCountOf(a, 13), 2u);  // INTERNAL: a server error
  EXPECT_EQ(a.Errors(), 2u);
  SeriesSnapshot client = testing::WaitForSeries(*client_, Side::kClient, kService, "Unary", 6);
  EXPECT_EQ(client.Errors(), 3u);  // every non-OK code is a client error
}

TEST_F(ChainTest, ErrorPathMarksEverySpan) {
  EchoRequest request;
  request.set_status_code(static_cast<int>(grpc::StatusCode::INTERNAL));
  grpc::Status status;
  const TraceId trace_id = CallWithRoot("Unary", request, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  const std::string name = absl::StrCat(kService, "/Unary");
  auto b_spans = testing::WaitForTrace(*b_, trace_id, 1);
  auto a_spans = testing::WaitForTrace(*a_, trace_id, 2);
  auto client_spans = testing::WaitForTrace(*client_, trace_id, 2);
  for (const SpanData* span : {testing::FindSpan(b_spans, name, SpanKind::kServer),
                               testing::FindSpan(a_spans, name, SpanKind::kServer),
                               testing::FindSpan(a_spans, name, SpanKind::kClient),
                               testing::FindSpan(client_spans, name, SpanKind::kClient)}) {
    ASSERT_NE(span, nullptr);
    EXPECT_EQ(span->status, StatusCode::kError);
    EXPECT_EQ(span->status_description, "requested failure 13");
    EXPECT_EQ(absl::get<int64_t>(*span->FindAttribute("rpc.grpc.status_code")), 13);
  }
}

TEST_F(ChainTest, ExpiredDeadlineIsRecordedOnBothSides) {
  Span root = client_->tracer().StartSpan("client-root");
  Scope scope(root);
  grpc::ClientContext context;
  context.set_deadline(In(std::chrono::milliseconds(200)));
  EchoRequest request;
  request.set_delay_ms(5000);  // B waits (until cancelled)
  EchoResponse response;
  grpc::Status status = stub_->Unary(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);

  SeriesSnapshot client = testing::WaitForSeries(*client_, Side::kClient, kService, "Unary", 1);
  EXPECT_EQ(testing::StatusCountOf(client, 4), 1u);
  auto spans = testing::WaitForTrace(*client_, root.context().trace_id(), 1);
  const SpanData* span =
      testing::FindSpan(spans, absl::StrCat(kService, "/Unary"), SpanKind::kClient);
  ASSERT_NE(span, nullptr);
  EXPECT_EQ(span->status, StatusCode::kError);
  EXPECT_EQ(absl::get<int64_t>(*span->FindAttribute("rpc.grpc.status_code")), 4);
  // B's handler notices the cancellation and ends too; its call is counted
  // (as cancelled or deadline exceeded, whichever the server saw), not lost.
  SeriesSnapshot b = testing::WaitForSeries(*b_, Side::kServer, kService, "Unary", 1);
  EXPECT_EQ(b.Handled(), 1u);
  EXPECT_EQ(testing::StatusCountOf(b, 1) + testing::StatusCountOf(b, 4), 1u);
  EXPECT_EQ(b.InFlight(), 0u);
}

TEST_F(ChainTest, ClientCancellationIsRecorded) {
  grpc::ClientContext context;
  context.set_deadline(In(std::chrono::seconds(30)));
  EchoRequest request;
  request.set_count(1000);
  request.set_delay_ms(10);
  auto reader = stub_->ServerStream(&context, request);
  EchoResponse response;
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_TRUE(reader->Read(&response));
  context.TryCancel();
  while (reader->Read(&response)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  SeriesSnapshot client =
      testing::WaitForSeries(*client_, Side::kClient, kService, "ServerStream", 1);
  EXPECT_EQ(testing::StatusCountOf(client, 1), 1u);
  EXPECT_GE(client.messages_received, 2u);
  // Every hop ends the call: nothing stays in flight.
  SeriesSnapshot a = testing::WaitForSeries(*a_, Side::kServer, kService, "ServerStream", 1);
  SeriesSnapshot b = testing::WaitForSeries(*b_, Side::kServer, kService, "ServerStream", 1);
  EXPECT_EQ(a.InFlight(), 0u);
  EXPECT_EQ(b.InFlight(), 0u);
  EXPECT_EQ(testing::StatusCountOf(a, 0), 0u);
}

TEST_F(ChainTest, QueryServiceIsOnTheAdminListenerNotTheBusinessPort) {
  EchoRequest request;
  grpc::Status status;
  CallWithRoot("Unary", request, &status);
  ASSERT_TRUE(status.ok());

  {  // The business port does not serve tracebridge.v1.Query by default.
    auto business = v1::Query::NewStub(
        grpc::CreateChannel(a_server_.address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(In(std::chrono::seconds(10)));
    v1::GetMetricsResponse response;
    EXPECT_EQ(business->GetMetrics(&context, v1::GetMetricsRequest(), &response).error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
    grpc::ClientContext list_context;
    list_context.set_deadline(In(std::chrono::seconds(10)));
    v1::ListSpansResponse spans;
    EXPECT_EQ(business->ListSpans(&list_context, v1::ListSpansRequest(), &spans).error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
  }

  // The admin listener does, on loopback.
  EXPECT_TRUE(absl::StartsWith(a_server_.admin_grpc_address(), "127.0.0.1:"));
  auto query = v1::Query::NewStub(
      grpc::CreateChannel(a_server_.admin_grpc_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::GetMetricsRequest metrics_request;
  metrics_request.set_protocol(v1::PROTOCOL_GRPC);
  metrics_request.set_side(v1::SIDE_SERVER);
  v1::GetMetricsResponse response;
  ASSERT_TRUE(query->GetMetrics(&context, metrics_request, &response).ok());
  EXPECT_EQ(response.service_name(), "service-a");
  // The admin calls are not counted; the two refused on the business port
  // are, as calls of a method the server does not have.
  ASSERT_EQ(response.series_size(), 2);
  const v1::SeriesMetrics& series = response.series(0);
  const v1::SeriesMetrics& unknown = response.series(1);
  EXPECT_EQ(unknown.name(), "_OTHER/_OTHER");
  EXPECT_EQ(unknown.count(), 2u);
  ASSERT_EQ(unknown.status_codes_size(), 1);
  EXPECT_EQ(unknown.status_codes(0).code(), static_cast<int>(grpc::StatusCode::UNIMPLEMENTED));
  EXPECT_EQ(series.name(), absl::StrCat(kService, "/Unary"));
  EXPECT_EQ(series.count(), 1u);
  EXPECT_EQ(series.errors(), 0u);
  ASSERT_EQ(series.status_codes_size(), 1);
  EXPECT_EQ(series.status_codes(0).code(), 0);
  EXPECT_GT(series.max_seconds(), 0.0);
  EXPECT_GE(series.p99_seconds(), series.p50_seconds());

  grpc::ClientContext bad_context;
  v1::ListSpansRequest bad;
  bad.set_page_size(5000);
  v1::ListSpansResponse spans;
  EXPECT_EQ(query->ListSpans(&bad_context, bad, &spans).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(GrpcInterceptorsTest, QueryServiceOnTheBusinessPortWhenOptedInIsExcludedFromTracing) {
  auto server = testing::MakeTestTelemetry("opened");
  EchoServiceImpl service;
  InstallOptions options;
  options.serve_query_on_server_port = true;
  options.query.access.bearer_token = "business-port-token";
  testing::TracedServer traced =
      testing::StartTracedServer(*server, {&service}, std::move(options));
  auto channel = grpc::CreateChannel(traced.address(), grpc::InsecureChannelCredentials());
  auto echo = testing::Echo::NewStub(channel);
  auto query = v1::Query::NewStub(channel);
  {
    grpc::ClientContext context;
    EchoResponse response;
    ASSERT_TRUE(echo->Unary(&context, EchoRequest(), &response).ok());
  }
  {  // Opened deliberately, and with a token: none is refused.
    grpc::ClientContext context;
    context.set_deadline(In(std::chrono::seconds(10)));
    v1::GetMetricsResponse response;
    EXPECT_EQ(query->GetMetrics(&context, v1::GetMetricsRequest(), &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  grpc::ClientContext context;
  context.set_deadline(In(std::chrono::seconds(10)));
  context.AddMetadata("authorization", "Bearer business-port-token");
  v1::GetMetricsRequest request;
  request.set_side(v1::SIDE_SERVER);
  v1::GetMetricsResponse response;
  ASSERT_TRUE(query->GetMetrics(&context, request, &response).ok());
  // The query calls themselves are neither counted nor traced.
  ASSERT_EQ(response.series_size(), 1);
  EXPECT_EQ(response.series(0).name(), absl::StrCat(kService, "/Unary"));
  EXPECT_EQ(response.series(0).count(), 1u);
  EXPECT_EQ(server->span_store()->Stats().stored, 1u);
  // The admin listener serves it too, without that token (it has no policy).
  auto admin = v1::Query::NewStub(
      grpc::CreateChannel(traced.admin_grpc_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext admin_context;
  v1::GetMetricsResponse admin_response;
  EXPECT_TRUE(admin->GetMetrics(&admin_context, request, &admin_response).ok());
  traced.server->Shutdown();
}

TEST_F(ChainTest, ListSpansPagesThroughEveryStoredSpanOnce) {
  for (int i = 0; i < 7; ++i) {
    grpc::Status status;
    CallWithRoot("Unary", EchoRequest(), &status);
  }
  auto query = v1::Query::NewStub(
      grpc::CreateChannel(b_server_.admin_grpc_address(), grpc::InsecureChannelCredentials()));
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    grpc::ClientContext context;
    v1::ListSpansRequest request;
    request.set_page_size(3);
    request.set_page_token(token);
    v1::ListSpansResponse response;
    ASSERT_TRUE(query->ListSpans(&context, request, &response).ok());
    for (const v1::Span& span : response.spans()) {
      EXPECT_TRUE(seen.insert(span.span_id()).second) << "span listed twice";
      EXPECT_EQ(span.kind(), "server");
      EXPECT_EQ(span.service_name(), "service-b");
    }
    token = response.next_page_token();
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  EXPECT_EQ(seen.size(), 7u);
}

TEST(GrpcInterceptorsTest, UntrustedCallerStartsANewTraceWithALink) {
  auto client = testing::MakeTestTelemetry("client");
  auto server = testing::MakeTestTelemetry("edge");
  EchoServiceImpl service;
  InstallOptions options;
  options.server.trust_incoming_context = false;
  testing::TracedServer traced =
      testing::StartTracedServer(*server, {&service}, std::move(options));
  auto stub = testing::Echo::NewStub(
      CreateTracedChannel(traced.address(), grpc::InsecureChannelCredentials(), *client));
  Span root = client->tracer().StartSpan("root");
  Scope scope(root, Baggage().Set("user", "mallory"));
  grpc::ClientContext context;
  EchoResponse response;
  ASSERT_TRUE(stub->Unary(&context, EchoRequest(), &response).ok());
  auto spans = testing::WaitForTrace(*client, root.context().trace_id(), 1);
  const SpanData* client_span =
      testing::FindSpan(spans, absl::StrCat(kService, "/Unary"), SpanKind::kClient);
  ASSERT_NE(client_span, nullptr);
  // The server's span is in a trace of its own, linked to the caller's span.
  auto recent = server->span_store()->MostRecent(1);
  ASSERT_EQ(recent.size(), 1u);
  const SpanData& server_span = *recent[0].span;
  EXPECT_NE(server_span.context.trace_id(), root.context().trace_id());
  EXPECT_FALSE(server_span.parent_span_id.IsValid());
  ASSERT_EQ(server_span.links.size(), 1u);
  EXPECT_EQ(server_span.links[0].context.span_id(), client_span->context.span_id());
  traced.server->Shutdown();
}

// A leaf that reports what the interceptor made current.
class BaggageEcho final : public testing::Echo::Service {
  grpc::Status Unary(grpc::ServerContext*, const EchoRequest*, EchoResponse* response) override {
    size_t bytes = 0;
    for (const Baggage::Entry& entry : CurrentBaggage().entries()) bytes += entry.value.size();
    response->set_message(absl::StrCat(CurrentBaggage().size(), " ", bytes, " ",
                                       CurrentSpan().context().IsValid() ? "span" : "none"));
    return grpc::Status::OK;
  }
};

// The W3C maximum: 64 members, 8192 bytes of header.
Baggage FullSizeBaggage() {
  Baggage baggage;
  for (int i = 0; i < 64; ++i) {
    // "kNN=" + 124 value bytes = 128 bytes a member; 63 commas.
    baggage = baggage.Set(absl::StrCat("k", i < 10 ? "0" : "", i), std::string(123, 'v'));
  }
  return baggage;
}

TEST(GrpcInterceptorsTest, FullSizeBaggageNeedsARaisedBudgetAndMetadataLimit) {
  auto client = testing::MakeTestTelemetry("client");
  auto raised = testing::MakeTestTelemetry(
      "client-raised", testing::kAllPropagators,
      [](TelemetryBuilder& builder) { builder.SetInjectionBudget(16 * 1024); });
  auto server = testing::MakeTestTelemetry("server");
  BaggageEcho service;
  Span root = client->tracer().StartSpan("root");
  Scope scope(root, FullSizeBaggage());
  ASSERT_EQ(CurrentBaggage().size(), 64u);
  auto call = [](Telemetry& telemetry, const std::string& address) {
    auto stub = testing::Echo::NewStub(
        CreateTracedChannel(address, grpc::InsecureChannelCredentials(), telemetry));
    grpc::ClientContext context;
    context.set_deadline(In(std::chrono::seconds(10)));
    EchoResponse response;
    grpc::Status status = stub->Unary(&context, EchoRequest(), &response);
    return std::make_pair(status, response.message());
  };

  {  // The default budget trims the baggage; the call succeeds.
    testing::TracedServer traced = testing::StartTracedServer(*server, {&service});
    auto [status, message] = call(*client, traced.address());
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_NE(message, absl::StrCat(64, " ", 64 * 123, " span"));
    EXPECT_EQ(client->Stats().propagation.injections_trimmed, 1u);
    {  // A raised budget alone: gRPC's default limit (8 KiB) refuses the call.
      auto [refused, unused] = call(*raised, traced.address());
      EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
          << refused.error_message();
    }
    traced.server->Shutdown();
  }
  {  // Raised on both sides, the whole baggage arrives intact.
    testing::TracedServer traced =
        testing::StartTracedServer(*server, {&service}, {}, [](grpc::ServerBuilder& builder) {
          builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, 64 * 1024);
        });
    auto [status, message] = call(*raised, traced.address());
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(message, absl::StrCat(64, " ", 64 * 123, " span"));
    EXPECT_EQ(raised->Stats().propagation.baggage_members_dropped, 0u);
    traced.server->Shutdown();
  }
}

TEST(GrpcInterceptorsTest, MessageEventsAreRecordedAndCapped) {
  auto client = testing::MakeTestTelemetry("client");
  auto server = testing::MakeTestTelemetry("server");
  EchoServiceImpl service;
  InstallOptions options;
  options.server.message_events = true;
  options.server.max_message_events = 4;
  testing::TracedServer traced =
      testing::StartTracedServer(*server, {&service}, std::move(options));
  auto stub = testing::Echo::NewStub(
      CreateTracedChannel(traced.address(), grpc::InsecureChannelCredentials(), *client));
  Span root = client->tracer().StartSpan("root");
  Scope scope(root);
  grpc::ClientContext context;
  auto stream = stub->BidiStream(&context);
  EchoResponse response;
  EchoRequest request;
  request.set_message("hello");  // a non-empty message has a non-zero size
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(stream->Write(request));
    ASSERT_TRUE(stream->Read(&response));
  }
  stream->WritesDone();
  ASSERT_TRUE(stream->Finish().ok());
  auto spans = testing::WaitForTrace(*server, root.context().trace_id(), 1);
  const SpanData* span =
      testing::FindSpan(spans, absl::StrCat(kService, "/BidiStream"), SpanKind::kServer);
  ASSERT_NE(span, nullptr);
  // Six messages crossed; the cap keeps four events, in order.
  ASSERT_EQ(span->events.size(), 4u);
  EXPECT_EQ(span->events[0].name, "message");
  EXPECT_EQ(absl::get<std::string>(span->events[0].attributes[0].value), "RECEIVED");
  EXPECT_EQ(absl::get<std::string>(span->events[1].attributes[0].value), "SENT");
  SeriesSnapshot series = testing::WaitForSeries(*server, Side::kServer, kService, "BidiStream", 1);
  EXPECT_EQ(series.messages_received, 3u);
  EXPECT_EQ(series.messages_sent, 3u);
  EXPECT_EQ(series.response_bytes, 3 * response.ByteSizeLong());
  traced.server->Shutdown();
}

TEST(GrpcInterceptorsTest, MetricsOnlyModeRecordsWithoutSpans) {
  auto client = testing::MakeTestTelemetry("client");
  auto server = testing::MakeTestTelemetry("server");
  EchoServiceImpl service;
  InstallOptions options;
  options.server.tracing = false;
  testing::TracedServer traced =
      testing::StartTracedServer(*server, {&service}, std::move(options));
  GrpcClientOptions client_options;
  client_options.tracing = false;
  auto stub = testing::Echo::NewStub(CreateTracedChannel(
      traced.address(), grpc::InsecureChannelCredentials(), *client, client_options));
  for (int i = 0; i < 5; ++i) {
    grpc::ClientContext context;
    EchoResponse response;
    ASSERT_TRUE(stub->Unary(&context, EchoRequest(), &response).ok());
  }
  EXPECT_EQ(testing::WaitForSeries(*server, Side::kServer, kService, "Unary", 5).Handled(), 5u);
  EXPECT_EQ(testing::WaitForSeries(*client, Side::kClient, kService, "Unary", 5).Handled(), 5u);
  EXPECT_EQ(server->span_store()->Stats().stored, 0u);
  EXPECT_EQ(client->span_store()->Stats().stored, 0u);
  traced.server->Shutdown();
}

// `trace_id_response_header = false`: the server sends no x-trace-id,
// while the trace itself still crosses the connection.
TEST(GrpcInterceptorsTest, TraceIdResponseHeaderCanBeTurnedOff) {
  auto client = testing::MakeTestTelemetry("client");
  auto server = testing::MakeTestTelemetry("server");
  EchoServiceImpl service;
  InstallOptions options;
  options.server.trace_id_response_header = false;
  testing::TracedServer traced =
      testing::StartTracedServer(*server, {&service}, std::move(options));
  auto stub = testing::Echo::NewStub(
      CreateTracedChannel(traced.address(), grpc::InsecureChannelCredentials(), *client));
  Span root = client->tracer().StartSpan("root");
  grpc::ClientContext context;
  {
    Scope scope(root);
    EchoResponse response;
    ASSERT_TRUE(stub->Unary(&context, EchoRequest(), &response).ok());
  }
  root.End();
  for (const auto& entry : context.GetServerInitialMetadata()) {
    EXPECT_NE(std::string(entry.first.data(), entry.first.size()), "x-trace-id");
  }
  const std::vector<SpanData> spans = testing::WaitForTrace(*server, root.context().trace_id(), 1);
  EXPECT_NE(testing::FindSpan(spans, absl::StrCat(kService, "/Unary"), SpanKind::kServer), nullptr);
  traced.server->Shutdown();
}

}  // namespace
}  // namespace tracebridge
