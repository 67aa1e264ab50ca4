#include "tracebridge/core/propagation/jaeger_propagator.h"

#include "tracebridge/core/propagation/propagation_internal.h"

namespace tracebridge {
namespace {

using propagation_internal::DecodeHexRightAligned;
using propagation_internal::SampledFlags;
using propagation_internal::SpanIdFromPaddedHex;
using propagation_internal::TraceIdFromPaddedHex;

constexpr absl::string_view kKey = "uber-trace-id";
constexpr absl::string_view kFields[] = {kKey};

constexpr uint8_t kFlagSampled = 0x01;
constexpr uint8_t kFlagDebug = 0x02;

// Copies `value` to `out`, turning each `%3A`/`%3a` into `:`. Returns the
// decoded length, or -1 for any other `%` sequence. `out` holds at least
// `value.size()` bytes.
int DecodeSeparators(absl::string_view value, char* out) noexcept {
  size_t size = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out[size++] = value[i];
      continue;
    }
    if (i + 2 >= value.size() || value[i + 1] != '3' ||
        (value[i + 2] != 'A' && value[i + 2] != 'a')) {
      return -1;
    }
    out[size++] = ':';
    i += 2;
  }
  return static_cast<int>(size);
}

}  // namespace

absl::string_view JaegerPropagator::Name() const noexcept { return "jaeger"; }

absl::Span<const absl::string_view> JaegerPropagator::Fields() const noexcept {
  return absl::MakeConstSpan(kFields);
}

bool JaegerPropagator::Parse(absl::string_view value, SpanContext* out) noexcept {
  if (value.size() > kMaxHeaderSize) return false;
  char buffer[kMaxHeaderSize];
  const int decoded_size = DecodeSeparators(value, buffer);
  if (decoded_size < 0) return false;
  const absl::string_view decoded(buffer, static_cast<size_t>(decoded_size));

  absl::string_view parts[4];
  size_t count = 0;
  size_t start = 0;
  for (size_t i = 0; i <= decoded.size(); ++i) {
    if (i != decoded.size() && decoded[i] != ':') continue;
    if (count == 4) return false;
    parts[count++] = decoded.substr(start, i - start);
    start = i + 1;
  }
  if (count != 4) return false;

  const TraceId trace_id = TraceIdFromPaddedHex(parts[0]);
  const SpanId span_id = SpanIdFromPaddedHex(parts[1]);
  if (!trace_id.IsValid() || !span_id.IsValid()) return false;
  uint8_t parent[SpanId::kSize];
  if (!DecodeHexRightAligned(parts[2], parent, sizeof(parent))) return false;
  uint8_t flags = 0;
  if (!DecodeHexRightAligned(parts[3], &flags, 1)) return false;

  const bool debug = (flags & kFlagDebug) != 0;
  const bool sampled = (flags & kFlagSampled) != 0 || debug;
  *out = SpanContext(trace_id, span_id, SampledFlags(sampled), /*is_remote=*/true).WithDebug(debug);
  return true;
}

size_t JaegerPropagator::Format(const SpanContext& context, char (&out)[kHeaderSize]) noexcept {
  if (!context.IsValid()) return 0;
  context.trace_id().ToHex(out);
  out[32] = ':';
  context.span_id().ToHex(out + 33);
  // The deprecated parent span id is always sent as 0.
  out[49] = ':';
  out[50] = '0';
  out[51] = ':';
  out[52] = context.IsDebug() ? '3' : (context.IsSampled() ? '1' : '0');
  return kHeaderSize;
}

void JaegerPropagator::Extract(const CarrierReader& carrier, PropagatedContext* context) const {
  bool found = false;
  const absl::string_view value = carrier.Get(kKey, &found);
  if (!found) return;
  SpanContext parsed;
  if (Parse(value, &parsed)) context->span_context = parsed;
}

void JaegerPropagator::Inject(const PropagatedContext& context, CarrierWriter* carrier) const {
  char value[kHeaderSize];
  const size_t size = Format(context.span_context, value);
  if (size != 0) carrier->Set(kKey, absl::string_view(value, size));
}

}  // namespace tracebridge
