// File: tracebridge/core/trace/tracer.h
//
// `Tracer` starts spans for one service: it picks the parent (explicit,
// current, or none), generates ids, asks the sampler, and hands ended sampled
// spans to its processor. It holds no global state; a `Telemetry` object owns
// one, or a test builds one directly.
//
// Threading: every method is thread-safe. The processor must outlive the
// tracer, and spans must end before the tracer is destroyed.
//
// Example:
//
//   tracebridge::Tracer tracer({.service_name = "orders",
//                               .sampler = tracebridge::AlwaysOnSampler(),
//                               .processor = &processor});
//   tracebridge::Span span = tracer.StartSpan("reserve", {.kind = tracebridge::SpanKind::kClient});

#ifndef TRACEBRIDGE_CORE_TRACE_TRACER_H_
#define TRACEBRIDGE_CORE_TRACE_TRACER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tracebridge/core/trace/sampler.h"
#include "tracebridge/core/trace/span.h"
#include "tracebridge/core/trace/span_context.h"
#include "tracebridge/core/trace/span_data.h"
#include "tracebridge/core/trace/span_processor.h"
#include "tracebridge/core/util/sharded_counter.h"

namespace tracebridge {

struct TracerOptions {
  std::string service_name = "unknown_service";
  // Null means AlwaysOn.
  std::shared_ptr<Sampler> sampler;
  // Not owned; null discards every span (sampling decisions still propagate).
  SpanProcessor* processor = nullptr;
  SpanLimits limits;
};

// How a new span finds its parent.
enum class ParentChoice : uint8_t {
  kCurrent,   // the current span on this thread, if any
  kExplicit,  // `StartSpanOptions::parent` (a root when it is invalid)
  kRoot,      // none: a new trace
};

struct StartSpanOptions {
  SpanKind kind = SpanKind::kInternal;
  ParentChoice parent_choice = ParentChoice::kCurrent;
  SpanContext parent;
  // Links recorded on the span if it is sampled.
  absl::Span<const SpanLink> links;
  // What the span is for (route, method), for the sampler.
  SpanTarget target;
};

// Counts for the span pipeline's self-metrics.
struct TracerStats {
  uint64_t spans_started = 0;  // sampled spans started
  uint64_t spans_ended = 0;    // sampled spans ended (handed to the processor)
  // Record-only spans (see sampler.h): started, and at their end exported
  // (handed to the processor) or discarded.
  uint64_t record_only_started = 0;
  uint64_t record_only_exported = 0;
  uint64_t record_only_discarded = 0;
};

namespace internal {

// What spans need from their tracer; separate from `Tracer` so `Span` can
// reach it without a dependency cycle.
class TracerCore {
 public:
  explicit TracerCore(TracerOptions options);

  Span Start(absl::string_view name, const StartSpanOptions& options) noexcept;
  // `at_end` decides for a record-only span (see sampler.h).
  void OnEnd(std::unique_ptr<SpanData> data, SpanEndDecider* at_end) noexcept;
  const SpanLimits& limits() const noexcept { return options_.limits; }
  const TracerOptions& options() const noexcept { return options_; }
  TracerStats Stats() const noexcept;

 private:
  TracerOptions options_;
  ShardedCounter started_;
  ShardedCounter ended_;
  ShardedCounter record_only_started_;
  ShardedCounter record_only_exported_;
  ShardedCounter record_only_discarded_;
};

}  // namespace internal

class Tracer final {
 public:
  explicit Tracer(TracerOptions options) : core_(std::move(options)) {}
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // Starts a span named `name`. Never throws; unsampled spans allocate nothing.
  Span StartSpan(absl::string_view name, const StartSpanOptions& options = {}) noexcept {
    return core_.Start(name, options);
  }

  // Starts the server span for an incoming request. A trusted caller's span
  // context becomes the parent. For an untrusted caller (`trusted` false) the
  // span starts a new trace and links the caller's context instead, so a
  // caller cannot choose our trace ids or sampling. The caller's baggage is
  // for the caller of this function to apply (see `IncomingBaggage`).
  // `target` tells the sampler which route or method the request is for.
  Span StartServerSpan(absl::string_view name, const PropagatedContext& incoming, bool trusted,
                       const SpanTarget& target = {}) noexcept;

  const std::string& service_name() const noexcept { return core_.options().service_name; }
  const Sampler& sampler() const noexcept { return *core_.options().sampler; }
  TracerStats Stats() const noexcept { return core_.Stats(); }

 private:
  internal::TracerCore core_;
};

// The baggage a server should make current for a request: the caller's when
// trusted, none otherwise.
inline Baggage IncomingBaggage(const PropagatedContext& incoming, bool trusted) {
  return trusted ? incoming.baggage : Baggage();
}

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_TRACE_TRACER_H_
