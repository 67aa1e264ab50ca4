// File: tracebridge/core/propagation/b3_propagator.h
//
// `B3Propagator`: Zipkin's B3 propagation (github.com/openzipkin/b3-propagation)
// in both encodings: the single `b3` header and the `x-b3-*` multi headers.
// One class serves both `OTEL_PROPAGATORS` names: "b3" injects the single
// header, "b3multi" the multi headers. Extraction always reads both; a valid
// single header wins over the multi headers, and an invalid or decision-only
// single header falls back to them.
//
// Accepted on extract:
// - trace id: 16 or 32 lowercase hex digits (16 are left-padded with zeros to
//   128 bits); span id and parent span id: 16 lowercase hex digits. Uppercase
//   hex and all-zero ids are invalid (B3 follows the lowercase convention).
// - single: `{trace}-{span}`, `{trace}-{span}-{state}`,
//   `{trace}-{span}-{state}-{parent}` with state `1`, `0` or `d`.
// - multi: `x-b3-traceid` and `x-b3-spanid` (both required),
//   `x-b3-parentspanid` (optional, validated, then ignored), `x-b3-sampled`
//   (`1`, `0`, `true`, `false`), `x-b3-flags` (`1` = debug, `0` = none). Any
//   other value for a present header makes the whole multi context invalid.
// - The parent span id is validated but not kept: the receiver's parent is the
//   caller's span id.
//
// Decisions the spec leaves open:
// - A sampling decision without ids (`b3: 0`, `b3: 1`, `b3: d`) yields no span
//   context, because `PropagatedContext` carries a decision only inside a
//   valid `SpanContext`: `*context` is left untouched, and the multi headers
//   are still tried. (OpenTelemetry reads a lone `0` as "not sampled, no
//   parent"; our sampler sees "no parent" and decides for itself.)
// - Ids without a sampling state (a deferred decision) extract as not sampled,
//   as OpenTelemetry does.
// - Debug (`d` / `x-b3-flags: 1`) implies sampled and is carried forward with
//   `SpanContext::WithDebug(true)`.
//
// Inject writes the 32-digit trace id, the span id and the sampling state:
// single `{trace}-{span}-{1|0|d}`; multi `x-b3-traceid`, `x-b3-spanid` and
// either `x-b3-sampled: 1|0` or, for debug, `x-b3-flags: 1` alone. A parent
// span id is never injected: the receiver does not need it, and the span
// that would be its parent is not the injected context.
//
// Thread safety: immutable after construction; share freely.
//
// Example:
//
//   tracebridge::B3Propagator b3;  // single header on inject
//   tracebridge::VectorCarrier headers;
//   headers.Set("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1");
//   tracebridge::PropagatedContext incoming;
//   b3.Extract(headers, &incoming);  // valid, sampled, remote

#ifndef TRACEBRIDGE_CORE_PROPAGATION_B3_PROPAGATOR_H_
#define TRACEBRIDGE_CORE_PROPAGATION_B3_PROPAGATOR_H_

#include <cstddef>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/propagation/propagator.h"
#include "tracebridge/core/trace/span_context.h"

namespace tracebridge {

class B3Propagator final : public Propagator {
 public:
  // Which headers `Inject` writes.
  enum class Encoding {
    kSingle,  // `b3`; Name() "b3"
    kMulti,   // `x-b3-*`; Name() "b3multi"
  };

  // The longest single header accepted: 32 + 16 + 1 + 16 digits, 3 dashes.
  // Longer values are rejected before any scanning.
  static constexpr size_t kMaxSingleHeaderSize = 68;

  // The size of a formatted single header: `{32 hex}-{16 hex}-{state}`.
  static constexpr size_t kSingleHeaderSize = 51;

  // The values of the multi headers, each absent (nullopt) or present
  // (possibly empty).
  struct MultiHeaders {
    absl::optional<absl::string_view> trace_id;        // x-b3-traceid
    absl::optional<absl::string_view> span_id;         // x-b3-spanid
    absl::optional<absl::string_view> parent_span_id;  // x-b3-parentspanid
    absl::optional<absl::string_view> sampled;         // x-b3-sampled
    absl::optional<absl::string_view> flags;           // x-b3-flags
  };

  // The multi-header form of one context, ready to write: the trace and span
  // ids, and one sampling header (`x-b3-sampled` or, for debug, `x-b3-flags`).
  struct FormattedMulti {
    char trace_id[32];
    char span_id[16];
    absl::string_view sampling_key;    // "x-b3-sampled" or "x-b3-flags"
    absl::string_view sampling_value;  // "1" or "0"
  };

  // An injector of `encoding` (single by default).
  explicit B3Propagator(Encoding encoding = Encoding::kSingle) noexcept : encoding_(encoding) {}

  Encoding encoding() const noexcept { return encoding_; }

  // "b3" or "b3multi", after the encoding.
  absl::string_view Name() const noexcept override;

  // Reads the single header, then (if it gave no context) the multi headers.
  void Extract(const CarrierReader& carrier, PropagatedContext* context) const override;

  // Writes this propagator's encoding; nothing for an invalid context.
  void Inject(const PropagatedContext& context, CarrierWriter* carrier) const override;

  // `b3` and the five `x-b3-*` keys, for either encoding (both are read).
  absl::Span<const absl::string_view> Fields() const noexcept override;

  // Parses a single `b3` header value. On success sets `*out` (remote) and
  // returns true. A decision-only value, or anything malformed, returns false
  // and leaves `*out` untouched. Allocation-free.
  static bool ParseSingle(absl::string_view value, SpanContext* out) noexcept;

  // Parses the multi headers, as `ParseSingle` does.
  static bool ParseMulti(const MultiHeaders& headers, SpanContext* out) noexcept;

  // Writes the single header for a valid `context` to `out` and returns its
  // length (always `kSingleHeaderSize`); returns 0 for an invalid context.
  static size_t FormatSingle(const SpanContext& context, char (&out)[kSingleHeaderSize]) noexcept;

  // Fills `*out` for a valid `context`; returns false for an invalid one.
  static bool FormatMulti(const SpanContext& context, FormattedMulti* out) noexcept;

 private:
  Encoding encoding_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_PROPAGATION_B3_PROPAGATOR_H_
