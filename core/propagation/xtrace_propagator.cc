#include "tracebridge/core/propagation/xtrace_propagator.h"

#include "tracebridge/core/propagation/propagation_internal.h"

namespace tracebridge {
namespace {

constexpr absl::string_view kTraceIdKey = "x-trace-id";
constexpr absl::string_view kSpanIdKey = "x-span-id";
constexpr absl::string_view kFields[] = {kTraceIdKey, kSpanIdKey};

bool IsOws(char c) noexcept { return c == ' ' || c == '\t'; }

// Trims spaces and tabs, then copies the value lowercased into `out`
// (`capacity` bytes). Returns the length, or 0 when it does not fit: such a
// value is too long to be an id anyway.
size_t TrimAndFoldCase(absl::string_view value, char* out, size_t capacity) noexcept {
  size_t begin = 0;
  size_t end = value.size();
  while (begin < end && IsOws(value[begin])) ++begin;
  while (end > begin && IsOws(value[end - 1])) --end;
  if (end - begin > capacity) return 0;
  for (size_t i = begin; i < end; ++i) {
    const char c = value[i];
    out[i - begin] = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return end - begin;
}

}  // namespace

absl::string_view XTracePropagator::Name() const noexcept { return "xtrace"; }

absl::Span<const absl::string_view> XTracePropagator::Fields() const noexcept {
  return absl::MakeConstSpan(kFields);
}

bool XTracePropagator::Parse(absl::string_view trace_id, absl::string_view span_id, bool sampled,
                             SpanContext* out) noexcept {
  if (trace_id.size() > kMaxValueSize || span_id.size() > kMaxValueSize) return false;
  char trace_text[TraceId::kHexSize];
  char span_text[SpanId::kHexSize];
  const size_t trace_size = TrimAndFoldCase(trace_id, trace_text, sizeof(trace_text));
  const size_t span_size = TrimAndFoldCase(span_id, span_text, sizeof(span_text));
  if (trace_size != 16 && trace_size != 32) return false;
  if (span_size != 16) return false;

  const TraceId trace =
      propagation_internal::TraceIdFromPaddedHex(absl::string_view(trace_text, trace_size));
  const SpanId span = SpanId::FromHex(absl::string_view(span_text, span_size));
  if (!trace.IsValid() || !span.IsValid()) return false;
  *out = SpanContext(trace, span, propagation_internal::SampledFlags(sampled),
                     /*is_remote=*/true);
  return true;
}

bool XTracePropagator::Format(const SpanContext& context, Formatted* out) noexcept {
  if (!context.IsValid()) return false;
  context.trace_id().ToHex(out->trace_id);
  context.span_id().ToHex(out->span_id);
  return true;
}

void XTracePropagator::Extract(const CarrierReader& carrier, PropagatedContext* context) const {
  bool found = false;
  const absl::string_view trace_id = carrier.Get(kTraceIdKey, &found);
  if (!found) return;
  const absl::string_view span_id = carrier.Get(kSpanIdKey, &found);
  if (!found) return;
  SpanContext parsed;
  if (Parse(trace_id, span_id, options_.sampled, &parsed)) context->span_context = parsed;
}

void XTracePropagator::Inject(const PropagatedContext& context, CarrierWriter* carrier) const {
  Formatted formatted;
  if (!Format(context.span_context, &formatted)) return;
  carrier->Set(kTraceIdKey, absl::string_view(formatted.trace_id, sizeof(formatted.trace_id)));
  carrier->Set(kSpanIdKey, absl::string_view(formatted.span_id, sizeof(formatted.span_id)));
}

}  // namespace tracebridge
