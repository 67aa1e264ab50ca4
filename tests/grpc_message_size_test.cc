// Per-message size histograms over real gRPC calls (127.0.0.1:0): unary,
// client-, server- and bidi-streaming calls with messages of known sizes,
// including empty messages and sizes exactly on a power of two. Each message
// is one observation on each side (semantic conventions'
// rpc.*.request.size / rpc.*.response.size), checked bucket by bucket in the
// registry snapshot and in a real /metrics scrape of each side's admin
// listener: the server named as go-grpc-prometheus would, the client as
// OpenTelemetry does.

#include <grpcpp/grpcpp.h>
#include <pistache/router.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/echo_service.h"
#include "tests/testing/http_client.h"
#include "tests/testing/pistache_server.h"
#include "tests/testing/traced_service.h"
#include "tracebridge/admin/admin_listener.h"
#include "tracebridge/core/metrics/size_histogram.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/http/traced_router.h"
#include "tracebridge/interceptors/install.h"

namespace tracebridge {
namespace {

using testing::EchoRequest;
using testing::EchoResponse;

constexpr char kService[] = "tracebridge.testing.Echo";

// A request whose serialised size is `bytes`: a `message` field of
// `bytes` − 1 − (its length's varint size) characters; 0 is the empty message.
EchoRequest RequestOfSize(size_t bytes, int count = 0) {
  EchoRequest request;
  for (size_t payload = bytes; payload > 0 && request.ByteSizeLong() != bytes; --payload) {
    request.set_message(std::string(payload, 'q'));
    request.set_count(count);
  }
  request.set_count(count);
  return request;
}

// The expected histogram of messages of sizes `sizes`.
SizeHistogram Expected(const std::vector<uint64_t>& sizes) {
  SizeHistogram out;
  for (uint64_t size : sizes) {
    ++out.counts[SizeBucket(size)];
    out.sum += size;
  }
  return out;
}

void ExpectHistogram(const std::optional<SizeHistogram>& actual, const SizeHistogram& expected,
                     const std::string& what) {
  ASSERT_TRUE(actual.has_value()) << what;
  for (int b = 0; b < kSizeNumBuckets; ++b) {
    EXPECT_EQ(actual->counts[b], expected.counts[b]) << what << " bucket " << b;
  }
  EXPECT_EQ(actual->sum, expected.sum) << what;
  EXPECT_EQ(actual->Count(), expected.Count()) << what;
}

// Every line of a Prometheus histogram family `name` with `labels`
// ("{a=\"b\"" without the closing brace): 35 cumulative buckets, sum, count.
void ExpectExposed(const std::string& text, const std::string& name, const std::string& labels,
                   const SizeHistogram& expected) {
  uint64_t cumulative = 0;
  for (int b = 0; b < kSizeNumBuckets; ++b) {
    cumulative += expected.counts[b];
    const std::string le = b < kSizeNumBounds ? absl::StrCat(SizeBucketBound(b)) : "+Inf";
    const std::string line =
        absl::StrCat(name, "_bucket", labels, ",le=\"", le, "\"} ", cumulative, "\n");
    EXPECT_TRUE(absl::StrContains(text, line)) << line;
  }
  const std::string sum = absl::StrCat(name, "_sum", labels, "} ", expected.sum, "\n");
  const std::string count = absl::StrCat(name, "_count", labels, "} ", cumulative, "\n");
  EXPECT_TRUE(absl::StrContains(text, sum)) << sum;
  EXPECT_TRUE(absl::StrContains(text, count)) << count;
}

struct Call {
  std::string method;
  std::string grpc_type;
  std::vector<uint64_t> requests;
  std::vector<uint64_t> responses;
};

class GrpcMessageSizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = testing::MakeTestTelemetry("client");
    server_ = testing::MakeTestTelemetry(
        "server", testing::kAllPropagators,
        [](TelemetryBuilder& b) { b.SetMetricsNaming(MetricsNaming::kGrpcPrometheus); });
    traced_ = testing::StartTracedServer(*server_, {&service_});
    stub_ = testing::Echo::NewStub(
        CreateTracedChannel(traced_.address(), grpc::InsecureChannelCredentials(), *client_));
  }
  void TearDown() override { traced_.server->Shutdown(testing::DeadlineIn(absl::Seconds(10))); }

  testing::EchoServiceImpl service_;
  std::unique_ptr<Telemetry> client_;
  std::unique_ptr<Telemetry> server_;
  testing::TracedServer traced_;
  std::unique_ptr<testing::Echo::Stub> stub_;
};

