// Tests for OtlpGrpcExporter against a real OTLP/gRPC receiver on 127.0.0.1:
// the field-by-field mapping, the retry rules (which codes, how many
// attempts, RetryInfo delays), deadlines, headers, compression, shutdown, and
// option/environment parsing. Waits are deadline-bounded conditions; timing
// assertions are lower bounds (or generous sanity bounds far above the
// expected time), never tight upper thresholds.

#include "tracebridge/exporters/otlp/otlp_exporter.h"

#include "tracebridge/exporters/otlp/otlp_encoder.h"

#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/collecting_processor.h"
#include "tests/testing/otlp_receiver.h"
#include "tests/testing/sample_spans.h"
#include "tracebridge/core/trace/clock.h"
#include "tracebridge/core/trace/tracer.h"

namespace tracebridge {
namespace {

namespace otlp_common = ::opentelemetry::proto::common::v1;
namespace otlp_trace = ::opentelemetry::proto::trace::v1;
using ::tracebridge::testing::OtlpReceiver;
using ::tracebridge::testing::OtlpReply;

using testing::kFullSpanLinkSpanIdHex;
using testing::kFullSpanLinkTraceIdHex;
using testing::kFullSpanLinkTraceState;
using testing::kFullSpanParentIdHex;
using testing::kFullSpanSpanIdHex;
using testing::kFullSpanTraceIdHex;
using testing::kFullSpanTraceState;
constexpr const char* kTraceIdHex = kFullSpanTraceIdHex;
constexpr const char* kSpanIdHex = kFullSpanSpanIdHex;
constexpr const char* kParentIdHex = kFullSpanParentIdHex;
constexpr const char* kLinkTraceIdHex = kFullSpanLinkTraceIdHex;
constexpr const char* kLinkSpanIdHex = kFullSpanLinkSpanIdHex;
constexpr const char* kTraceState = kFullSpanTraceState;
constexpr const char* kLinkTraceState = kFullSpanLinkTraceState;

std::string Bytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::unique_ptr<SpanData> FullSpan() { return testing::MakeFullSpan(); }

// A root span of `kind` with an OK status.
std::unique_ptr<SpanData> RootSpan(absl::string_view name, SpanKind kind) {
  auto span = std::make_unique<SpanData>();
  span->name = std::string(name);
  span->kind = kind;
  span->context = SpanContext(TraceId::Generate(), SpanId::Generate(), TraceFlags::Sampled(),
                              /*is_remote=*/false);
  span->start_unix_nanos = 1700000001000000000;
  span->end_unix_nanos = 1700000001000001000;
  span->status = StatusCode::kOk;
  span->status_description = "not sent: only errors carry a message";
  return span;
}

Resource TestResource() {
  Resource resource;
  resource.service_name = "checkout";
  resource.attributes.push_back({"service.version", std::string("1.2.3")});
  resource.attributes.push_back({"host.cpu_count", int64_t{2}});
  return resource;
}

const otlp_common::AnyValue* FindValue(
    const google::protobuf::RepeatedPtrField<otlp_common::KeyValue>& attributes,
    absl::string_view key) {
  for (const otlp_common::KeyValue& kv : attributes) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

OtlpExporterOptions FastRetries(const OtlpReceiver& receiver) {
  OtlpExporterOptions options;
  options.endpoint = receiver.address();
  options.retry.initial_backoff = absl::Milliseconds(5);
  options.retry.max_backoff = absl::Milliseconds(20);
  return options;
}

std::unique_ptr<OtlpGrpcExporter> MakeExporter(OtlpExporterOptions options) {
  absl::StatusOr<std::unique_ptr<OtlpGrpcExporter>> exporter =
      OtlpGrpcExporter::Create(std::move(options));
  EXPECT_TRUE(exporter.ok()) << exporter.status();
  return exporter.ok() ? *std::move(exporter) : nullptr;
}

std::vector<std::unique_ptr<SpanData>> OneSpan() {
  std::vector<std::unique_ptr<SpanData>> spans;
  spans.push_back(RootSpan("one", SpanKind::kInternal));
  return spans;
}

absl::Time Deadline() { return absl::Now() + absl::Seconds(20); }

class OtlpExporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<OtlpReceiver>> receiver = OtlpReceiver::Start();
    ASSERT_TRUE(receiver.ok()) << receiver.status();
    receiver_ = *std::move(receiver);
  }
  std::unique_ptr<OtlpReceiver> receiver_;
};

TEST_F(OtlpExporterTest, EveryFieldArrivesAsSet) {
  auto exporter = MakeExporter(FastRetries(*receiver_));
  ASSERT_NE(exporter, nullptr);
  std::vector<std::unique_ptr<SpanData>> spans;
  spans.push_back(FullSpan());
  spans.push_back(RootSpan("internal", SpanKind::kInternal));
  spans.push_back(RootSpan("client", SpanKind::kClient));
  spans.push_back(RootSpan("producer", SpanKind::kProducer));
  spans.push_back(RootSpan("consumer", SpanKind::kConsumer));
  ASSERT_TRUE(exporter->Export(TestResource(), spans, Deadline()).ok());
  ASSERT_TRUE(receiver_->WaitForSpans(5, absl::Seconds(10)));

  const std::vector<testing::ReceivedExport> received = receiver_->Received();
  ASSERT_EQ(received.size(), 1u);
  const auto& request = received[0].request;
  ASSERT_EQ(request.resource_spans_size(), 1);
  const otlp_trace::ResourceSpans& resource_spans = request.resource_spans(0);

  // Resource: service.name first, then the other attributes, no duplicates.
  const auto& resource = resource_spans.resource().attributes();
  ASSERT_EQ(resource.size(), 3);
  EXPECT_EQ(resource[0].key(), "service.name");
  EXPECT_EQ(resource[0].value().string_value(), "checkout");
  ASSERT_NE(FindValue(resource, "service.version"), nullptr);
  EXPECT_EQ(FindValue(resource, "service.version")->string_value(), "1.2.3");
  ASSERT_NE(FindValue(resource, "host.cpu_count"), nullptr);
  EXPECT_EQ(FindValue(resource, "host.cpu_count")->int_value(), 2);

  ASSERT_EQ(resource_spans.scope_spans_size(), 1);
  const otlp_trace::ScopeSpans& scope_spans = resource_spans.scope_spans(0);
  EXPECT_EQ(scope_spans.scope().name(), "tracebridge");
  EXPECT_EQ(scope_spans.scope().version(), std::string(kOtlpScopeVersion));
  ASSERT_EQ(scope_spans.spans_size(), 5);

  const otlp_trace::Span& span = scope_spans.spans(0);
  EXPECT_EQ(span.trace_id(), Bytes(kTraceIdHex));
  EXPECT_EQ(span.span_id(), Bytes(kSpanIdHex));
  EXPECT_EQ(span.parent_span_id(), Bytes(kParentIdHex));
  EXPECT_EQ(span.trace_state(), kTraceState);
  // W3C flags 0x03, HAS_IS_REMOTE (0x100) and IS_REMOTE (0x200) for the parent.
  EXPECT_EQ(span.flags(), 0x303u);
  EXPECT_EQ(span.name(), "POST /orders");
  EXPECT_EQ(span.kind(), otlp_trace::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(span.start_time_unix_nano(), 1700000000123456789u);
  EXPECT_EQ(span.end_time_unix_nano(), 1700000000987654321u);

  ASSERT_EQ(span.attributes_size(), 4);
  EXPECT_EQ(span.attributes(0).key(), "http.method");
  EXPECT_EQ(span.attributes(0).value().value_case(), otlp_common::AnyValue::kStringValue);
  EXPECT_EQ(span.attributes(0).value().string_value(), "POST");
  EXPECT_EQ(span.attributes(1).value().value_case(), otlp_common::AnyValue::kIntValue);
  EXPECT_EQ(span.attributes(1).value().int_value(), 503);
  EXPECT_EQ(span.attributes(2).value().value_case(), otlp_common::AnyValue::kDoubleValue);
  EXPECT_EQ(span.attributes(2).value().double_value(), 0.25);
  EXPECT_EQ(span.attributes(3).value().value_case(), otlp_common::AnyValue::kBoolValue);
  EXPECT_TRUE(span.attributes(3).value().bool_value());
  EXPECT_EQ(span.dropped_attributes_count(), 3u);

  ASSERT_EQ(span.events_size(), 2);
  EXPECT_EQ(span.events(0).name(), "exception");
  EXPECT_EQ(span.events(0).time_unix_nano(), 1700000000500000000u);
  ASSERT_EQ(span.events(0).attributes_size(), 2);
  EXPECT_EQ(span.events(0).attributes(0).key(), "exception.type");
  EXPECT_EQ(span.events(0).attributes(0).value().string_value(), "Timeout");
  EXPECT_EQ(span.events(0).attributes(1).value().int_value(), 2);
  EXPECT_EQ(span.events(0).dropped_attributes_count(), 1u);
  EXPECT_EQ(span.events(1).name(), "retrying");
  EXPECT_EQ(span.events(1).attributes_size(), 0);
  EXPECT_EQ(span.dropped_events_count(), 4u);

  ASSERT_EQ(span.links_size(), 1);
  const otlp_trace::Span::Link& link = span.links(0);
  EXPECT_EQ(link.trace_id(), Bytes(kLinkTraceIdHex));
  EXPECT_EQ(link.span_id(), Bytes(kLinkSpanIdHex));
  EXPECT_EQ(link.trace_state(), kLinkTraceState);
  ASSERT_EQ(link.attributes_size(), 2);
  EXPECT_EQ(link.attributes(0).key(), "link.reason");
  EXPECT_EQ(link.attributes(0).value().string_value(), "caller");
  EXPECT_EQ(link.attributes(1).value().double_value(), 1.5);
  EXPECT_EQ(link.dropped_attributes_count(), 2u);
  EXPECT_EQ(link.flags(), 0x301u);  // sampled, remote link
  EXPECT_EQ(span.dropped_links_count(), 5u);

  EXPECT_EQ(span.status().code(), otlp_trace::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(span.status().message(), "backend unavailable");

  // Root spans: no parent, "not remote" known, kinds numbered from 1, and an
  // OK status without its description.
  const otlp_trace::Span::SpanKind kinds[] = {
      otlp_trace::Span::SPAN_KIND_INTERNAL, otlp_trace::Span::SPAN_KIND_CLIENT,
      otlp_trace::Span::SPAN_KIND_PRODUCER, otlp_trace::Span::SPAN_KIND_CONSUMER};
  for (int i = 1; i < 5; ++i) {
    const otlp_trace::Span& root = scope_spans.spans(i);
    SCOPED_TRACE(root.name());
    EXPECT_EQ(root.kind(), kinds[i - 1]);
    EXPECT_TRUE(root.parent_span_id().empty());
    EXPECT_EQ(root.trace_id(),
              std::string(
                  reinterpret_cast<const char*>(spans[i]->context.trace_id().bytes().data()), 16));
    EXPECT_EQ(root.span_id().size(), 8u);
    EXPECT_EQ(root.flags(), 0x103u);
    EXPECT_TRUE(root.trace_state().empty());
    EXPECT_EQ(root.status().code(), otlp_trace::Status::STATUS_CODE_OK);
    EXPECT_TRUE(root.status().message().empty());
  }

  const OtlpExporterStats stats = exporter->Stats();
  EXPECT_EQ(stats.batches_exported, 1u);
  EXPECT_EQ(stats.spans_exported, 5u);
  EXPECT_EQ(stats.batches_failed, 0u);
  EXPECT_EQ(stats.retries, 0u);
}

// The exporter sends OtlpTraceEncoder's bytes; they must equal protobuf's
// own serialisation of the message-building reference mapping.
void ExpectEncoderMatchesProtobuf(const Resource& resource,
                                  const std::vector<std::unique_ptr<SpanData>>& spans) {
  ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest request;
  FillOtlpExportRequest(resource, spans, &request);
  const std::string expected = request.SerializeAsString();
  const std::string encoded = EncodeOtlpExportRequest(resource, spans);
  EXPECT_EQ(encoded.size(), expected.size());
  EXPECT_TRUE(encoded == expected)
      << "first difference at byte "
      << std::distance(
             encoded.begin(),
             std::mismatch(encoded.begin(), encoded.end(), expected.begin(), expected.end()).first);
  ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest decoded;
  ASSERT_TRUE(decoded.ParseFromString(encoded));
}

TEST(OtlpEncoderTest, MatchesProtobufSerialization) {
  std::vector<std::unique_ptr<SpanData>> spans;
  spans.push_back(FullSpan());
  for (SpanKind kind : {SpanKind::kInternal, SpanKind::kServer, SpanKind::kClient,
                        SpanKind::kProducer, SpanKind::kConsumer}) {
    spans.push_back(RootSpan("root", kind));
  }
  // Defaults and edge values: empty strings, zero and negative numbers,
  // false, an unset status, an error without description, a span without
  // times or name, a long attribute value (multi-byte length varint).
  auto edge = std::make_unique<SpanData>();
  edge->context = SpanContext(TraceId::Generate(), SpanId::Generate(), TraceFlags(), true);
  edge->attributes.push_back({"", std::string()});
  edge->attributes.push_back({"zero", int64_t{0}});
  edge->attributes.push_back({"negative", int64_t{-42}});
  edge->attributes.push_back({"min", std::numeric_limits<int64_t>::min()});
  edge->attributes.push_back({"false", false});
  edge->attributes.push_back({"zero.double", 0.0});
  edge->attributes.push_back({"long", std::string(300, 'x')});
  edge->events.push_back(SpanEvent{});
  edge->links.push_back(SpanLink{});
  spans.push_back(std::move(edge));
  auto error = RootSpan("error", SpanKind::kInternal);
  error->status = StatusCode::kError;
  error->status_description.clear();
  error->start_unix_nanos = -5;  // before 1970: written as 0 (omitted)
  spans.push_back(std::move(error));
  spans.push_back(nullptr);  // skipped
  ExpectEncoderMatchesProtobuf(TestResource(), spans);

  // Resource variants: service.name from the attribute when the field is
  // empty, the field winning over a duplicate attribute, neither.
  Resource from_attribute;
  from_attribute.attributes.push_back({"service.name", std::string("from-attribute")});
  ExpectEncoderMatchesProtobuf(from_attribute, spans);
  Resource both = from_attribute;
  both.service_name = "from-field";
  ExpectEncoderMatchesProtobuf(both, spans);
  ExpectEncoderMatchesProtobuf(Resource(), spans);
  ExpectEncoderMatchesProtobuf(TestResource(), {});
}

TEST_F(OtlpExporterTest, SpansFromTheTracerKeepTheirParentage) {
  testing::CollectingProcessor processor;
  Tracer tracer({.service_name = "orders", .processor = &processor});
  {
    Span parent = tracer.StartSpan("parent", {.kind = SpanKind::kServer});
    Scope scope(parent);
    Span child = tracer.StartSpan("child", {.kind = SpanKind::kClient});
    child.SetAttribute("peer.service", "stock");
  }
  ASSERT_TRUE(processor.WaitForCount(2));
  std::vector<std::unique_ptr<SpanData>> spans;
  for (SpanData& span : processor.Spans()) spans.push_back(std::make_unique<SpanData>(span));

  auto exporter = MakeExporter(FastRetries(*receiver_));
  ASSERT_NE(exporter, nullptr);
  Resource resource;
  resource.service_name = tracer.service_name();
  ASSERT_TRUE(exporter->Export(resource, spans, Deadline()).ok());
  ASSERT_TRUE(receiver_->WaitForSpans(2, absl::Seconds(10)));
  std::map<std::string, otlp_trace::Span> by_name;
  for (const otlp_trace::Span& span : receiver_->Spans()) by_name[span.name()] = span;
  ASSERT_EQ(by_name.count("parent"), 1u);
  ASSERT_EQ(by_name.count("child"), 1u);
  EXPECT_EQ(by_name["child"].trace_id(), by_name["parent"].trace_id());
  EXPECT_EQ(by_name["child"].parent_span_id(), by_name["parent"].span_id());
  EXPECT_TRUE(by_name["parent"].parent_span_id().empty());
  EXPECT_EQ(by_name["child"].kind(), otlp_trace::Span::SPAN_KIND_CLIENT);
  ASSERT_NE(FindValue(by_name["child"].attributes(), "peer.service"), nullptr);
  EXPECT_GE(by_name["child"].end_time_unix_nano(), by_name["child"].start_time_unix_nano());
  EXPECT_EQ(receiver_->Received()[0]
                .request.resource_spans(0)
                .resource()
                .attributes(0)
                .value()
                .string_value(),
            "orders");
}

TEST_F(OtlpExporterTest, UnavailableTwiceThenOkIsDeliveredOnceInThreeAttempts) {
  receiver_->Script({{.code = grpc::StatusCode::UNAVAILABLE, .message = "warming up"},
                     {.code = grpc::StatusCode::UNAVAILABLE, .message = "warming up"}});
  auto exporter = MakeExporter(FastRetries(*receiver_));
  ASSERT_NE(exporter, nullptr);
  absl::Status status = exporter->Export(TestResource(), OneSpan(), Deadline());
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(receiver_->calls(), 3u);
  EXPECT_EQ(receiver_->span_count(), 1u);  // accepted once
  const OtlpExporterStats stats = exporter->Stats();
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.batches_exported, 1u);
  EXPECT_EQ(stats.batches_failed, 0u);
}

TEST_F(OtlpExporterTest, EveryRetryableCodeIsRetried) {
  for (grpc::StatusCode code :
       {grpc::StatusCode::CANCELLED, grpc::StatusCode::DEADLINE_EXCEEDED, grpc::StatusCode::ABORTED,
        grpc::StatusCode::OUT_OF_RANGE, grpc::StatusCode::DATA_LOSS}) {
    SCOPED_TRACE(code);
    const size_t before = receiver_->calls();
    receiver_->Script({{.code = code}});
    auto exporter = MakeExporter(FastRetries(*receiver_));
    ASSERT_NE(exporter, nullptr);
    EXPECT_TRUE(exporter->Export(TestResource(), OneSpan(), Deadline()).ok());
    EXPECT_EQ(receiver_->calls() - before, 2u);
  }
}

TEST_F(OtlpExporterTest, InvalidArgumentIsNotRetried) {
  receiver_->Script({{.code = grpc::StatusCode::INVALID_ARGUMENT, .message = "bad span"}});
  auto exporter = MakeExporter(FastRetries(*receiver_));
  ASSERT_NE(exporter, nullptr);
  absl::Status status = exporter->Export(TestResource(), OneSpan(), Deadline());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find("bad span"), absl::string_view::npos) << status;
  EXPECT_EQ(receiver_->calls(), 1u);
  const OtlpExporterStats stats = exporter->Stats();
  EXPECT_EQ(stats.retries, 0u);
  EXPECT_EQ(stats.batches_failed, 1u);
  EXPECT_EQ(stats.spans_failed, 1u);
}

TEST_F(OtlpExporterTest, ResourceExhaustedWithoutRetryInfoIsNotRetried) {
  receiver_->Script({{.code = grpc::StatusCode::RESOURCE_EXHAUSTED, .message = "quota"}});
  auto exporter = MakeExporter(FastRetries(*receiver_));
  ASSERT_NE(exporter, nullptr);
  absl::Status status = exporter->Export(TestResource(), OneSpan(), Deadline());
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_EQ(receiver_->calls(), 1u);
}

TEST_F(OtlpExporterTest, RetryInfoDelayIsHonoured) {
  receiver_->Script({{.code = grpc::StatusCode::RESOURCE_EXHAUSTED,
                      .message = "slow down",
                      .retry_delay = absl::Milliseconds(200)},
                     {.code = grpc::StatusCode::UNAVAILABLE,
                      .message = "restarting",
                      .retry_delay = absl::Milliseconds(200)}});
  OtlpExporterOptions options = FastRetries(*receiver_);
  // Our own backoff stays far below the server's delay, so the gaps below can
  // only come from RetryInfo.
  options.retry.initial_backoff = absl::Milliseconds(1);
  options.retry.max_backoff = absl::Milliseconds(1);
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  absl::Status status = exporter->Export(TestResource(), OneSpan(), Deadline());
  EXPECT_TRUE(status.ok()) << status;
  const std::vector<testing::ReceivedExport> calls = receiver_->Received();
  ASSERT_EQ(calls.size(), 3u);
  // Lower bounds only (a few ms of slack for the two clocks involved).
  EXPECT_GE(calls[1].arrival_monotonic_nanos - calls[0].arrival_monotonic_nanos, 195000000);
  EXPECT_GE(calls[2].arrival_monotonic_nanos - calls[1].arrival_monotonic_nanos, 195000000);
}

TEST_F(OtlpExporterTest, RetryInfoLongerThanTheDeadlineFailsWithoutWaiting) {
  receiver_->Script({{.code = grpc::StatusCode::UNAVAILABLE,
                      .message = "come back later",
                      .retry_delay = absl::Hours(1)}});
  auto exporter = MakeExporter(FastRetries(*receiver_));
  ASSERT_NE(exporter, nullptr);
  absl::Status status = exporter->Export(TestResource(), OneSpan(), Deadline());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(receiver_->calls(), 1u);
}

TEST_F(OtlpExporterTest, StallingEndpointEndsAtTheDeadline) {
  receiver_->Script({{.stall = absl::Seconds(60)}});
  auto exporter = MakeExporter(FastRetries(*receiver_));
  ASSERT_NE(exporter, nullptr);
  const absl::Duration budget = absl::Milliseconds(500);
  const int64_t start = MonotonicNanosNow();
  absl::Status status = exporter->Export(TestResource(), OneSpan(), absl::Now() + budget);
  const absl::Duration elapsed = absl::Nanoseconds(MonotonicNanosNow() - start);
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_GE(elapsed, budget - absl::Milliseconds(20));
  // A sanity bound far above the deadline: the call did not run to the stall.
  EXPECT_LT(elapsed, budget + absl::Seconds(5));
  EXPECT_EQ(exporter->Stats().batches_failed, 1u);
}

TEST_F(OtlpExporterTest, TimeoutOptionCapsALaterDeadline) {
  receiver_->Script({{.stall = absl::Seconds(60)}});
  OtlpExporterOptions options = FastRetries(*receiver_);
  options.timeout = absl::Milliseconds(300);
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  const int64_t start = MonotonicNanosNow();
  absl::Status status = exporter->Export(TestResource(), OneSpan(), absl::Now() + absl::Hours(1));
  const absl::Duration elapsed = absl::Nanoseconds(MonotonicNanosNow() - start);
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_LT(elapsed, absl::Milliseconds(300) + absl::Seconds(5));
}

TEST(OtlpExporterDownTest, EndpointWithNothingListeningFailsWithoutHanging) {
  // A port that was just bound and released: nothing listens there now.
  int port = 0;
  {
    auto receiver = OtlpReceiver::Start();
    ASSERT_TRUE(receiver.ok());
    port = (*receiver)->port();
  }
  OtlpExporterOptions options;
  options.endpoint = "127.0.0.1:" + std::to_string(port);
  options.retry.initial_backoff = absl::Milliseconds(5);
  options.retry.max_backoff = absl::Milliseconds(20);
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  const int64_t start = MonotonicNanosNow();
  absl::Status status = exporter->Export(TestResource(), OneSpan(), absl::Now() + absl::Seconds(3));
  const absl::Duration elapsed = absl::Nanoseconds(MonotonicNanosNow() - start);
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(status.code() == absl::StatusCode::kUnavailable ||
              status.code() == absl::StatusCode::kDeadlineExceeded)
      << status;
  EXPECT_LT(elapsed, absl::Seconds(3) + absl::Seconds(5));
  EXPECT_EQ(exporter->Stats().batches_failed, 1u);
}

TEST_F(OtlpExporterTest, HeadersArriveAsMetadata) {
  OtlpExporterOptions options = FastRetries(*receiver_);
  options.headers = {{"api-key", "secret-123"}, {"x-tenant", "blue team"}};
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  ASSERT_TRUE(exporter->Export(TestResource(), OneSpan(), Deadline()).ok());
  const auto calls = receiver_->Received();
  ASSERT_EQ(calls.size(), 1u);
  const auto& metadata = calls[0].metadata;
  ASSERT_EQ(metadata.count("api-key"), 1u);
  EXPECT_EQ(metadata.find("api-key")->second, "secret-123");
  ASSERT_EQ(metadata.count("x-tenant"), 1u);
  EXPECT_EQ(metadata.find("x-tenant")->second, "blue team");
  ASSERT_EQ(metadata.count("user-agent"), 1u);
  EXPECT_NE(metadata.find("user-agent")->second.find("tracebridge-otlp-exporter"),
            std::string::npos);
}

TEST_F(OtlpExporterTest, GzipCompressedRequestsDecode) {
  OtlpExporterOptions options = FastRetries(*receiver_);
  options.compression = OtlpCompression::kGzip;
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  std::vector<std::unique_ptr<SpanData>> spans;
  for (int i = 0; i < 50; ++i) spans.push_back(FullSpan());
  ASSERT_TRUE(exporter->Export(TestResource(), spans, Deadline()).ok());
  ASSERT_TRUE(receiver_->WaitForSpans(50, absl::Seconds(10)));
  const auto received = receiver_->Spans();
  ASSERT_EQ(received.size(), 50u);
  EXPECT_EQ(received[49].name(), "POST /orders");
  EXPECT_EQ(received[49].trace_id(), Bytes(kTraceIdHex));
}

TEST(OtlpExporterGzipTest, GzipIsReallyOnTheWire) {
  // A server that refuses gzip tells compressed requests from plain ones.
  auto plain_only = OtlpReceiver::Start({.accept_gzip = false});
  ASSERT_TRUE(plain_only.ok()) << plain_only.status();
  std::vector<std::unique_ptr<SpanData>> spans;
  for (int i = 0; i < 50; ++i) spans.push_back(FullSpan());

  OtlpExporterOptions options = FastRetries(**plain_only);
  auto plain = MakeExporter(options);
  ASSERT_NE(plain, nullptr);
  EXPECT_TRUE(plain->Export(TestResource(), spans, Deadline()).ok());

  options.compression = OtlpCompression::kGzip;
  auto gzip = MakeExporter(options);
  ASSERT_NE(gzip, nullptr);
  absl::Status status = gzip->Export(TestResource(), spans, Deadline());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented) << status;
}

