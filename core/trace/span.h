// File: tracebridge/core/trace/span.h
//
// `Span`, the handle an instrumented operation holds while it runs, and the
// current-span scope.
//
// A `Span` comes from `Tracer::StartSpan`. When the sampler keeps the trace it
// is *recording*: attributes, events, links and status go into a `SpanData`
// that reaches the tracer's processor when the span ends. Otherwise it is a
// null object: it carries a valid `SpanContext` (so the trace id and the
// not-sampled decision still propagate) but allocates nothing and every
// mutator returns at once.
//
// A sampler may also make a span *record-only*: it records like a sampled
// span while its context says "not sampled", and is exported at its end only
// if the sampler then agrees (see core/trace/sampler.h).
//
// A span is meant to be driven by one thread at a time; hand it to another
// thread with the usual happens-before (a queue, a future). It ends when
// `End()` is called or, at the latest, when the handle is destroyed. Spans
// must end before the `Tracer` that started them is destroyed.
//
// `Scope` makes a span (and the baggage that travels with it) *current* on
// this thread until the scope is destroyed; scopes nest and restore the
// previous span. Instrumentation that starts a child without an explicit
// parent uses the current span.
//
// Example:
//
//   tracebridge::Span span = tracer.StartSpan("load-order");
//   tracebridge::Scope scope(span);
//   span.SetAttribute("order.id", order_id);
//   if (!found) span.SetStatus(tracebridge::StatusCode::kError, "not found");
//   // span ends when it goes out of scope (or at span.End())

#ifndef TRACEBRIDGE_CORE_TRACE_SPAN_H_
#define TRACEBRIDGE_CORE_TRACE_SPAN_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/string_view.h"
#include "tracebridge/core/trace/baggage.h"
#include "tracebridge/core/trace/sampler.h"
#include "tracebridge/core/trace/span_context.h"
#include "tracebridge/core/trace/span_data.h"

namespace tracebridge {

// Attributes checked once for many spans: keys and string values repaired
// (core/util/utf8.h) and a repeated key kept once, with its last value, so
// that `Span::SetAttributes` copies them into each span without checking
// them again. For instrumentation whose spans all start with the same
// attributes (an RPC method's `rpc.system`, `rpc.service`, `rpc.method`).
//
// Example:
//
//   const tracebridge::PreparedAttributes method_attributes(
//       {{"rpc.system", std::string("grpc")}, {"rpc.service", std::string("pkg.Orders")}});
//   ...  // per call:
//   span.SetAttributes(method_attributes);
class PreparedAttributes final {
 public:
  PreparedAttributes() = default;
  explicit PreparedAttributes(std::vector<Attribute> attributes);

  const AttributeList& attributes() const noexcept { return attributes_; }
  // The longest key or string value, in bytes.
  size_t longest() const noexcept { return longest_; }
  // internal::KeyBit of every key, or-ed.
  uint64_t key_bits() const noexcept { return key_bits_; }
  // Names these contents (unique per constructed set; copies share it), so
  // a recycled span record can tell it holds them already.
  uint64_t id() const noexcept { return id_; }

 private:
  AttributeList attributes_;
  size_t longest_ = 0;
  uint64_t key_bits_ = 0;
  uint64_t id_ = 0;
};

namespace internal {
class TracerCore;

// One of 64 bits picked by a cheap hash of an attribute key (its length and
// last eight bytes). A span or-s the bits of the keys it holds, so setting a
// key whose bit is clear (most keys a span gets) skips the scan for an
// attribute with the same key. Equal keys always give the same bit.
inline uint64_t KeyBit(absl::string_view key) noexcept {
  uint64_t word = key.size();
  if (key.size() >= 8) {
    uint64_t tail;
    std::memcpy(&tail, key.data() + key.size() - 8, 8);
    word ^= tail;
  } else {
    for (char c : key) word = (word << 8) ^ static_cast<unsigned char>(c);
  }
  return uint64_t{1} << ((word * 0x9e3779b97f4a7c15ull) >> 58);
}

// Repairs ill-formed UTF-8 in the keys and string values of `attributes`
// and cuts them to `max_string_length` bytes (see core/util/utf8.h).
void MakeValidAttributes(std::vector<Attribute>* attributes, size_t max_string_length);
}  // namespace internal

class Span final {
 public:
  // A non-recording span with an invalid context (what `CurrentSpan()`
  // returns when no span is current).
  Span() noexcept = default;
  ~Span() { End(); }

  Span(Span&& other) noexcept;
  // Ends this span first, then takes over `other`.
  Span& operator=(Span&& other) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

  // Ids and flags; valid for every span a tracer started, recording or not.
  const SpanContext& context() const noexcept { return context_; }

  // True until `End()` for a sampled or record-only span; always false for a
  // null span.
  bool IsRecording() const noexcept { return data_ != nullptr; }