TEST_F(GrpcMessageSizeTest, EveryMessageIsOneObservationOnEachSide) {
  std::vector<Call> calls;

  // Unary: empty, exactly 1024 bytes, one byte more; each echoed back.
  Call unary{"Unary", "unary", {}, {}};
  for (size_t size : {0, 1024, 1025}) {
    const EchoRequest request = RequestOfSize(size);
    ASSERT_EQ(request.ByteSizeLong(), size);
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    EchoResponse response;
    ASSERT_TRUE(stub_->Unary(&context, request, &response).ok());
    unary.requests.push_back(size);
    unary.responses.push_back(response.ByteSizeLong());
  }
  EXPECT_EQ(unary.responses, (std::vector<uint64_t>{0, 1024, 1025}));
  calls.push_back(unary);

  // Client stream: 0, 3, exactly 128, 129 bytes; one joined response.
  {
    Call call{"ClientStream", "client_stream", {}, {}};
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    EchoResponse response;
    auto writer = stub_->ClientStream(&context, &response);
    for (size_t size : {0, 3, 128, 129}) {
      const EchoRequest request = RequestOfSize(size);
      ASSERT_EQ(request.ByteSizeLong(), size);
      ASSERT_TRUE(writer->Write(request));
      call.requests.push_back(size);
    }
    ASSERT_TRUE(writer->WritesDone());
    ASSERT_TRUE(writer->Finish().ok());
    call.responses.push_back(response.ByteSizeLong());
    EXPECT_EQ(call.responses[0], 257u);  // 254 characters, tag and 2-byte length
    calls.push_back(call);
  }

  // Server stream: one request, 12 responses ("q"*300 + "0" … "11").
  {
    Call call{"ServerStream", "server_stream", {}, {}};
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    EchoRequest request;
    request.set_message(std::string(300, 'q'));
    request.set_count(12);
    call.requests.push_back(request.ByteSizeLong());
    auto reader = stub_->ServerStream(&context, request);
    EchoResponse response;
    while (reader->Read(&response)) call.responses.push_back(response.ByteSizeLong());
    ASSERT_TRUE(reader->Finish().ok());
    ASSERT_EQ(call.responses.size(), 12u);
    calls.push_back(call);
  }

  // Bidi stream: 12, exactly 256, and 70004 bytes, each echoed.
  {
    Call call{"BidiStream", "bidi_stream", {}, {}};
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    auto stream = stub_->BidiStream(&context);
    for (size_t size : {12, 256, 70004}) {
      const EchoRequest request = RequestOfSize(size);
      ASSERT_EQ(request.ByteSizeLong(), size);
      ASSERT_TRUE(stream->Write(request));
      call.requests.push_back(size);
      EchoResponse response;
      ASSERT_TRUE(stream->Read(&response));
      call.responses.push_back(response.ByteSizeLong());
    }
    ASSERT_TRUE(stream->WritesDone());
    ASSERT_TRUE(stream->Finish().ok());
    EXPECT_EQ(call.responses, call.requests);
    calls.push_back(call);
  }

  absl::StatusOr<std::unique_ptr<AdminListener>> client_admin = StartAdminListener(*client_);
  ASSERT_TRUE(client_admin.ok()) << client_admin.status();
  const uint64_t unary_calls = 3;
  std::map<std::string, SeriesSnapshot> server_series, client_series;
  for (const Call& call : calls) {
    const uint64_t handled = call.method == "Unary" ? unary_calls : 1;
    server_series[call.method] =
        testing::WaitForSeries(*server_, Side::kServer, kService, call.method, handled);
    client_series[call.method] =
        testing::WaitForSeries(*client_, Side::kClient, kService, call.method, handled);
  }
  const absl::StatusOr<testing::HttpResponse> server_scrape =
      testing::HttpGet(traced_.admin_http_port(), "/metrics");
  const absl::StatusOr<testing::HttpResponse> client_scrape =
      testing::HttpGet((*client_admin)->http_port(), "/metrics");
  ASSERT_TRUE(server_scrape.ok()) << server_scrape.status();
  ASSERT_TRUE(client_scrape.ok()) << client_scrape.status();
  ASSERT_EQ(server_scrape->status, 200);
  ASSERT_EQ(client_scrape->status, 200);

  for (const Call& call : calls) {
    SCOPED_TRACE(call.method);
    const SizeHistogram requests = Expected(call.requests);
    const SizeHistogram responses = Expected(call.responses);
    const SeriesSnapshot& server = server_series[call.method];
    const SeriesSnapshot& client = client_series[call.method];
    ASSERT_FALSE(server.name.empty());
    ASSERT_FALSE(client.name.empty());
    ExpectHistogram(server.request_size, requests, "server requests");
    ExpectHistogram(client.request_size, requests, "client requests");
    ExpectHistogram(server.response_size, responses, "server responses");
    ExpectHistogram(client.response_size, responses, "client responses");
    // One observation per message, and the sums are the byte counters.
    EXPECT_EQ(server.request_size->Count(), server.messages_received);
    EXPECT_EQ(client.request_size->Count(), client.messages_sent);
    EXPECT_EQ(server.response_size->Count(), server.messages_sent);
    EXPECT_EQ(client.response_size->Count(), client.messages_received);
    EXPECT_EQ(server.request_size->sum, server.request_bytes);
    EXPECT_EQ(client.response_size->sum, client.response_bytes);

    const std::string go_labels =
        absl::StrCat("{grpc_type=\"", call.grpc_type, "\",grpc_service=\"", kService,
                     "\",grpc_method=\"", call.method, "\"");
    ExpectExposed(server_scrape->body, "grpc_server_msg_received_bytes", go_labels, requests);
    ExpectExposed(server_scrape->body, "grpc_server_msg_sent_bytes", go_labels, responses);
    const std::string otel_labels =
        absl::StrCat("{rpc_system_name=\"grpc\",rpc_method=\"", kService, "/", call.method, "\"");
    ExpectExposed(client_scrape->body, "rpc_client_request_size_bytes", otel_labels, requests);
    ExpectExposed(client_scrape->body, "rpc_client_response_size_bytes", otel_labels, responses);
  }
  // Spot checks of the boundaries, written out: the empty unary request is
  // in le="0"; 1024 bytes are in le="1024", 1025 are not.
  const std::string unary_client =
      "{rpc_system_name=\"grpc\",rpc_method=\"" + std::string(kService) + "/Unary\"";
  EXPECT_TRUE(absl::StrContains(client_scrape->body, "rpc_client_request_size_bytes_bucket" +
                                                         unary_client + ",le=\"0\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(client_scrape->body, "rpc_client_request_size_bytes_bucket" +
                                                         unary_client + ",le=\"1024\"} 2\n"));
  EXPECT_TRUE(absl::StrContains(client_scrape->body, "rpc_client_request_size_bytes_bucket" +
                                                         unary_client + ",le=\"2048\"} 3\n"));
  EXPECT_TRUE(absl::StrContains(client_scrape->body,
                                "rpc_client_request_size_bytes_sum" + unary_client + "} 2049\n"));
  (*client_admin)->Shutdown();
}