TEST_F(OtlpExporterTest, PartialSuccessIsOkAndCountsRejectedSpans) {
  receiver_->Script({{.rejected_spans = 2, .partial_error = "2 spans too large"}});
  auto exporter = MakeExporter(FastRetries(*receiver_));
  ASSERT_NE(exporter, nullptr);
  std::vector<std::unique_ptr<SpanData>> spans;
  for (int i = 0; i < 3; ++i) spans.push_back(RootSpan("s", SpanKind::kInternal));
  EXPECT_TRUE(exporter->Export(TestResource(), spans, Deadline()).ok());
  const OtlpExporterStats stats = exporter->Stats();
  EXPECT_EQ(stats.batches_exported, 1u);
  EXPECT_EQ(stats.spans_rejected, 2u);
  EXPECT_EQ(exporter->last_partial_success_message(), "2 spans too large");
}

TEST_F(OtlpExporterTest, ShutdownInterruptsABackoffWait) {
  // The server asks for a 30 s wait; Shutdown must end it at once.
  std::vector<OtlpReply> replies(
      5, OtlpReply{.code = grpc::StatusCode::UNAVAILABLE, .retry_delay = absl::Seconds(30)});
  receiver_->Script(std::move(replies));
  OtlpExporterOptions options = FastRetries(*receiver_);
  options.timeout = absl::Seconds(120);
  absl::Notification waiting;
  absl::Duration announced;
  options.on_retry = [&](const absl::Status&, absl::Duration wait) {
    announced = wait;
    waiting.Notify();
  };
  auto exporter = MakeExporter(options);
  ASSERT_NE(exporter, nullptr);
  absl::Status export_status;
  std::thread exporting([&] {
    export_status = exporter->Export(TestResource(), OneSpan(), absl::Now() + absl::Seconds(120));
  });
  EXPECT_TRUE(waiting.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // Returns OK only once Export has returned; 10 s is a third of the wait.
  EXPECT_TRUE(exporter->Shutdown(absl::Seconds(10)).ok());
  exporting.join();
  EXPECT_EQ(export_status.code(), absl::StatusCode::kUnavailable) << export_status;
  EXPECT_NE(export_status.message().find("shut down"), absl::string_view::npos) << export_status;
  EXPECT_EQ(receiver_->calls(), 1u);
  EXPECT_EQ(announced, absl::Seconds(30));
  EXPECT_EQ(exporter->Export(TestResource(), OneSpan(), Deadline()).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(exporter->Stats().batches_failed, 2u);
}

TEST_F(OtlpExporterTest, ShutdownCancelsACallInFlight) {
  receiver_->Script({{.stall = absl::Seconds(60)}});
  auto exporter = MakeExporter(FastRetries(*receiver_));
  ASSERT_NE(exporter, nullptr);
  absl::Status export_status;
  std::thread exporting([&] {
    export_status = exporter->Export(TestResource(), OneSpan(), absl::Now() + absl::Seconds(120));
  });
  EXPECT_TRUE(receiver_->WaitForCalls(1, absl::Seconds(10)));
  EXPECT_TRUE(exporter->Shutdown(absl::Seconds(10)).ok());
  exporting.join();
  EXPECT_FALSE(export_status.ok());
}

TEST(OtlpExporterOptionsTest, CreateValidatesHeadersAndEndpoint) {
  auto create = [](OtlpExporterOptions options) {
    return OtlpGrpcExporter::Create(std::move(options)).status();
  };
  OtlpExporterOptions upper;
  upper.headers = {{"API-Key", "x"}};
  EXPECT_EQ(create(upper).code(), absl::StatusCode::kInvalidArgument);
  OtlpExporterOptions newline;
  newline.headers = {{"api-key", "x\ny"}};
  EXPECT_EQ(create(newline).code(), absl::StatusCode::kInvalidArgument);
  OtlpExporterOptions reserved;
  reserved.headers = {{"grpc-timeout", "1S"}};
  EXPECT_EQ(create(reserved).code(), absl::StatusCode::kInvalidArgument);
  OtlpExporterOptions binary;
  binary.headers = {{"token-bin", std::string("\x00\x01\xff", 3)}};
  EXPECT_TRUE(create(binary).ok());
  OtlpExporterOptions no_host;
  no_host.endpoint = "http://";
  EXPECT_EQ(create(no_host).code(), absl::StatusCode::kInvalidArgument);
  // An empty endpoint is the protocol's default.
  auto by_default = OtlpGrpcExporter::Create(OtlpExporterOptions());
  ASSERT_TRUE(by_default.ok()) << by_default.status();
  EXPECT_EQ((*by_default)->target(), "localhost:4317");
  OtlpExporterOptions with_path;
  with_path.endpoint = "https://collector:4317/v1/traces";
  EXPECT_EQ(create(with_path).code(), absl::StatusCode::kInvalidArgument);
  OtlpExporterOptions bad_retry;
  bad_retry.retry.max_attempts = 0;
  EXPECT_EQ(create(bad_retry).code(), absl::StatusCode::kInvalidArgument);

  OtlpExporterOptions url;
  url.endpoint = "http://127.0.0.1:4317/";
  auto exporter = OtlpGrpcExporter::Create(url);
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  EXPECT_EQ((*exporter)->target(), "127.0.0.1:4317");
  EXPECT_EQ((*exporter)->Name(), "otlp");
}

TEST(OtlpExporterOptionsTest, EnvironmentWithSignalSpecificPrecedence) {
  std::map<std::string, std::string> env = {
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4317"},
      {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4317"},
      {"OTEL_EXPORTER_OTLP_HEADERS", "api-key=generic"},
      {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", " Api-Key = s%3Dcret%2C1 ,x-tenant=blue,"},
      {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"},
      {"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"},
  };
  auto lookup = [&](const char* name) -> absl::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return absl::nullopt;
    return it->second;
  };
  absl::StatusOr<OtlpExporterOptions> options = OtlpExporterOptions::FromEnvironment(lookup);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->endpoint, "http://traces:4317");
  ASSERT_EQ(options->headers.size(), 2u);
  EXPECT_EQ(options->headers[0].key, "api-key");
  EXPECT_EQ(options->headers[0].value, "s=cret,1");
  EXPECT_EQ(options->headers[1].key, "x-tenant");
  EXPECT_EQ(options->compression, OtlpCompression::kGzip);
  EXPECT_EQ(options->timeout, absl::Milliseconds(2500));

  // Nothing set: the defaults.
  absl::StatusOr<OtlpExporterOptions> defaults = OtlpExporterOptions::FromEnvironment(
      [](const char*) -> absl::optional<std::string> { return absl::nullopt; });
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->protocol, OtlpProtocol::kGrpc);
  EXPECT_EQ(defaults->endpoint, "");  // the protocol's default
  EXPECT_EQ(defaults->timeout, absl::Seconds(10));
  EXPECT_EQ(defaults->compression, OtlpCompression::kNone);
  EXPECT_EQ(defaults->retry.max_attempts, 5);
}

TEST(OtlpExporterOptionsTest, MalformedEnvironmentValuesAreErrors) {
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"OTEL_EXPORTER_OTLP_TIMEOUT", "soon"},
           {"OTEL_EXPORTER_OTLP_TIMEOUT", "-5"},
           {"OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"},
           {"OTEL_EXPORTER_OTLP_HEADERS", "novalue"},
           {"OTEL_EXPORTER_OTLP_HEADERS", "k=%zz"},
           {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://c:4317/v1/traces"}}) {
    SCOPED_TRACE(name + "=" + value);
    auto options = OtlpExporterOptions::FromEnvironment(
        [&, n = name, v = value](const char* asked) -> absl::optional<std::string> {
          if (n == asked) return v;
          return absl::nullopt;
        });
    ASSERT_FALSE(options.ok());
    EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(options.status().message().find(name), absl::string_view::npos);
  }
}

TEST(OtlpExporterRetryTest, RetryableCodesFollowTheSpecification) {
  for (grpc::StatusCode code : {grpc::StatusCode::CANCELLED, grpc::StatusCode::DEADLINE_EXCEEDED,
                                grpc::StatusCode::ABORTED, grpc::StatusCode::OUT_OF_RANGE,
                                grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::DATA_LOSS}) {
    EXPECT_TRUE(IsRetryableOtlpCode(code, false)) << code;
  }
  EXPECT_FALSE(IsRetryableOtlpCode(grpc::StatusCode::RESOURCE_EXHAUSTED, false));
  EXPECT_TRUE(IsRetryableOtlpCode(grpc::StatusCode::RESOURCE_EXHAUSTED, true));
  for (grpc::StatusCode code :
       {grpc::StatusCode::UNKNOWN, grpc::StatusCode::INVALID_ARGUMENT, grpc::StatusCode::NOT_FOUND,
        grpc::StatusCode::ALREADY_EXISTS, grpc::StatusCode::PERMISSION_DENIED,
        grpc::StatusCode::FAILED_PRECONDITION, grpc::StatusCode::UNIMPLEMENTED,
        grpc::StatusCode::INTERNAL, grpc::StatusCode::UNAUTHENTICATED}) {
    EXPECT_FALSE(IsRetryableOtlpCode(code, true)) << code;
  }
}

TEST(OtlpExporterRetryTest, StatusDetailsWithoutRetryInfoGiveNoDelay) {
  EXPECT_FALSE(RetryDelayFromStatusDetails("").has_value());
  EXPECT_FALSE(RetryDelayFromStatusDetails("\xff\xff\xff").has_value());
}

}  // namespace
}  // namespace tracebridge
