// File: tracebridge/core/trace/sampler.h
//
// Samplers decide, when a span starts, whether its trace is recorded and
// exported. The decision is made before any clock is read or anything is
// allocated, so an unsampled span costs almost nothing.
//
// Decision rules:
// - AlwaysOn / AlwaysOff: every span sampled / none.
// - TraceIdRatioBased(p): sampled when the trace id's rightmost 56 bits, read
//   as an unsigned number R, satisfy R >= (1 - p) * 2^56. Deterministic in the
//   trace id, so every service configured with the same p agrees (the
//   W3C level 2 "random" part of the id and OpenTelemetry's consistent
//   threshold rule).
// - ParentBased(root, ...): a span with a parent follows one of four
//   samplers, chosen by whether the parent is remote or local and sampled or
//   not (defaults: follow the parent's sampled flag); a root span asks `root`.
// - RateLimiting(n): at most n sampled traces per second on average, bursts
//   of up to max(1, n) (a lock-free generic cell rate algorithm).
// - Adaptive(target, min, max): a trace-id ratio sampler whose ratio is
//   re-estimated every second so that the sampled traces per second approach
//   `target`: ratio_next = clamp(0.5 * ratio + 0.5 * target / candidates_per_second,
//   min, max). Halving the step keeps the ratio from oscillating when traffic
//   swings.
// - ErrorSpans(admit): records every span without sampling it; a span that
//   ends with error status is exported when `admit` agrees (see below).
// - Rule-based samplers (per route, per method, errors) are in
//   core/trace/rule_sampler.h.
//
// Decisions: a sampler answers drop, record-and-sample, or record-only. A
// record-only span collects attributes and status like a sampled one, but
// its context says "not sampled" (the W3C sampled flag goes out as 0), and
// when it ends its sampler's `SpanEndDecider` decides whether it is exported
// after all. That is how "every error" can be sampled although an error is
// only known at the end: the decision already sent downstream stays "not
// sampled", so services called meanwhile follow their own configuration, and
// the exported span keeps sampled = 0 in its flags.
//
// Samplers are thread-safe and never block.
//
// Example:
//
//   std::shared_ptr<tracebridge::Sampler> sampler =
//       tracebridge::ParentBasedSampler(tracebridge::TraceIdRatioSampler(0.1));

#ifndef TRACEBRIDGE_CORE_TRACE_SAMPLER_H_
#define TRACEBRIDGE_CORE_TRACE_SAMPLER_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "tracebridge/core/trace/ids.h"
#include "tracebridge/core/trace/span_context.h"
#include "tracebridge/core/trace/span_data.h"

namespace tracebridge {

// What a span is for, as the instrumentation knows it, so that a sampler can
// tell a health check from an order. The gRPC interceptors set `rpc_method`,
// the traced Pistache router `http_method` and `http_route`; spans started
// by hand leave them empty unless the caller sets them.
struct SpanTarget {
  // The gRPC full method, "/pkg.Service/Method".
  absl::string_view rpc_method;
  // The HTTP request method ("GET").
  absl::string_view http_method;
  // The HTTP route template ("/orders/:id"); empty when no route matched.
  absl::string_view http_route;
};

// What a sampler sees.
struct SamplingParams {
  // The parent's context; invalid for a root span.
  const SpanContext& parent;
  // The trace id the span will have (the parent's, or a new one).
  const TraceId& trace_id;
  absl::string_view name;
  SpanKind kind;
  SpanTarget target = {};
};

// What happens to a span, decided when it starts (see the file comment).
enum class SamplingDecision : uint8_t {
  kDrop,             // not recorded, not sampled
  kRecordOnly,       // recorded, not sampled; exported only if `at_end` agrees
  kRecordAndSample,  // recorded, sampled, exported
};

// Decides, when a record-only span ends, whether it is exported after all.
class SpanEndDecider {
 public:
  virtual ~SpanEndDecider() = default;
  // True to export `span` (ended; its status is final). Thread-safe; never
  // blocks.
  virtual bool ExportAtEnd(const SpanData& span) noexcept = 0;
};

struct SamplingResult {
  SamplingDecision decision = SamplingDecision::kDrop;
  // For kRecordOnly: asked when the span ends (null: never exported). Owned
  // by the sampler, which outlives its spans (it lives as long as the tracer).
  SpanEndDecider* at_end = nullptr;
};

class Sampler {
 public:
  virtual ~Sampler() = default;

  // True to record and export the span. Thread-safe; never blocks.
  virtual bool ShouldSample(const SamplingParams& params) noexcept = 0;

  // The full decision, which the tracer asks for. The default is
  // record-and-sample when `ShouldSample` says so, drop otherwise; samplers
  // that keep record-only spans override it.
  virtual SamplingResult Sample(const SamplingParams& params) noexcept {
    return {ShouldSample(params) ? SamplingDecision::kRecordAndSample : SamplingDecision::kDrop,
            nullptr};
  }

  // A stable human-readable description, e.g. "TraceIdRatioBased{0.250000}".
  virtual std::string Description() const = 0;
};

std::shared_ptr<Sampler> AlwaysOnSampler();
std::shared_ptr<Sampler> AlwaysOffSampler();

// `ratio` is clamped to [0, 1].
std::shared_ptr<Sampler> TraceIdRatioSampler(double ratio);

// The four delegates of a parent-based sampler; null means "follow the
// parent's sampled flag" (AlwaysOn for sampled parents, AlwaysOff otherwise).
struct ParentBasedOptions {
  std::shared_ptr<Sampler> remote_parent_sampled;
  std::shared_ptr<Sampler> remote_parent_not_sampled;
  std::shared_ptr<Sampler> local_parent_sampled;
  std::shared_ptr<Sampler> local_parent_not_sampled;
};
std::shared_ptr<Sampler> ParentBasedSampler(std::shared_ptr<Sampler> root,
                                            ParentBasedOptions options = {});

// At most `traces_per_second` sampled spans per second (use it as the root of
// a parent-based sampler to limit new traces). Non-positive: samples nothing.
std::shared_ptr<Sampler> RateLimitingSampler(double traces_per_second);

// Steers toward `target_per_second` sampled spans, with the ratio kept within
// [min_ratio, max_ratio]; starts at max_ratio.
std::shared_ptr<Sampler> AdaptiveSampler(double target_per_second, double min_ratio = 0.0001,
                                         double max_ratio = 1.0);

// Records every span without sampling it (record-only); a span that ends
// with error status is exported when `admit` samples it (by its trace id,
// name and kind): AlwaysOnSampler() exports every error span,
// RateLimitingSampler(n) at most n per second. Null `admit` means AlwaysOn.
// Use it for the not-sampled-parent delegates of a parent-based sampler, so
// that failures inside traces someone else chose not to sample still show.
// Every span it sees allocates its record, sampled or not.
std::shared_ptr<Sampler> ErrorSpansSampler(std::shared_ptr<Sampler> admit);

// The attribute (bool true) an exported record-only span carries.
inline constexpr absl::string_view kSampledAtEndAttribute = "tracebridge.sampled_at_end";

namespace internal {
// Test hook: an adaptive sampler whose clock is `now_nanos` (monotonic ns).
std::shared_ptr<Sampler> AdaptiveSamplerWithClock(double target_per_second, double min_ratio,
                                                  double max_ratio, int64_t (*now_nanos)());
std::shared_ptr<Sampler> RateLimitingSamplerWithClock(double traces_per_second,
                                                      int64_t (*now_nanos)());
}  // namespace internal

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_TRACE_SAMPLER_H_
