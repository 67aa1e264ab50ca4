// File: tracebridge/core/trace/span_context.h
//
// `SpanContext`: the part of a span that crosses process boundaries: trace id,
// span id, W3C trace flags, the vendor `TraceState`, and whether it came from
// another process. A small value type; copying it copies the trace state by
// reference count, never its text.
//
// Example:
//
//   tracebridge::SpanContext parent(trace_id, span_id, tracebridge::TraceFlags::Sampled(),
//                                    /*is_remote=*/true);
//   if (parent.IsValid() && parent.IsSampled()) { ... }

#ifndef TRACEBRIDGE_CORE_TRACE_SPAN_CONTEXT_H_
#define TRACEBRIDGE_CORE_TRACE_SPAN_CONTEXT_H_

#include <cstdint>
#include <utility>

#include "tracebridge/core/trace/baggage.h"
#include "tracebridge/core/trace/ids.h"
#include "tracebridge/core/trace/trace_state.h"

namespace tracebridge {

// The W3C trace-flags byte. Bit 0 is `sampled`; bit 1 is `random` (Trace
// Context level 2: the trace id's rightmost 7 bytes are random). Other bits are
// carried as received; a format that defines them re-emits them, while the W3C
// propagator writes version 00, which reserves them, so it sends them as zero.
class TraceFlags final {
 public:
  static constexpr uint8_t kSampled = 0x01;
  static constexpr uint8_t kRandom = 0x02;

  constexpr TraceFlags() noexcept = default;
  constexpr explicit TraceFlags(uint8_t bits) noexcept : bits_(bits) {}

  // Sampled with the random bit set: what a new local trace carries.
  static constexpr TraceFlags Sampled() noexcept { return TraceFlags(kSampled | kRandom); }

  constexpr bool IsSampled() const noexcept { return (bits_ & kSampled) != 0; }
  constexpr bool IsRandom() const noexcept { return (bits_ & kRandom) != 0; }
  constexpr uint8_t bits() const noexcept { return bits_; }

  // A copy with the sampled bit set to `sampled`.
  constexpr TraceFlags WithSampled(bool sampled) const noexcept {
    return TraceFlags(sampled ? (bits_ | kSampled) : (bits_ & ~kSampled));
  }

  friend constexpr bool operator==(TraceFlags a, TraceFlags b) noexcept {
    return a.bits_ == b.bits_;
  }
  friend constexpr bool operator!=(TraceFlags a, TraceFlags b) noexcept { return !(a == b); }

 private:
  uint8_t bits_ = 0;
};

// Identifies one span within one trace, as propagated between processes.
class SpanContext final {
 public:
  // The invalid context: no trace.
  SpanContext() noexcept = default;

  SpanContext(const TraceId& trace_id, const SpanId& span_id, TraceFlags flags, bool is_remote,
              TraceState trace_state = TraceState()) noexcept
      : trace_id_(trace_id),
        span_id_(span_id),
        trace_state_(std::move(trace_state)),
        flags_(flags),
        is_remote_(is_remote) {}

  static SpanContext GetInvalid() noexcept { return SpanContext(); }

  const TraceId& trace_id() const noexcept { return trace_id_; }
  const SpanId& span_id() const noexcept { return span_id_; }
  TraceFlags trace_flags() const noexcept { return flags_; }
  const TraceState& trace_state() const noexcept { return trace_state_; }

  // True when both ids are valid (non-zero).
  bool IsValid() const noexcept { return trace_id_.IsValid() && span_id_.IsValid(); }
  bool IsSampled() const noexcept { return flags_.IsSampled(); }

  // True when this context was extracted from a carrier (another process).
  bool IsRemote() const noexcept { return is_remote_; }

  // B3 `d` / Jaeger debug: the caller forced sampling; carried forward so the
  // formats that know the flag can re-emit it. Not part of the W3C byte.
  bool IsDebug() const noexcept { return debug_; }
  SpanContext WithDebug(bool debug) const noexcept {
    SpanContext copy = *this;
    copy.debug_ = debug;
    return copy;
  }

  // A copy carrying `trace_state` instead.
  SpanContext WithTraceState(TraceState trace_state) const noexcept {
    SpanContext copy = *this;
    copy.trace_state_ = std::move(trace_state);
    return copy;
  }

  // Equal ids, flags, remoteness, debug and trace state.
  friend bool operator==(const SpanContext& a, const SpanContext& b) noexcept {
    return a.trace_id_ == b.trace_id_ && a.span_id_ == b.span_id_ && a.flags_ == b.flags_ &&
           a.is_remote_ == b.is_remote_ && a.debug_ == b.debug_ && a.trace_state_ == b.trace_state_;
  }
  friend bool operator!=(const SpanContext& a, const SpanContext& b) noexcept { return !(a == b); }

 private:
  TraceId trace_id_;
  SpanId span_id_;
  TraceState trace_state_;
  TraceFlags flags_;
  bool is_remote_ = false;
  bool debug_ = false;
};

// What crosses a process boundary with a request: the caller's span context
// (invalid when none) and its baggage. Propagators (core/propagation) read it
// from and write it to headers and metadata.
struct PropagatedContext {
  SpanContext span_context;
  Baggage baggage;
  // Baggage members the propagators read but could not keep: malformed ones,
  // and ones past the W3C bounds (64 members, 8192 bytes). Counted here so
  // the door can report them (`Telemetry::Extract`); never sent on.
  uint32_t baggage_dropped_invalid = 0;
  uint32_t baggage_dropped_over_limit = 0;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_TRACE_SPAN_CONTEXT_H_
