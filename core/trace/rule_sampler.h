// File: tracebridge/core/trace/rule_sampler.h
//
// A sampler made of rules: a different sampler per HTTP route, gRPC method or
// span name, spans that end in error kept apart, and a text form of the
// rules for OTEL_TRACES_SAMPLER_ARG (OTEL_TRACES_SAMPLER=tracebridge_rules).
//
// Decision rule: at span start the first rule whose pattern matches decides,
// with its own sampler (so a rule's rate limiter counts only its own spans);
// a span no rule matches goes to `fallback`. A rule only matches spans that
// carry its field (`SpanTarget`, set by the gRPC and HTTP doors): a route
// rule never matches a gRPC span. Patterns are those of
// core/util/name_filter.h: exact, or a prefix ending in '*'.
//
// Errors: when `errors` is set, a span the start-time decision drops is
// record-only instead, and exported at its end when its status is error and
// `errors` samples it (AlwaysOn: every error span). Its W3C sampled flag was
// 0 when it went out and stays 0 (see core/trace/sampler.h); the exported
// span carries `tracebridge.sampled_at_end = true`. This costs one span
// record per such request, sampled or not.
//
// Text form:
//
//   rules    = rule *( ";" rule )            at most 64 rules, 4096 bytes
//   rule     = selector "=" action
//   selector = "route:" PATTERN               the HTTP route template
//            | "method:" PATTERN              the gRPC full method
//            | "name:" PATTERN                the span name
//            | "error"                        spans ending with error status (once)
//            | "default"                      everything else (once; default always_on)
//   action   = "always_on" | "always_off"
//            | "ratio:" P                     trace-id ratio, 0 <= P <= 1
//            | "rate:" N                      at most N spans per second, N >= 0
//            | "adaptive:" T [":" MIN [":" MAX]]
//                                             about T per second, ratio within
//                                             [MIN, MAX] (default 0.0001, 1)
//
// Whitespace around the parts is ignored; empty rules (";;") are skipped.
// The error rule takes the same actions (rate:5 exports at most five error
// spans per second).
//
// Example (one health check per second, every error, a tenth of the rest):
//
//   OTEL_TRACES_SAMPLER=tracebridge_rules
//   OTEL_TRACES_SAMPLER_ARG="route:/healthz=rate:1;error=always_on;default=ratio:0.1"
//
// Example (the same in code):
//
//   tracebridge::SamplingRules rules;
//   rules.rules.push_back({tracebridge::RuleField::kHttpRoute, "/healthz",
//                          tracebridge::RateLimitingSampler(1)});
//   rules.errors = tracebridge::AlwaysOnSampler();
//   rules.fallback = tracebridge::TraceIdRatioSampler(0.1);
//   std::shared_ptr<tracebridge::Sampler> sampler =
//       tracebridge::RuleBasedSampler(std::move(rules));

#ifndef TRACEBRIDGE_CORE_TRACE_RULE_SAMPLER_H_
#define TRACEBRIDGE_CORE_TRACE_RULE_SAMPLER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tracebridge/core/trace/sampler.h"

namespace tracebridge {

// Which part of a span a rule's pattern is matched against.
enum class RuleField : uint8_t {
  kHttpRoute,  // SpanTarget::http_route
  kRpcMethod,  // SpanTarget::rpc_method
  kSpanName,   // the span's name
};

struct SamplingRule {
  RuleField field = RuleField::kSpanName;
  std::string pattern;
  // Decides for the spans this rule selects; null drops them.
  std::shared_ptr<Sampler> sampler;
};

struct SamplingRules {
  // In order; the first match decides.
  std::vector<SamplingRule> rules;
  // For spans no rule selects; null means AlwaysOn.
  std::shared_ptr<Sampler> fallback;
  // Exports error spans the other rules dropped (see the file comment);
  // null: none.
  std::shared_ptr<Sampler> errors;
};

// Bounds of the text form.
inline constexpr size_t kMaxSamplingRules = 64;
inline constexpr size_t kMaxSamplingRulesText = 4096;

std::shared_ptr<Sampler> RuleBasedSampler(SamplingRules rules);

// The parent-based form: a root span follows the rules; a span with a
// sampled parent is sampled; a span with a parent that is not sampled is
// dropped, unless there is an error rule, in which case it is record-only
// and exported if it ends in error (ErrorSpansSampler(rules.errors)).
std::shared_ptr<Sampler> ParentBasedRuleSampler(SamplingRules rules);

// Parses the text form. InvalidArgument naming the rule and what is wrong.
absl::StatusOr<SamplingRules> ParseSamplingRules(absl::string_view text);

// Parses one action ("always_on", "ratio:0.1", "rate:5", "adaptive:100:0.01:1").
absl::StatusOr<std::shared_ptr<Sampler>> ParseSamplerAction(absl::string_view action);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_TRACE_RULE_SAMPLER_H_
