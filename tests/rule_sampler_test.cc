// The rule-based sampler, record-only spans and the sampler names that
// OTEL_TRACES_SAMPLER accepts: rules select by route, method and name, the
// first match decides, errors are exported at the end and counted, and every
// malformed configuration is an error that says what is wrong.

#include "tracebridge/core/trace/rule_sampler.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/collecting_processor.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/core/trace/tracer.h"

namespace tracebridge {
namespace {

SamplingDecision DecisionFor(Sampler& sampler, SpanTarget target, absl::string_view name = "op",
                             const SpanContext& parent = SpanContext()) {
  const TraceId id = parent.IsValid() ? parent.trace_id() : TraceId::Generate();
  return sampler.Sample(SamplingParams{parent, id, name, SpanKind::kServer, target}).decision;
}

SpanTarget Route(absl::string_view route) { return SpanTarget{{}, "GET", route}; }
SpanTarget Method(absl::string_view method) { return SpanTarget{method, {}, {}}; }

std::shared_ptr<Sampler> Rules(absl::string_view text) {
  absl::StatusOr<SamplingRules> rules = ParseSamplingRules(text);
  EXPECT_TRUE(rules.ok()) << rules.status();
  return rules.ok() ? RuleBasedSampler(*std::move(rules)) : AlwaysOffSampler();
}

TEST(RuleSamplerTest, FirstMatchingRuleDecidesAndRulesSeeOnlyTheirField) {
  auto sampler = Rules(
      "route:/healthz=always_off; route:/orders/*=always_on; method:/shop.Orders/*=always_on;"
      "name:warm-up=always_on; default=always_off");
  EXPECT_EQ(DecisionFor(*sampler, Route("/healthz")), SamplingDecision::kDrop);
  EXPECT_EQ(DecisionFor(*sampler, Route("/orders/:id")), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(DecisionFor(*sampler, Route("/carts/:id")), SamplingDecision::kDrop);
  EXPECT_EQ(DecisionFor(*sampler, Method("/shop.Orders/Get")), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(DecisionFor(*sampler, Method("/shop.Carts/Get")), SamplingDecision::kDrop);
  EXPECT_EQ(DecisionFor(*sampler, SpanTarget{}, "warm-up"), SamplingDecision::kRecordAndSample);
  // A route rule never matches a gRPC span, even one whose method looks like it.
  EXPECT_EQ(DecisionFor(*sampler, Method("/orders/x")), SamplingDecision::kDrop);
  // The first match wins over later ones.
  auto first = Rules("route:/a/*=always_off;route:/a/b=always_on;default=always_on");
  EXPECT_EQ(DecisionFor(*first, Route("/a/b")), SamplingDecision::kDrop);
  EXPECT_EQ(first->Description(),
            "Rules{route:/a/*=AlwaysOff;route:/a/b=AlwaysOn;default=AlwaysOn}");
}

TEST(RuleSamplerTest, DefaultIsAlwaysOnWhenOmitted) {
  auto sampler = Rules("route:/healthz=always_off");
  EXPECT_EQ(DecisionFor(*sampler, Route("/x")), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(DecisionFor(*sampler, SpanTarget{}), SamplingDecision::kRecordAndSample);
}

TEST(RuleSamplerTest, EachRateRuleCountsOnlyItsOwnSpans) {
  // Two rate rules of one per second: a burst of one each, independently.
  auto sampler = Rules("route:/a=rate:1;route:/b=rate:1;default=always_off");
  int a = 0, b = 0;
  for (int i = 0; i < 50; ++i) {
    a += DecisionFor(*sampler, Route("/a")) == SamplingDecision::kRecordAndSample;
    b += DecisionFor(*sampler, Route("/b")) == SamplingDecision::kRecordAndSample;
  }
  // GCRA bound: burst 1 plus one per elapsed second; the loop is far shorter
  // than a second on any machine that runs this suite, but the bound holds
  // either way.
  EXPECT_GE(a, 1);
  EXPECT_GE(b, 1);
  EXPECT_LT(a, 50);
  EXPECT_LT(b, 50);
}

TEST(RuleSamplerTest, ErrorRuleMakesDroppedSpansRecordOnly) {
  auto sampler = Rules("route:/healthz=always_off;error=always_on;default=always_on");
  EXPECT_EQ(DecisionFor(*sampler, Route("/healthz")), SamplingDecision::kRecordOnly);
  EXPECT_EQ(DecisionFor(*sampler, Route("/orders")), SamplingDecision::kRecordAndSample);
  EXPECT_FALSE(sampler->ShouldSample(SamplingParams{SpanContext(), TraceId::Generate(), "op",
                                                    SpanKind::kServer, Route("/healthz")}));
}

TEST(RuleSamplerTest, ParentBasedRulesFollowTheParentButStillKeepErrors) {
  absl::StatusOr<SamplingRules> rules = ParseSamplingRules("error=always_on;default=always_off");
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto sampler = ParentBasedRuleSampler(*std::move(rules));
  const TraceId id = TraceId::Generate();
  const SpanContext sampled(id, SpanId::Generate(), TraceFlags(1), /*is_remote=*/true);
  const SpanContext unsampled(id, SpanId::Generate(), TraceFlags(0), /*is_remote=*/true);
  const SpanContext local_unsampled(id, SpanId::Generate(), TraceFlags(0), /*is_remote=*/false);
  EXPECT_EQ(DecisionFor(*sampler, Route("/x"), "op", sampled), SamplingDecision::kRecordAndSample);
  EXPECT_EQ(DecisionFor(*sampler, Route("/x"), "op", unsampled), SamplingDecision::kRecordOnly);
  EXPECT_EQ(DecisionFor(*sampler, Route("/x"), "op", local_unsampled),
            SamplingDecision::kRecordOnly);
  EXPECT_EQ(DecisionFor(*sampler, Route("/x")), SamplingDecision::kRecordOnly);  // root

  // Without an error rule, an unsampled parent means drop, as ParentBased.
  auto plain = ParentBasedRuleSampler(*ParseSamplingRules("default=always_on"));
  EXPECT_EQ(DecisionFor(*plain, Route("/x"), "op", unsampled), SamplingDecision::kDrop);
}

TEST(RuleSamplerTest, MalformedRulesAreClearErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {" ; ", "empty"},
      {"route:/a", "SELECTOR=ACTION"},
      {"route:=always_on", "empty pattern"},
      {"path:/a=always_on", "unknown selector"},
      {"route:/a=sometimes", "unknown action"},
      {"route:/a=ratio:1.5", "ratio"},
      {"route:/a=ratio:", "ratio"},
      {"route:/a=rate:-1", "rate"},
      {"route:/a=rate:nan", "rate"},
      {"route:/a=rate:inf", "rate"},
      {"route:/a=adaptive:0", "adaptive target"},
      {"route:/a=adaptive:10:0.5:0.1", "above the max"},
      {"route:/a=adaptive:10:0.1:0.5:9", "TARGET[:MIN[:MAX]]"},
      {"default=always_on;default=always_off", "second \"default\""},
      {"error=always_on;error=rate:1", "second \"error\""},
  };
  for (const auto& [text, expected] : cases) {
    SCOPED_TRACE(text);
    absl::StatusOr<SamplingRules> rules = ParseSamplingRules(text);
    ASSERT_FALSE(rules.ok());
    EXPECT_EQ(rules.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(rules.status().message().find(expected), absl::string_view::npos)
        << rules.status().message();
  }
  // The rule is named by its position.
  absl::StatusOr<SamplingRules> third = ParseSamplingRules("error=always_on;default=always_on;x");
  ASSERT_FALSE(third.ok());
  EXPECT_NE(third.status().message().find("rule 3 (\"x\")"), absl::string_view::npos)
      << third.status();
  // Bounded in rules and bytes.
  std::string many;
  for (size_t i = 0; i <= kMaxSamplingRules; ++i) many += "route:/r=always_on;";
  EXPECT_FALSE(ParseSamplingRules(many).ok());
  EXPECT_FALSE(ParseSamplingRules(std::string(kMaxSamplingRulesText + 1, ' ')).ok());
}

TEST(RuleSamplerTest, RouteTemplatesWithColonsAndSpacesParse) {
  auto sampler = Rules(" route:/orders/:id = rate:0.5 ; method:/a.B/C = adaptive:10:0.01:0.5 ;");
  EXPECT_NE(sampler->Description().find("route:/orders/:id=RateLimiting{0.5/s}"), std::string::npos)
      << sampler->Description();
  EXPECT_NE(sampler->Description().find("method:/a.B/C=Adaptive{target=10/s,min=0.01,max=0.5"),
            std::string::npos)
      << sampler->Description();
}

// ---- record-only spans in the tracer ----

class RecordOnlyTest : public ::testing::Test {
 protected:
  Tracer MakeTracer(std::shared_ptr<Sampler> sampler) {
    return Tracer({.service_name = "t", .sampler = std::move(sampler), .processor = &processor_});
  }
  testing::CollectingProcessor processor_;
};

TEST_F(RecordOnlyTest, ErrorSpansAreExportedAtTheEndOthersDiscardedAndAllCounted) {
  Tracer tracer({.service_name = "t",
                 .sampler = Rules("route:/healthz=always_off;error=always_on;default=always_off"),
                 .processor = &processor_});
  StartSpanOptions options;
  options.target = Route("/healthz");
  TraceId failed_trace;
  {
    Span ok = tracer.StartSpan("GET /healthz", options);
    EXPECT_TRUE(ok.IsRecording());
    EXPECT_FALSE(ok.context().IsSampled());  // what goes downstream
    ok.SetAttribute("http.response.status_code", 200);
  }
  {
    Span failed = tracer.StartSpan("GET /healthz", options);
    failed_trace = failed.context().trace_id();
    failed.SetAttribute("http.response.status_code", 500);
    failed.SetStatus(StatusCode::kError, "backend down");
  }
  const std::vector<SpanData> spans = processor_.Spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].context.trace_id(), failed_trace);
  EXPECT_FALSE(spans[0].context.IsSampled());  // the flag it was propagated with
  EXPECT_EQ(spans[0].status, StatusCode::kError);
  const AttributeValue* marked = spans[0].FindAttribute(kSampledAtEndAttribute);
  ASSERT_NE(marked, nullptr);
  EXPECT_TRUE(absl::get<bool>(*marked));
  const TracerStats stats = tracer.Stats();
  EXPECT_EQ(stats.spans_started, 0u);
  EXPECT_EQ(stats.spans_ended, 0u);
  EXPECT_EQ(stats.record_only_started, 2u);
  EXPECT_EQ(stats.record_only_exported, 1u);
  EXPECT_EQ(stats.record_only_discarded, 1u);
}

TEST_F(RecordOnlyTest, ErrorRuleRateBoundsHowManyErrorsAreExported) {
  Tracer tracer({.service_name = "t",
                 .sampler = Rules("error=rate:1;default=always_off"),
                 .processor = &processor_});
  for (int i = 0; i < 20; ++i) {
    Span span = tracer.StartSpan("op");
    span.SetStatus(StatusCode::kError, "boom");
  }
  const TracerStats stats = tracer.Stats();
  EXPECT_EQ(stats.record_only_started, 20u);
  EXPECT_EQ(stats.record_only_exported + stats.record_only_discarded, 20u);
  EXPECT_GE(stats.record_only_exported, 1u);
  EXPECT_LT(stats.record_only_exported, 20u);
  EXPECT_EQ(processor_.size(), stats.record_only_exported);
}

TEST_F(RecordOnlyTest, MarkerRespectsTheAttributeLimit) {
  Tracer tracer({.service_name = "t",
                 .sampler = ErrorSpansSampler(AlwaysOnSampler()),
                 .processor = &processor_,
                 .limits = {.max_attributes = 1}});
  {
    Span span = tracer.StartSpan("op");
    span.SetAttribute("a", 1);
    span.SetStatus(StatusCode::kError, "x");
  }
  const std::vector<SpanData> spans = processor_.Spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].attributes.size(), 1u);
  EXPECT_EQ(spans[0].dropped_attributes, 1u);
}

TEST_F(RecordOnlyTest, ChildOfARecordOnlySpanFollowsTheParentBasedRules) {
  Tracer tracer(
      {.service_name = "t",
       .sampler = ParentBasedRuleSampler(*ParseSamplingRules("error=always_on;default=always_off")),
       .processor = &processor_});
  {
    Span parent = tracer.StartSpan("server");
    Scope scope(parent);
    Span child = tracer.StartSpan("client", {.kind = SpanKind::kClient});
    EXPECT_TRUE(child.IsRecording());
    EXPECT_EQ(child.context().trace_id(), parent.context().trace_id());
    child.SetStatus(StatusCode::kError, "backend failed");
  }
  const std::vector<SpanData> spans = processor_.Spans();
  ASSERT_EQ(spans.size(), 1u);  // the failed child only; the parent ended fine
  EXPECT_EQ(spans[0].name, "client");
}

// ---- OTEL_TRACES_SAMPLER names ----

TEST(SamplerFromNameTest, EveryNameAndItsParentBasedForm) {
  const std::vector<std::pair<std::pair<std::string, std::string>, std::string>> cases = {
      {{"always_on", ""}, "AlwaysOn"},
      {{"always_off", ""}, "AlwaysOff"},
      {{"traceidratio", ""}, "TraceIdRatioBased{1.000000}"},
      {{"traceidratio", "0.25"}, "TraceIdRatioBased{0.250000}"},
      {{"parentbased_traceidratio", "0.5"}, "ParentBased{root=TraceIdRatioBased{0.500000},"},
      {{"tracebridge_ratelimiting", "10"}, "RateLimiting{10/s}"},
      {{"PARENTBASED_TRACEBRIDGE_RATELIMITING", "2.5"}, "ParentBased{root=RateLimiting{2.5/s},"},
      {{"tracebridge_adaptive", "100"}, "Adaptive{target=100/s,min=0.0001,max=1,"},
      {{"parentbased_tracebridge_adaptive", "50:0.01:0.5"},
       "ParentBased{root=Adaptive{target=50/s,min=0.01,max=0.5,"},
      {{"tracebridge_rules", "route:/healthz=rate:1;error=always_on;default=ratio:0.1"},
       "Rules{route:/healthz=RateLimiting{1/s};error=ErrorSpans{AlwaysOn};"
       "default=TraceIdRatioBased{0.100000}}"},
      {{"parentbased_tracebridge_rules", "error=always_on"},
       "ParentBased{root=Rules{error=ErrorSpans{AlwaysOn};default=AlwaysOn},"
       "remoteParentSampled=AlwaysOn,remoteParentNotSampled=ErrorSpans{AlwaysOn}"},
  };
  for (const auto& [input, prefix] : cases) {
    SCOPED_TRACE(input.first + " / " + input.second);
    absl::StatusOr<std::shared_ptr<Sampler>> sampler = SamplerFromName(input.first, input.second);
    ASSERT_TRUE(sampler.ok()) << sampler.status();
    EXPECT_EQ((*sampler)->Description().substr(0, prefix.size()), prefix)
        << (*sampler)->Description();
  }
}

TEST(SamplerFromNameTest, BadNamesAndArgumentsSayWhatIsWrong) {
  const std::vector<std::pair<std::pair<std::string, std::string>, std::string>> cases = {
      {{"sometimes", ""}, "unknown"},
      {{"traceidratio", "2"}, "ratio"},
      {{"tracebridge_ratelimiting", ""}, "needs an argument"},
      {{"tracebridge_ratelimiting", "fast"}, "rate"},
      {{"tracebridge_adaptive", ""}, "needs an argument"},
      {{"tracebridge_adaptive", "10:2"}, "adaptive min ratio"},
      {{"tracebridge_rules", ""}, "needs an argument"},
      {{"tracebridge_rules", "route:/a=maybe"}, "unknown action"},
  };
  for (const auto& [input, expected] : cases) {
    SCOPED_TRACE(input.first + " / " + input.second);
    absl::StatusOr<std::shared_ptr<Sampler>> sampler = SamplerFromName(input.first, input.second);
    ASSERT_FALSE(sampler.ok());
    EXPECT_EQ(sampler.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(sampler.status().message().find(expected), absl::string_view::npos)
        << sampler.status();
    EXPECT_NE(sampler.status().message().find(input.first), absl::string_view::npos)
        << sampler.status();
  }
}

TEST(SamplerFromNameTest, EnvironmentReachesTheRulesAndReportsErrors) {
  ASSERT_EQ(setenv("OTEL_TRACES_SAMPLER", "parentbased_tracebridge_rules", 1), 0);
  ASSERT_EQ(setenv("OTEL_TRACES_SAMPLER_ARG", "route:/healthz=always_off;default=always_on", 1), 0);
  absl::StatusOr<std::unique_ptr<Telemetry>> telemetry =
      TelemetryBuilder::FromEnvironment().SetSpanStore({}, false).AddExporter(nullptr).Build();
  // A null exporter is refused; what matters is that the sampler parsed.
  EXPECT_EQ(telemetry.status().message(), "null exporter");
  ASSERT_EQ(setenv("OTEL_TRACES_SAMPLER_ARG", "route:/healthz=never", 1), 0);
  telemetry = TelemetryBuilder::FromEnvironment().Build();
  ASSERT_FALSE(telemetry.ok());
  EXPECT_NE(telemetry.status().message().find("OTEL_TRACES_SAMPLER"), absl::string_view::npos);
  EXPECT_NE(telemetry.status().message().find("unknown action \"never\""), absl::string_view::npos)
      << telemetry.status();
  unsetenv("OTEL_TRACES_SAMPLER");
  unsetenv("OTEL_TRACES_SAMPLER_ARG");
}

}  // namespace
}  // namespace tracebridge
