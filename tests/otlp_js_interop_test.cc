// Wire compatibility of tracebridge's OTLP messages with a real, independent
// implementation: the OpenTelemetry JS SDK's OTLP/gRPC exporter
// (tests/interop/otlp_js/send_spans.js) sends a small trace to our
// OtlpReceiver on 127.0.0.1, and this test checks every value it set after
// decoding with our own .proto definitions.
//
// The JS packages are installed by the test itself with `npm ci` from the
// committed package-lock.json into $TEST_TMPDIR, with a persistent npm cache
// (TRACEBRIDGE_NPM_CACHE, default /tmp/tracebridge-npm-cache) so reruns do
// not download again. The npm registry must be reachable on a cold cache; if
// it is not, the test fails and says so rather than passing silently.

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/child_process.h"
#include "tests/testing/npm_package.h"
#include "tests/testing/otlp_receiver.h"

namespace tracebridge {
namespace {

namespace otlp_common = ::opentelemetry::proto::common::v1;
namespace otlp_trace = ::opentelemetry::proto::trace::v1;

constexpr absl::Duration kNodeTimeout = absl::Minutes(1);

const otlp_common::AnyValue* FindValue(
    const google::protobuf::RepeatedPtrField<otlp_common::KeyValue>& attributes,
    absl::string_view key) {
  for (const otlp_common::KeyValue& kv : attributes) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

TEST(OtlpJsInteropTest, SpansFromTheJsExporterDecodeWithOurMessages) {
  auto receiver = testing::OtlpReceiver::Start();
  ASSERT_TRUE(receiver.ok()) << receiver.status();

  absl::StatusOr<testing::NodePackage> package = testing::PrepareNpmPackage(
      "tests/interop/otlp_js", {"package.json", "package-lock.json", "send_spans.js"});
  ASSERT_TRUE(package.ok()) << package.status();

  testing::ProcessResult send = testing::RunProgram(
      {package->node, "send_spans.js", std::to_string((*receiver)->port())}, package->env,
      package->dir, package->dir + "/send_spans.log", kNodeTimeout);
  ASSERT_FALSE(send.timed_out) << "send_spans.js overran " << kNodeTimeout << ":\n" << send.log;
  ASSERT_EQ(send.exit_code, 0) << send.log;
  // provider.shutdown() resolved, so the export completed: no waiting needed,
  // but the condition is cheap and keeps the test honest if that changes.
  ASSERT_TRUE((*receiver)->WaitForSpans(3, absl::Seconds(30)));

  const std::vector<testing::ReceivedExport> calls = (*receiver)->Received();
  ASSERT_FALSE(calls.empty());
  const auto& resource_spans = calls[0].request.resource_spans();
  ASSERT_EQ(resource_spans.size(), 1);
  const auto& resource = resource_spans[0].resource().attributes();
  ASSERT_NE(FindValue(resource, "service.name"), nullptr);
  EXPECT_EQ(FindValue(resource, "service.name")->string_value(), "js-interop-sender");
  ASSERT_NE(FindValue(resource, "service.version"), nullptr);
  EXPECT_EQ(FindValue(resource, "service.version")->string_value(), "7.0.1");
  ASSERT_EQ(resource_spans[0].scope_spans_size(), 1);
  EXPECT_EQ(resource_spans[0].scope_spans(0).scope().name(), "interop-js");
  EXPECT_EQ(resource_spans[0].scope_spans(0).scope().version(), "1.0.0");

  std::map<std::string, otlp_trace::Span> spans;
  for (const otlp_trace::Span& span : (*receiver)->Spans()) spans[span.name()] = span;
  ASSERT_EQ(spans.size(), 3u);
  ASSERT_EQ(spans.count("GET /checkout"), 1u);
  ASSERT_EQ(spans.count("charge card"), 1u);
  ASSERT_EQ(spans.count("audit"), 1u);
  const otlp_trace::Span& parent = spans["GET /checkout"];
  const otlp_trace::Span& child = spans["charge card"];
  const otlp_trace::Span& grandchild = spans["audit"];

  for (const otlp_trace::Span* span : {&parent, &child, &grandchild}) {
    SCOPED_TRACE(span->name());
    EXPECT_EQ(span->trace_id().size(), 16u);
    EXPECT_EQ(span->span_id().size(), 8u);
    EXPECT_EQ(span->trace_id(), parent.trace_id());
    EXPECT_GT(span->start_time_unix_nano(), 0u);
    EXPECT_GE(span->end_time_unix_nano(), span->start_time_unix_nano());
    EXPECT_EQ(span->flags() & otlp_trace::SPAN_FLAGS_TRACE_FLAGS_MASK, 1u);  // sampled
  }
  EXPECT_NE(child.span_id(), parent.span_id());

  // Parentage.
  EXPECT_TRUE(parent.parent_span_id().empty());
  EXPECT_EQ(child.parent_span_id(), parent.span_id());
  EXPECT_EQ(grandchild.parent_span_id(), child.span_id());

  // Kinds (OTLP numbering: INTERNAL = 1, SERVER = 2, CLIENT = 3).
  EXPECT_EQ(parent.kind(), otlp_trace::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(child.kind(), otlp_trace::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(grandchild.kind(), otlp_trace::Span::SPAN_KIND_INTERNAL);

  // Attributes of each type.
  const auto* method = FindValue(parent.attributes(), "http.method");
  ASSERT_NE(method, nullptr);
  EXPECT_EQ(method->value_case(), otlp_common::AnyValue::kStringValue);
  EXPECT_EQ(method->string_value(), "GET");
  const auto* code = FindValue(parent.attributes(), "http.status_code");
  ASSERT_NE(code, nullptr);
  EXPECT_EQ(code->value_case(), otlp_common::AnyValue::kIntValue);
  EXPECT_EQ(code->int_value(), 200);
  const auto* ratio = FindValue(parent.attributes(), "sample.ratio");
  ASSERT_NE(ratio, nullptr);
  EXPECT_EQ(ratio->value_case(), otlp_common::AnyValue::kDoubleValue);
  EXPECT_EQ(ratio->double_value(), 0.5);
  const auto* hit = FindValue(parent.attributes(), "cache.hit");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->value_case(), otlp_common::AnyValue::kBoolValue);
  EXPECT_TRUE(hit->bool_value());
  ASSERT_NE(FindValue(child.attributes(), "peer.service"), nullptr);
  EXPECT_EQ(FindValue(child.attributes(), "peer.service")->string_value(), "payments");

  // The event.
  ASSERT_EQ(child.events_size(), 1);
  EXPECT_EQ(child.events(0).name(), "retrying");
  EXPECT_GE(child.events(0).time_unix_nano(), child.start_time_unix_nano());
  ASSERT_NE(FindValue(child.events(0).attributes(), "attempt"), nullptr);
  EXPECT_EQ(FindValue(child.events(0).attributes(), "attempt")->int_value(), 2);

  // Statuses.
  EXPECT_EQ(parent.status().code(), otlp_trace::Status::STATUS_CODE_OK);
  EXPECT_EQ(child.status().code(), otlp_trace::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(child.status().message(), "card declined");
  EXPECT_EQ(grandchild.status().code(), otlp_trace::Status::STATUS_CODE_UNSET);
}

}  // namespace
}  // namespace tracebridge
