#include "tracebridge/core/trace/rule_sampler.h"

#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tracebridge/core/util/name_filter.h"

namespace tracebridge {
namespace {

absl::string_view FieldValue(const SamplingParams& params, RuleField field) noexcept {
  switch (field) {
    case RuleField::kHttpRoute:
      return params.target.http_route;
    case RuleField::kRpcMethod:
      return params.target.rpc_method;
    case RuleField::kSpanName:
      return params.name;
  }
  return {};
}

absl::string_view SelectorName(RuleField field) {
  switch (field) {
    case RuleField::kHttpRoute:
      return "route:";
    case RuleField::kRpcMethod:
      return "method:";
    case RuleField::kSpanName:
      return "name:";
  }
  return "";
}

class RuleBased final : public Sampler {
 public:
  explicit RuleBased(SamplingRules rules)
      : rules_(std::move(rules.rules)),
        fallback_(rules.fallback ? std::move(rules.fallback) : AlwaysOnSampler()),
        errors_(rules.errors ? ErrorSpansSampler(rules.errors) : nullptr) {
    for (SamplingRule& rule : rules_) {
      if (rule.sampler == nullptr) rule.sampler = AlwaysOffSampler();
    }
  }

  bool ShouldSample(const SamplingParams& params) noexcept override {
    return Sample(params).decision == SamplingDecision::kRecordAndSample;
  }

  SamplingResult Sample(const SamplingParams& params) noexcept override {
    Sampler* chosen = fallback_.get();
    for (const SamplingRule& rule : rules_) {
      const absl::string_view value = FieldValue(params, rule.field);
      if (!value.empty() && MatchesNamePattern(rule.pattern, value)) {
        chosen = rule.sampler.get();
        break;
      }
    }
    SamplingResult result = chosen->Sample(params);
    if (result.decision == SamplingDecision::kDrop && errors_ != nullptr) {
      return errors_->Sample(params);
    }
    return result;
  }

  std::string Description() const override {
    std::vector<std::string> parts;
    for (const SamplingRule& rule : rules_) {
      parts.push_back(
          absl::StrCat(SelectorName(rule.field), rule.pattern, "=", rule.sampler->Description()));
    }
    if (errors_ != nullptr) parts.push_back(absl::StrCat("error=", errors_->Description()));
    parts.push_back(absl::StrCat("default=", fallback_->Description()));
    return absl::StrCat("Rules{", absl::StrJoin(parts, ";"), "}");
  }

 private:
  std::vector<SamplingRule> rules_;
  const std::shared_ptr<Sampler> fallback_;
  const std::shared_ptr<Sampler> errors_;
};

// A finite number in [min, max], or an error naming `what`.
absl::StatusOr<double> ParseNumber(absl::string_view text, absl::string_view what, double min,
                                   double max) {
  double value = 0;
  text = absl::StripAsciiWhitespace(text);
  if (!absl::SimpleAtod(text, &value) || !std::isfinite(value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " \"", text, "\" is not a number in [", min, ", ", max, "]"));
  }
  return value;
}

}  // namespace

std::shared_ptr<Sampler> RuleBasedSampler(SamplingRules rules) {
  return std::make_shared<RuleBased>(std::move(rules));
}

std::shared_ptr<Sampler> ParentBasedRuleSampler(SamplingRules rules) {
  ParentBasedOptions options;
  if (rules.errors != nullptr) {
    std::shared_ptr<Sampler> errors = ErrorSpansSampler(rules.errors);
    options.remote_parent_not_sampled = errors;
    options.local_parent_not_sampled = errors;
  }
  return ParentBasedSampler(RuleBasedSampler(std::move(rules)), std::move(options));
}