  // Sets (or replaces) an attribute. Beyond the tracer's limit new keys are
  // dropped and counted; long strings are cut at a UTF-8 boundary. Every
  // string a span takes in (name, attribute keys and values, event names and
  // attributes, link attributes, status description) is stored as valid
  // UTF-8: ill-formed sequences become U+FFFD (core/util/utf8.h).
  void SetAttribute(absl::string_view key, absl::string_view value) noexcept;
  void SetAttribute(absl::string_view key, const char* value) noexcept {
    SetAttribute(key, absl::string_view(value));
  }
  void SetAttribute(absl::string_view key, int64_t value) noexcept;
  void SetAttribute(absl::string_view key, int value) noexcept {
    SetAttribute(key, static_cast<int64_t>(value));
  }
  void SetAttribute(absl::string_view key, double value) noexcept;
  void SetAttribute(absl::string_view key, bool value) noexcept;

  // Sets each of `attributes`, as SetAttribute would one by one; on a span
  // that has no attributes yet, without checking them again.
  void SetAttributes(const PreparedAttributes& attributes) noexcept;

  // Adds a timestamped event (bounded; over the limit it is counted).
  void AddEvent(absl::string_view name, std::vector<Attribute> attributes = {}) noexcept;

  // Adds an event that happened at `monotonic_nanos` (a `MonotonicNanosNow()`
  // reading), for instrumentation that records events elsewhere and hands
  // them to the span later. Bounded like `AddEvent`.
  void AddEventAt(int64_t monotonic_nanos, absl::string_view name,
                  std::vector<Attribute> attributes = {}) noexcept;

  // Counts `count` events that were left out before they reached the span
  // (they show in `dropped_events`, as events over the limit do).
  void CountDroppedEvents(uint32_t count) noexcept;

  // Links another span context (bounded; invalid contexts are ignored).
  void AddLink(const SpanContext& context, std::vector<Attribute> attributes = {}) noexcept;

  // Sets the status. `kOk` is final; `kUnset` is ignored; the description is
  // kept for `kError` only.
  void SetStatus(StatusCode code, absl::string_view description = {}) noexcept;

  // Records a failure: an `exception` event with `exception.type` and
  // `exception.message`, and error status unless the status is already final.
  void RecordError(absl::string_view type, absl::string_view message) noexcept;

  // Replaces the name given at start.
  void UpdateName(absl::string_view name) noexcept;

  // Ends the span now and hands it to the processor. Later calls do nothing.
  void End() noexcept;
  // Ends the span at `end_monotonic_nanos` (a `MonotonicNanosNow()` the
  // caller read for its own use too, so one clock read serves both; a time
  // before the start counts as the start).
  void End(int64_t end_monotonic_nanos) noexcept;
  // When a recording span started (`MonotonicNanosNow()`); 0 when it records
  // nothing.
  int64_t start_monotonic_nanos() const noexcept {
    return data_ != nullptr ? start_monotonic_nanos_ : 0;
  }

  // The recorded data so far, or nullptr when not recording (for
  // instrumentation that reads back what it set).
  const SpanData* data() const noexcept { return data_.get(); }

 private:
  friend class internal::TracerCore;
  Span(SpanContext context, std::unique_ptr<SpanData> data, int64_t start_monotonic_nanos,
       internal::TracerCore* tracer) noexcept
      : context_(std::move(context)),
        data_(std::move(data)),
        start_monotonic_nanos_(start_monotonic_nanos),
        tracer_(tracer) {}

  // The attribute to store `key`'s value in: the one with that key, else a
  // new one (null past the attribute limit, counted as dropped).
  Attribute* AttributeFor(absl::string_view key) noexcept;
  Attribute* AttributeForRepaired(absl::string_view key) noexcept;

  SpanContext context_;
  std::unique_ptr<SpanData> data_;
  int64_t start_monotonic_nanos_ = 0;
  internal::TracerCore* tracer_ = nullptr;
  // internal::KeyBit of every attribute key stored so far, or-ed.
  uint64_t key_bits_ = 0;
  // Decides at End whether a record-only span is exported (sampler.h).
  SpanEndDecider* at_end_ = nullptr;
};

// Makes `span` and `baggage` current on this thread for the scope's lifetime.
// Scopes must be destroyed on the thread that created them, in reverse order;
// debug builds abort with a message when one is not, release builds leave the
// current span untouched rather than restore the wrong one.
class Scope final {
 public:
  // Keeps the current baggage.
  explicit Scope(Span& span) noexcept;
  Scope(Span& span, Baggage baggage) noexcept;
  ~Scope();

  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  friend Span& CurrentSpan() noexcept;
  friend const Baggage& CurrentBaggage() noexcept;

  Span* span_;
  Baggage baggage_;
  const Scope* previous_;
  std::thread::id thread_;
};

// The innermost current span on this thread, or a non-recording span with an
// invalid context when there is none.
Span& CurrentSpan() noexcept;

// The baggage of the innermost scope on this thread (empty when none).
const Baggage& CurrentBaggage() noexcept;

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_TRACE_SPAN_H_
