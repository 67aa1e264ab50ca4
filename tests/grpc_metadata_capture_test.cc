// Allow-listed gRPC metadata as span attributes over real calls on
// 127.0.0.1:0: request metadata on both sides' spans, response metadata
// (initial and trailing) on both, case folding, repeated values, -bin values
// in base64, the byte bound and its counter, redaction and its opt-in, and
// nothing at all by default. Also the configuration's errors.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/echo/echo.grpc.pb.h"
#include "tests/testing/http_client.h"
#include "tests/testing/scoped_env.h"
#include "tests/testing/traced_service.h"
#include "tracebridge/core/header_capture.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/interceptors/install.h"

namespace tracebridge {
namespace {

using testing::EchoRequest;
using testing::EchoResponse;

// Answers Unary with response metadata: initial and trailing values of one
// key, a credential-like key, a binary key and a long value.
class MetadataService final : public testing::Echo::Service {
 public:
  grpc::Status Unary(grpc::ServerContext* context, const EchoRequest* request,
                     EchoResponse* response) override {
    context->AddInitialMetadata("x-served-by", "first");
    context->AddTrailingMetadata("x-served-by", "second");
    context->AddTrailingMetadata("x-session-token", "s3cr3t");
    context->AddTrailingMetadata("x-digest-bin", std::string("\x00\xff\x10", 3));
    context->AddTrailingMetadata("x-long", std::string(300, 'v'));
    response->set_message(request->message());
    return grpc::Status::OK;
  }
};

std::string Text(const SpanData& span, absl::string_view key) {
  const AttributeValue* value = span.FindAttribute(key);
  if (value == nullptr) return "<absent>";
  const std::string* text = absl::get_if<std::string>(value);
  return text != nullptr ? *text : "<not a string>";
}

class GrpcMetadataCaptureTest : public ::testing::Test {
 protected:
  void Start(const HeaderCaptureOptions& capture) {
    auto configure = [capture](TelemetryBuilder& builder) { builder.SetHeaderCapture(capture); };
    client_ = testing::MakeTestTelemetry("client", testing::kAllPropagators, configure);
    server_ = testing::MakeTestTelemetry("server", testing::kAllPropagators, configure);
    traced_ = testing::StartTracedServer(*server_, {&service_});
    stub_ = testing::Echo::NewStub(
        CreateTracedChannel(traced_.address(), grpc::InsecureChannelCredentials(), *client_));
  }
  void TearDown() override {
    if (traced_.server) traced_.server->Shutdown(testing::DeadlineIn(absl::Seconds(10)));
  }

  // One Unary call with the given request metadata; the client and server
  // spans of its trace.
  void Call(const std::vector<std::pair<std::string, std::string>>& metadata, SpanData* client,
            SpanData* server) {
    Span root = client_->tracer().StartSpan("root");
    const TraceId trace_id = root.context().trace_id();
    {
      Scope scope(root);
      grpc::ClientContext context;
      context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
      for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
      EchoRequest request;
      request.set_message("hi");
      EchoResponse response;
      ASSERT_TRUE(stub_->Unary(&context, request, &response).ok());
    }
    root.End();
    const std::vector<SpanData> client_spans = testing::WaitForTrace(*client_, trace_id, 2);
    const std::vector<SpanData> server_spans = testing::WaitForTrace(*server_, trace_id, 1);
    const std::string name = "tracebridge.testing.Echo/Unary";
    const SpanData* c = testing::FindSpan(client_spans, name, SpanKind::kClient);
    const SpanData* s = testing::FindSpan(server_spans, name, SpanKind::kServer);
    ASSERT_NE(c, nullptr);
    ASSERT_NE(s, nullptr);
    *client = *c;
    *server = *s;
  }