absl::StatusOr<std::shared_ptr<Sampler>> ParseSamplerAction(absl::string_view action) {
  action = absl::StripAsciiWhitespace(action);
  if (action == "always_on") return AlwaysOnSampler();
  if (action == "always_off") return AlwaysOffSampler();
  const size_t colon = action.find(':');
  const absl::string_view kind = action.substr(0, colon);
  const absl::string_view arg =
      colon == absl::string_view::npos ? absl::string_view() : action.substr(colon + 1);
  if (colon != absl::string_view::npos && kind == "ratio") {
    absl::StatusOr<double> ratio = ParseNumber(arg, "ratio", 0, 1);
    if (!ratio.ok()) return ratio.status();
    return TraceIdRatioSampler(*ratio);
  }
  if (colon != absl::string_view::npos && kind == "rate") {
    absl::StatusOr<double> rate = ParseNumber(arg, "rate (spans per second)", 0, 1e9);
    if (!rate.ok()) return rate.status();
    return RateLimitingSampler(*rate);
  }
  if (colon != absl::string_view::npos && kind == "adaptive") {
    const std::vector<absl::string_view> parts = absl::StrSplit(arg, ':');
    if (parts.size() > 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("adaptive takes TARGET[:MIN[:MAX]], not \"", arg, "\""));
    }
    absl::StatusOr<double> target = ParseNumber(parts[0], "adaptive target", 1e-9, 1e9);
    if (!target.ok()) return target.status();
    double bounds[2] = {0.0001, 1.0};
    for (size_t i = 1; i < parts.size(); ++i) {
      absl::StatusOr<double> bound =
          ParseNumber(parts[i], i == 1 ? "adaptive min ratio" : "adaptive max ratio", 0, 1);
      if (!bound.ok()) return bound.status();
      bounds[i - 1] = *bound;
    }
    if (bounds[0] > bounds[1]) {
      return absl::InvalidArgumentError(
          absl::StrCat("adaptive min ratio ", bounds[0], " is above the max ratio ", bounds[1]));
    }
    return AdaptiveSampler(*target, bounds[0], bounds[1]);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown action \"", action,
                   "\" (known: always_on, always_off, ratio:P, rate:N, adaptive:T[:MIN[:MAX]])"));
}

absl::StatusOr<SamplingRules> ParseSamplingRules(absl::string_view text) {
  if (text.size() > kMaxSamplingRulesText) {
    return absl::InvalidArgumentError(absl::StrCat("sampling rules are ", text.size(),
                                                   " bytes; at most ", kMaxSamplingRulesText));
  }
  SamplingRules rules;
  bool has_default = false;
  bool has_error = false;
  size_t index = 0;
  for (absl::string_view rule : absl::StrSplit(text, ';')) {
    rule = absl::StripAsciiWhitespace(rule);
    if (rule.empty()) continue;
    ++index;
    auto fail = [&](absl::string_view problem) {
      return absl::InvalidArgumentError(
          absl::StrCat("sampling rule ", index, " (\"", rule, "\"): ", problem));
    };
    if (index > kMaxSamplingRules)
      return fail(absl::StrCat("at most ", kMaxSamplingRules, " rules"));
    // Patterns may hold ':' (route parameters), actions never hold '='.
    const size_t eq = rule.rfind('=');
    if (eq == absl::string_view::npos) return fail("expected SELECTOR=ACTION");
    const absl::string_view selector = absl::StripAsciiWhitespace(rule.substr(0, eq));
    absl::StatusOr<std::shared_ptr<Sampler>> action = ParseSamplerAction(rule.substr(eq + 1));
    if (!action.ok()) return fail(action.status().message());
    if (selector == "default" || selector == "error") {
      bool& seen = selector == "default" ? has_default : has_error;
      if (seen) return fail(absl::StrCat("a second \"", selector, "\" rule"));
      seen = true;
      (selector == "default" ? rules.fallback : rules.errors) = *std::move(action);
      continue;
    }
    SamplingRule parsed;
    absl::string_view pattern = selector;
    if (absl::ConsumePrefix(&pattern, "route:")) {
      parsed.field = RuleField::kHttpRoute;
    } else if (absl::ConsumePrefix(&pattern, "method:")) {
      parsed.field = RuleField::kRpcMethod;
    } else if (absl::ConsumePrefix(&pattern, "name:")) {
      parsed.field = RuleField::kSpanName;
    } else {
      return fail(absl::StrCat("unknown selector \"", selector,
                               "\" (known: route:PATTERN, method:PATTERN, name:PATTERN, error, "
                               "default)"));
    }
    pattern = absl::StripAsciiWhitespace(pattern);
    if (pattern.empty()) return fail("empty pattern");
    parsed.pattern = std::string(pattern);
    parsed.sampler = *std::move(action);
    rules.rules.push_back(std::move(parsed));
  }
  if (index == 0) return absl::InvalidArgumentError("sampling rules are empty");
  return rules;
}

}  // namespace tracebridge
