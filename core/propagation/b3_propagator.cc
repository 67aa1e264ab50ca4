#include "tracebridge/core/propagation/b3_propagator.h"

#include "tracebridge/core/propagation/propagation_internal.h"

namespace tracebridge {
namespace {

using propagation_internal::GetOptional;
using propagation_internal::SampledFlags;
using propagation_internal::TraceIdFromPaddedHex;

constexpr absl::string_view kSingleKey = "b3";
constexpr absl::string_view kTraceIdKey = "x-b3-traceid";
constexpr absl::string_view kSpanIdKey = "x-b3-spanid";
constexpr absl::string_view kParentSpanIdKey = "x-b3-parentspanid";
constexpr absl::string_view kSampledKey = "x-b3-sampled";
constexpr absl::string_view kFlagsKey = "x-b3-flags";

constexpr absl::string_view kFields[] = {kSingleKey,       kTraceIdKey, kSpanIdKey,
                                         kParentSpanIdKey, kSampledKey, kFlagsKey};

// B3 trace ids are exactly 16 or 32 digits; other lengths are malformed even
// though right-aligned decoding could read them.
TraceId ParseTraceId(absl::string_view text) noexcept {
  if (text.size() != 16 && text.size() != 32) return TraceId();
  return TraceIdFromPaddedHex(text);
}

// A parent span id is checked for shape only; we do not keep it.
bool IsWellFormedSpanId(absl::string_view text) noexcept {
  uint8_t bytes[SpanId::kSize];
  return hex::Decode(text, bytes, sizeof(bytes));
}

SpanContext MakeContext(const TraceId& trace_id, const SpanId& span_id, bool sampled,
                        bool debug) noexcept {
  // Debug is a forced sampling decision, so it implies sampled.
  return SpanContext(trace_id, span_id, SampledFlags(sampled || debug), /*is_remote=*/true)
      .WithDebug(debug);
}

}  // namespace

absl::string_view B3Propagator::Name() const noexcept {
  return encoding_ == Encoding::kSingle ? "b3" : "b3multi";
}

absl::Span<const absl::string_view> B3Propagator::Fields() const noexcept {
  return absl::MakeConstSpan(kFields);
}

bool B3Propagator::ParseSingle(absl::string_view value, SpanContext* out) noexcept {
  // Bounding the size first keeps the work constant whatever the sender
  // puts in the header. A one-character value is a decision without ids.
  if (value.size() > kMaxSingleHeaderSize || value.size() < 2) return false;

  absl::string_view parts[4];
  size_t count = 0;
  size_t start = 0;
  for (size_t i = 0; i <= value.size(); ++i) {
    if (i != value.size() && value[i] != '-') continue;
    if (count == 4) return false;
    parts[count++] = value.substr(start, i - start);
    start = i + 1;
  }
  if (count < 2) return false;

  const TraceId trace_id = ParseTraceId(parts[0]);
  const SpanId span_id = SpanId::FromHex(parts[1]);
  if (!trace_id.IsValid() || !span_id.IsValid()) return false;

  bool sampled = false;
  bool debug = false;
  if (count >= 3) {
    const absl::string_view state = parts[2];
    if (state == "1") {
      sampled = true;
    } else if (state == "d") {
      debug = true;
    } else if (state != "0") {
      return false;
    }
  }
  if (count == 4 && !IsWellFormedSpanId(parts[3])) return false;

  *out = MakeContext(trace_id, span_id, sampled, debug);
  return true;
}

bool B3Propagator::ParseMulti(const MultiHeaders& headers, SpanContext* out) noexcept {
  if (!headers.trace_id.has_value() || !headers.span_id.has_value()) return false;
  const TraceId trace_id = ParseTraceId(*headers.trace_id);
  const SpanId span_id = SpanId::FromHex(*headers.span_id);
  if (!trace_id.IsValid() || !span_id.IsValid()) return false;
  if (headers.parent_span_id.has_value() && !IsWellFormedSpanId(*headers.parent_span_id)) {
    return false;
  }

  bool sampled = false;
  if (headers.sampled.has_value()) {
    const absl::string_view value = *headers.sampled;
    if (value == "1" || value == "true") {
      sampled = true;
    } else if (value != "0" && value != "false") {
      return false;
    }
  }
  bool debug = false;
  if (headers.flags.has_value()) {
    const absl::string_view value = *headers.flags;
    if (value == "1") {
      debug = true;
    } else if (value != "0") {
      return false;
    }
  }

  *out = MakeContext(trace_id, span_id, sampled, debug);
  return true;
}

size_t B3Propagator::FormatSingle(const SpanContext& context,
                                  char (&out)[kSingleHeaderSize]) noexcept {
  if (!context.IsValid()) return 0;
  context.trace_id().ToHex(out);
  out[32] = '-';
  context.span_id().ToHex(out + 33);
  out[49] = '-';
  out[50] = context.IsDebug() ? 'd' : (context.IsSampled() ? '1' : '0');
  return kSingleHeaderSize;
}

bool B3Propagator::FormatMulti(const SpanContext& context, FormattedMulti* out) noexcept {
  if (!context.IsValid()) return false;
  context.trace_id().ToHex(out->trace_id);
  context.span_id().ToHex(out->span_id);
  // The spec sends debug as `x-b3-flags: 1` instead of `x-b3-sampled`.
  if (context.IsDebug()) {
    out->sampling_key = kFlagsKey;
    out->sampling_value = "1";
  } else {
    out->sampling_key = kSampledKey;
    out->sampling_value = context.IsSampled() ? "1" : "0";
  }
  return true;
}

void B3Propagator::Extract(const CarrierReader& carrier, PropagatedContext* context) const {
  SpanContext parsed;
  bool found = false;
  const absl::string_view single = carrier.Get(kSingleKey, &found);
  if (found && ParseSingle(single, &parsed)) {
    context->span_context = parsed;
    return;
  }
  MultiHeaders headers;
  headers.trace_id = GetOptional(carrier, kTraceIdKey);
  headers.span_id = GetOptional(carrier, kSpanIdKey);
  if (!headers.trace_id.has_value() || !headers.span_id.has_value()) return;
  headers.parent_span_id = GetOptional(carrier, kParentSpanIdKey);
  headers.sampled = GetOptional(carrier, kSampledKey);
  headers.flags = GetOptional(carrier, kFlagsKey);
  if (ParseMulti(headers, &parsed)) context->span_context = parsed;
}

void B3Propagator::Inject(const PropagatedContext& context, CarrierWriter* carrier) const {
  if (encoding_ == Encoding::kSingle) {
    char header[kSingleHeaderSize];
    const size_t size = FormatSingle(context.span_context, header);
    if (size != 0) carrier->Set(kSingleKey, absl::string_view(header, size));
    return;
  }
  FormattedMulti multi;
  if (!FormatMulti(context.span_context, &multi)) return;
  carrier->Set(kTraceIdKey, absl::string_view(multi.trace_id, sizeof(multi.trace_id)));
  carrier->Set(kSpanIdKey, absl::string_view(multi.span_id, sizeof(multi.span_id)));
  carrier->Set(multi.sampling_key, multi.sampling_value);
}

}  // namespace tracebridge