  MetadataService service_;
  std::unique_ptr<Telemetry> client_;
  std::unique_ptr<Telemetry> server_;
  testing::TracedServer traced_;
  std::unique_ptr<testing::Echo::Stub> stub_;
};

TEST_F(GrpcMetadataCaptureTest, RecordsAllowListedMetadataOnBothSides) {
  HeaderCaptureOptions capture;
  capture.grpc_request_metadata = {"X-Tenant", "x-multi", "authorization", "x-absent", "x-key-bin"};
  capture.grpc_response_metadata = {"x-served-by", "X-Session-Token", "x-digest-bin", "x-long"};
  Start(capture);
  SpanData client, server;
  ASSERT_NO_FATAL_FAILURE(Call({{"x-tenant", "acme"},
                                {"x-key-bin", std::string("\x01", 1)},
                                {"x-key-bin", std::string("\x01\x02", 2)},
                                {"x-multi", "1.2.3.4"},
                                {"x-multi", "1.2.3.5"},
                                {"authorization", "Bearer abc"},
                                {"x-other", "not listed"}},
                               &client, &server));
  for (const SpanData* span : {&client, &server}) {
    SCOPED_TRACE(span == &client ? "client" : "server");
    // Lowercase in the name whatever case the list used.
    EXPECT_EQ(Text(*span, "rpc.grpc.request.metadata.x-tenant"), "acme");
    EXPECT_EQ(Text(*span, "rpc.grpc.request.metadata.x-multi"), "1.2.3.4,1.2.3.5");
    EXPECT_EQ(Text(*span, "rpc.grpc.request.metadata.authorization"), "REDACTED");
    EXPECT_EQ(Text(*span, "rpc.grpc.request.metadata.x-absent"), "<absent>");
    EXPECT_EQ(Text(*span, "rpc.grpc.request.metadata.x-other"), "<absent>");
    // Initial then trailing.
    EXPECT_EQ(Text(*span, "rpc.grpc.response.metadata.x-served-by"), "first,second");
    EXPECT_EQ(Text(*span, "rpc.grpc.response.metadata.x-session-token"), "REDACTED");
    EXPECT_EQ(Text(*span, "rpc.grpc.response.metadata.x-digest-bin"), "AP8Q");
    // Unpadded, as on the wire, whatever the length.
    EXPECT_EQ(Text(*span, "rpc.grpc.request.metadata.x-key-bin"), "AQ,AQI");
    EXPECT_EQ(Text(*span, "rpc.grpc.response.metadata.x-long"), std::string(256, 'v'));
  }
  // tracebridge's own propagation entries are not the caller's metadata.
  EXPECT_EQ(Text(client, "rpc.grpc.request.metadata.traceparent"), "<absent>");
  // One cut per side.
  EXPECT_EQ(client_->Stats().captured_values_truncated, 1u);
  EXPECT_EQ(server_->Stats().captured_values_truncated, 1u);
  // And the self-metric says so on the server's admin listener.
  absl::StatusOr<testing::HttpResponse> scrape =
      testing::HttpGet(traced_.admin_http_port(), "/metrics");
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  EXPECT_TRUE(absl::StrContains(scrape->body, "\ntracebridge_captured_values_truncated_total 1\n"))
      << scrape->body;
}

TEST_F(GrpcMetadataCaptureTest, BoundAndRedactionAreConfigurable) {
  HeaderCaptureOptions capture;
  capture.grpc_request_metadata = {"x-tenant", "authorization", "x-note"};
  capture.grpc_response_metadata = {"x-session-token", "x-long"};
  capture.max_value_bytes = 4;
  capture.redacted_keys = {"X-Note"};
  capture.unredacted_keys = {"x-session-token"};
  Start(capture);
  SpanData client, server;
  ASSERT_NO_FATAL_FAILURE(
      Call({{"x-tenant", "acme-corp"}, {"authorization", "Bearer abc"}, {"x-note", "private"}},
           &client, &server));
  for (const SpanData* span : {&client, &server}) {
    EXPECT_EQ(Text(*span, "rpc.grpc.request.metadata.x-tenant"), "acme");
    EXPECT_EQ(Text(*span, "rpc.grpc.request.metadata.authorization"), "REDACTED");
    EXPECT_EQ(Text(*span, "rpc.grpc.request.metadata.x-note"), "REDACTED");
    // Opted in: in clear (and cut like any value).
    EXPECT_EQ(Text(*span, "rpc.grpc.response.metadata.x-session-token"), "s3cr");
    EXPECT_EQ(Text(*span, "rpc.grpc.response.metadata.x-long"), "vvvv");
  }
  EXPECT_EQ(client_->Stats().captured_values_truncated, 3u);
}

TEST_F(GrpcMetadataCaptureTest, NothingByDefault) {
  Start(HeaderCaptureOptions());
  SpanData client, server;
  ASSERT_NO_FATAL_FAILURE(Call({{"x-tenant", "acme"}, {"authorization", "x"}}, &client, &server));
  for (const SpanData* span : {&client, &server}) {
    for (const Attribute& attribute : span->attributes) {
      EXPECT_FALSE(absl::StartsWith(attribute.key, "rpc.grpc.request.metadata.")) << attribute.key;
      EXPECT_FALSE(absl::StartsWith(attribute.key, "rpc.grpc.response.metadata.")) << attribute.key;
    }
  }
}

// The lists, redaction and its opt-in as set from the environment, over a
// real call.
TEST_F(GrpcMetadataCaptureTest, EnvironmentListsReachARealCall) {
  testing::ScopedEnv request("TRACEBRIDGE_GRPC_CAPTURE_REQUEST_METADATA",
                             "x-tenant, x-internal, authorization");
  testing::ScopedEnv response("TRACEBRIDGE_GRPC_CAPTURE_RESPONSE_METADATA",
                              "x-served-by,x-session-token");
  testing::ScopedEnv redact("TRACEBRIDGE_CAPTURE_REDACT", "x-internal");
  testing::ScopedEnv unredact("TRACEBRIDGE_CAPTURE_UNREDACT", "authorization");
  absl::StatusOr<HeaderCaptureOptions> options = HeaderCaptureOptions::FromEnvironment();
  ASSERT_TRUE(options.ok()) << options.status();
  Start(*options);
  SpanData client, server;
  ASSERT_NO_FATAL_FAILURE(
      Call({{"x-tenant", "acme"}, {"x-internal", "hidden"}, {"authorization", "Bearer abc"}},
           &client, &server));
  EXPECT_EQ(Text(server, "rpc.grpc.request.metadata.x-tenant"), "acme");
  EXPECT_EQ(Text(server, "rpc.grpc.request.metadata.x-internal"), "REDACTED");
  EXPECT_EQ(Text(server, "rpc.grpc.request.metadata.authorization"), "Bearer abc");
  EXPECT_EQ(Text(client, "rpc.grpc.response.metadata.x-served-by"), "first,second");
  EXPECT_EQ(Text(client, "rpc.grpc.response.metadata.x-session-token"), "REDACTED");
}

TEST(HeaderCaptureConfigTest, EnvironmentSetsTheListsAndBuildReportsBadValues) {
  {
    testing::ScopedEnv request("TRACEBRIDGE_GRPC_CAPTURE_REQUEST_METADATA", "x-a, X-B");
    testing::ScopedEnv headers("TRACEBRIDGE_HTTP_CAPTURE_RESPONSE_HEADERS", "Content-Type");
    testing::ScopedEnv bound("TRACEBRIDGE_CAPTURE_MAX_VALUE_BYTES", "64");
    absl::StatusOr<HeaderCaptureOptions> options = HeaderCaptureOptions::FromEnvironment();
    ASSERT_TRUE(options.ok()) << options.status();
    EXPECT_EQ(options->grpc_request_metadata, (std::vector<std::string>{"x-a", "X-B"}));
    EXPECT_EQ(options->http_response_headers, (std::vector<std::string>{"Content-Type"}));
    EXPECT_EQ(options->max_value_bytes, 64u);
  }
  struct Bad {
    const char* name;
    const char* value;
    const char* says;
  };
  for (const Bad& bad : {
           Bad{"TRACEBRIDGE_CAPTURE_MAX_VALUE_BYTES", "0", "positive"},
           Bad{"TRACEBRIDGE_CAPTURE_MAX_VALUE_BYTES", "100000", "at most"},
           Bad{"TRACEBRIDGE_GRPC_CAPTURE_REQUEST_METADATA", "x-a,bad key", "gRPC metadata key"},
           Bad{"TRACEBRIDGE_HTTP_CAPTURE_REQUEST_HEADERS", "X-Ok,Bad:Name", "HTTP header name"},
       }) {
    testing::ScopedEnv env(bad.name, bad.value);
    absl::StatusOr<std::unique_ptr<Telemetry>> built =
        TelemetryBuilder::FromEnvironment().SetServiceName("x").Build();
    ASSERT_FALSE(built.ok()) << bad.name << "=" << bad.value;
    EXPECT_EQ(built.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(built.status().message(), bad.name)) << built.status();
    EXPECT_TRUE(absl::StrContains(built.status().message(), bad.says)) << built.status();
  }
  HeaderCaptureOptions options;
  options.max_value_bytes = 0;
  EXPECT_FALSE(TelemetryBuilder().SetHeaderCapture(options).Build().ok());
  options = HeaderCaptureOptions();
  options.http_request_headers = {""};
  absl::StatusOr<std::unique_ptr<Telemetry>> built =
      TelemetryBuilder().SetHeaderCapture(options).Build();
  ASSERT_FALSE(built.ok());
  EXPECT_TRUE(absl::StrContains(built.status().message(), "http_request_headers"));
}

TEST(HeaderCaptureConfigTest, CredentialLikeKeys) {
  for (const char* key : {"Authorization", "proxy-authorization", "cookie", "Set-Cookie",
                          "x-api-key", "x-auth-token", "client_secret", "db-password", "apikey"}) {
    EXPECT_TRUE(IsCredentialLikeKey(key)) << key;
  }
  for (const char* key : {"x-tenant", "user-agent", "content-type", "x-request-id"}) {
    EXPECT_FALSE(IsCredentialLikeKey(key)) << key;
  }
}

}  // namespace
}  // namespace tracebridge
