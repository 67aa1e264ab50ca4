// Invalid UTF-8 from a hostile HTTP client must not break what tracebridge
// sends out: a real Pistache endpoint receives requests whose path,
// User-Agent and route parameters carry bytes like 0xff; the spans then go
// out in one batch to a real OTLP/gRPC receiver and are read back through
// the query service over a real gRPC connection. Both must decode (protobuf
// rejects an invalid `string` field when parsing), with the bad bytes as
// U+FFFD and the other spans of the batch intact.

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <pistache/router.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/http_client.h"
#include "tests/testing/otlp_receiver.h"
#include "tests/testing/pistache_server.h"
#include "tests/testing/traced_service.h"
#include "tracebridge/core/util/utf8.h"
#include "tracebridge/exporters/otlp/otlp_exporter.h"
#include "tracebridge/http/traced_router.h"
#include "tracebridge/v1/query.grpc.pb.h"

namespace tracebridge {
namespace {

using ::tracebridge::testing::HttpRequest;
using ::tracebridge::testing::HttpResponse;
using ::tracebridge::testing::OtlpReceiver;
using ::tracebridge::testing::PistacheServer;
using ::tracebridge::testing::SendHttp;
namespace otlp_trace = ::opentelemetry::proto::trace::v1;
namespace otlp_common = ::opentelemetry::proto::common::v1;

constexpr char kBadBytes[] = "caf\xff\xfe";
// Each of 0xff and 0xfe is a maximal ill-formed subpart of its own.
constexpr char kRepaired[] = "caf\xEF\xBF\xBD\xEF\xBF\xBD";
constexpr char kBadAgent[] = "agent/\xff\xc3(";
constexpr char kRepairedAgent[] = "agent/\xEF\xBF\xBD\xEF\xBF\xBD(";

class Utf8BoundaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<OtlpReceiver>> receiver = OtlpReceiver::Start();
    ASSERT_TRUE(receiver.ok()) << receiver.status();
    receiver_ = *std::move(receiver);
    OtlpExporterOptions otlp;
    otlp.endpoint = receiver_->address();
    absl::StatusOr<std::unique_ptr<OtlpGrpcExporter>> exporter =
        OtlpGrpcExporter::Create(std::move(otlp));
    ASSERT_TRUE(exporter.ok()) << exporter.status();
    auto owned = std::shared_ptr<std::unique_ptr<OtlpGrpcExporter>>(
        new std::unique_ptr<OtlpGrpcExporter>(*std::move(exporter)));
    telemetry_ = testing::MakeTestTelemetry(
        "gateway", testing::kAllPropagators, [owned](TelemetryBuilder& builder) {
          // One batch for everything: an invalid string used to fail the
          // whole Export call, losing the valid spans with it.
          BatchSpanProcessorOptions batch;
          batch.schedule_delay = absl::Hours(1);
          builder.UseSimpleProcessor(false).SetBatchOptions(batch);
          builder.AddExporter(std::move(*owned));
          builder.AddResourceAttribute("deployment.environment", std::string("prod\xff"));
        });