// With `message_size_histograms = false` a real scrape has no size family,
// while the byte counters still move; HTTP series never have one.
TEST(MessageSizeHistogramsOffTest, AScrapeHasNoSizeFamiliesButStillCountsBytes) {
  std::unique_ptr<Telemetry> server =
      testing::MakeTestTelemetry("server", testing::kAllPropagators, [](TelemetryBuilder& b) {
        RegistryOptions options;
        options.message_size_histograms = false;
        b.SetMetricsOptions(options);
      });
  testing::EchoServiceImpl service;
  testing::TracedServer traced = testing::StartTracedServer(*server, {&service});
  auto stub = testing::Echo::NewStub(
      grpc::CreateChannel(traced.address(), grpc::InsecureChannelCredentials()));
  {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    testing::EchoRequest request;
    request.set_message(std::string(100, 'x'));
    testing::EchoResponse response;
    ASSERT_TRUE(stub->Unary(&context, request, &response).ok());
  }
  Pistache::Rest::Router router;
  TracedRouter routes(router, *server);
  ASSERT_TRUE(routes
                  .Get("/items/:id",
                       [](const Pistache::Rest::Request&, TracedResponse response) {
                         response.Send(Pistache::Http::Code::Ok, "item");
                       })
                  .ok());
  testing::PistacheServer http(routes.MakeHandler());
  absl::StatusOr<testing::HttpResponse> item = testing::HttpGet(http.port(), "/items/1");
  ASSERT_TRUE(item.ok()) << item.status();
  ASSERT_EQ(item->status, 200);

  ASSERT_GE(testing::WaitForSeries(*server, Side::kServer, "tracebridge.testing.Echo", "Unary", 1)
                .Handled(),
            1u);
  absl::StatusOr<testing::HttpResponse> scrape =
      testing::HttpGet(traced.admin_http_port(), "/metrics");
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  EXPECT_FALSE(absl::StrContains(scrape->body, "_size_bytes")) << scrape->body;
  EXPECT_TRUE(absl::StrContains(scrape->body, "rpc_server_request_bytes_total{")) << scrape->body;
  EXPECT_TRUE(absl::StrContains(scrape->body, "http_server_request_duration_seconds_bucket{"))
      << scrape->body;
  traced.server->Shutdown(testing::DeadlineIn(absl::Seconds(10)));
}

}  // namespace
}  // namespace tracebridge