    traced_ = std::make_unique<TracedRouter>(router_, *telemetry_);
    ASSERT_TRUE(traced_
                    ->Get("/echo/:word",
                          [](const Pistache::Rest::Request& request, TracedResponse response) {
                            const std::string word = request.param(":word").as<std::string>();
                            response.span().AddEvent(word, {Attribute{word, word}});
                            response.Send(Pistache::Http::Code::Ok, word);
                          })
                    .ok());
    ASSERT_TRUE(traced_
                    ->Get("/fail/:word",
                          [](const Pistache::Rest::Request& request, TracedResponse) {
                            throw std::runtime_error(request.param(":word").as<std::string>());
                          })
                    .ok());
    // A route template is the user's text, but still a label that leaves.
    ASSERT_TRUE(traced_
                    ->Get(absl::StrCat("/menu/", kBadBytes),
                          [](const Pistache::Rest::Request&, TracedResponse response) {
                            response.Send(Pistache::Http::Code::Ok, "menu");
                          })
                    .ok());
    http_ = std::make_unique<PistacheServer>(traced_->MakeHandler());
    grpc_ = testing::StartTracedServer(*telemetry_, {});
    query_ = v1::Query::NewStub(
        grpc::CreateChannel(grpc_.admin_grpc_address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    http_.reset();
    if (grpc_.server != nullptr) grpc_.server->Shutdown(testing::DeadlineIn(absl::Seconds(10)));
  }

  HttpResponse Get(const std::string& target, const std::string& user_agent) {
    HttpRequest request;
    request.target = target;
    request.headers = {{"User-Agent", user_agent}};
    absl::StatusOr<HttpResponse> response = SendHttp(http_->port(), request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : HttpResponse();
  }

  // Sends one good request, the hostile ones, and another good one, then
  // flushes the single batch.
  void SendTraffic() {
    EXPECT_EQ(Get("/echo/before", "curl/8.0").status, 200);
    EXPECT_EQ(Get(absl::StrCat("/echo/", kBadBytes), kBadAgent).status, 200);
    EXPECT_EQ(Get(absl::StrCat("/fail/", kBadBytes), kBadAgent).status, 500);
    EXPECT_EQ(Get(absl::StrCat("/menu/", kBadBytes), "curl/8.0").status, 200);
    EXPECT_EQ(Get("/echo/after", "curl/8.0").status, 200);
    ASSERT_TRUE(telemetry_->ForceFlush(absl::Seconds(30)).ok());
  }

  std::unique_ptr<OtlpReceiver> receiver_;
  std::unique_ptr<Telemetry> telemetry_;
  Pistache::Rest::Router router_;
  std::unique_ptr<TracedRouter> traced_;
  std::unique_ptr<PistacheServer> http_;
  testing::TracedServer grpc_;
  std::unique_ptr<v1::Query::Stub> query_;
};

const v1::Attribute* FindAttribute(const google::protobuf::RepeatedPtrField<v1::Attribute>& list,
                                   absl::string_view key) {
  for (const v1::Attribute& attribute : list) {
    if (attribute.key() == key) return &attribute;
  }
  return nullptr;
}

const otlp_common::AnyValue* FindOtlpValue(
    const google::protobuf::RepeatedPtrField<otlp_common::KeyValue>& list, absl::string_view key) {
  for (const otlp_common::KeyValue& kv : list) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

TEST_F(Utf8BoundaryTest, ListSpansOverGrpcDecodesWithReplacementCharacters) {
  ASSERT_NO_FATAL_FAILURE(SendTraffic());
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
  v1::ListSpansRequest request;
  request.set_page_size(100);
  v1::ListSpansResponse response;
  const grpc::Status status = query_->ListSpans(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  ASSERT_EQ(response.spans_size(), 5);

  int hostile = 0;
  for (const v1::Span& span : response.spans()) {
    EXPECT_EQ(span.service_name(), "gateway");
    const v1::Attribute* path = FindAttribute(span.attributes(), "url.path");
    ASSERT_NE(path, nullptr) << span.name();
    if (!absl::StrContains(path->string_value(), "caf")) continue;
    ++hostile;
    EXPECT_TRUE(absl::EndsWith(path->string_value(), kRepaired)) << path->string_value();
    if (absl::StartsWith(span.name(), "GET /echo/")) {
      EXPECT_EQ(FindAttribute(span.attributes(), "user_agent.original")->string_value(),
                kRepairedAgent);
      ASSERT_EQ(span.events_size(), 1);
      EXPECT_EQ(span.events(0).name(), kRepaired);
      ASSERT_EQ(span.events(0).attributes_size(), 1);
      EXPECT_EQ(span.events(0).attributes(0).key(), kRepaired);
      EXPECT_EQ(span.events(0).attributes(0).string_value(), kRepaired);
    } else if (absl::StartsWith(span.name(), "GET /fail/")) {
      EXPECT_EQ(span.status(), "error");
      EXPECT_EQ(span.status_description(), kRepaired);
    } else {
      EXPECT_EQ(span.name(), absl::StrCat("GET /menu/", kRepaired));
    }
  }
  EXPECT_EQ(hostile, 3);

  grpc::ClientContext info_context;
  v1::ServiceInfo info;
  ASSERT_TRUE(query_->GetServiceInfo(&info_context, v1::GetServiceInfoRequest(), &info).ok());
  const v1::Attribute* environment =
      FindAttribute(info.resource_attributes(), "deployment.environment");
  ASSERT_NE(environment, nullptr);
  EXPECT_EQ(environment->string_value(), "prod\xEF\xBF\xBD");
}

TEST_F(Utf8BoundaryTest, GetMetricsOverGrpcDecodesRouteLabels) {
  ASSERT_NO_FATAL_FAILURE(SendTraffic());
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
  v1::GetMetricsRequest request;
  request.set_protocol(v1::PROTOCOL_HTTP);
  v1::GetMetricsResponse response;
  const grpc::Status status = query_->GetMetrics(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  bool found = false;
  for (const v1::SeriesMetrics& series : response.series()) {
    EXPECT_TRUE(IsValidUtf8(series.route())) << series.route();
    if (series.route() == absl::StrCat("/menu/", kRepaired)) {
      found = true;
      EXPECT_EQ(series.count(), 1u);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(Utf8BoundaryTest, OtlpReceiverAcceptsTheBatchWithEverySpan) {
  ASSERT_NO_FATAL_FAILURE(SendTraffic());
  ASSERT_TRUE(receiver_->WaitForSpans(5, absl::Seconds(30)));
  const std::vector<testing::ReceivedExport> received = receiver_->Received();
  for (const testing::ReceivedExport& call : received) {
    EXPECT_EQ(call.answered, grpc::StatusCode::OK);
  }
  std::vector<std::string> paths;
  for (const otlp_trace::Span& span : receiver_->Spans()) {
    const otlp_common::AnyValue* path = FindOtlpValue(span.attributes(), "url.path");
    ASSERT_NE(path, nullptr);
    paths.push_back(path->string_value());
    if (absl::StartsWith(span.name(), "GET /echo/") &&
        absl::StrContains(path->string_value(), "caf")) {
      EXPECT_EQ(FindOtlpValue(span.attributes(), "user_agent.original")->string_value(),
                kRepairedAgent);
      ASSERT_EQ(span.events_size(), 1);
      EXPECT_EQ(span.events(0).name(), kRepaired);
    }
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"/echo/before", absl::StrCat("/echo/", kRepaired),
                                             absl::StrCat("/fail/", kRepaired),
                                             absl::StrCat("/menu/", kRepaired), "/echo/after"}));
  const otlp_common::AnyValue* environment = FindOtlpValue(
      received[0].request.resource_spans(0).resource().attributes(), "deployment.environment");
  ASSERT_NE(environment, nullptr);
  EXPECT_EQ(environment->string_value(), "prod\xEF\xBF\xBD");
}

}  // namespace
}  // namespace tracebridge
