#include "tracebridge/core/propagation/grpc_trace_bin_propagator.h"

#include <cstring>

#include "tracebridge/core/propagation/propagation_internal.h"

namespace tracebridge {
namespace {

constexpr absl::string_view kKey = "grpc-trace-bin";
constexpr absl::string_view kFields[] = {kKey};

constexpr uint8_t kVersion = 0;
constexpr uint8_t kTraceIdField = 0;
constexpr uint8_t kSpanIdField = 1;
constexpr uint8_t kTraceOptionsField = 2;
constexpr uint8_t kSampledOption = 0x01;

}  // namespace

absl::string_view GrpcTraceBinPropagator::Name() const noexcept { return "grpc-trace-bin"; }

absl::Span<const absl::string_view> GrpcTraceBinPropagator::Fields() const noexcept {
  return absl::MakeConstSpan(kFields);
}

bool GrpcTraceBinPropagator::Parse(absl::string_view bytes, SpanContext* out) noexcept {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t size = bytes.size();
  if (size == 0 || data[0] != kVersion) return false;
  size_t pos = 1;

  // Trace id and span id are optional in the encoding but required for a
  // valid context, so their absence (an unknown id in their place) rejects.
  if (pos >= size || data[pos] != kTraceIdField || size - pos < 1 + TraceId::kSize) return false;
  const TraceId trace_id = TraceId::FromBytes(data + pos + 1);
  pos += 1 + TraceId::kSize;
  if (pos >= size || data[pos] != kSpanIdField || size - pos < 1 + SpanId::kSize) return false;
  const SpanId span_id = SpanId::FromBytes(data + pos + 1);
  pos += 1 + SpanId::kSize;

  uint8_t options = 0;
  if (pos < size && data[pos] == kTraceOptionsField) {
    if (size - pos < 2) return false;  // a known field cut short
    options = data[pos + 1];
  }
  // Anything after is a newer field this version does not know: ignored.

  if (!trace_id.IsValid() || !span_id.IsValid()) return false;
  *out = SpanContext(trace_id, span_id,
                     propagation_internal::SampledFlags((options & kSampledOption) != 0),
                     /*is_remote=*/true);
  return true;
}

bool GrpcTraceBinPropagator::Format(const SpanContext& context, uint8_t (&out)[kSize]) noexcept {
  if (!context.IsValid()) return false;
  out[0] = kVersion;
  out[1] = kTraceIdField;
  std::memcpy(out + 2, context.trace_id().bytes().data(), TraceId::kSize);
  out[18] = kSpanIdField;
  std::memcpy(out + 19, context.span_id().bytes().data(), SpanId::kSize);
  out[27] = kTraceOptionsField;
  out[28] = context.IsSampled() ? kSampledOption : 0;
  return true;
}

void GrpcTraceBinPropagator::Extract(const CarrierReader& carrier,
                                     PropagatedContext* context) const {
  bool found = false;
  const absl::string_view value = carrier.Get(kKey, &found);
  if (!found) return;
  SpanContext parsed;
  if (Parse(value, &parsed)) context->span_context = parsed;
}

void GrpcTraceBinPropagator::Inject(const PropagatedContext& context,
                                    CarrierWriter* carrier) const {
  uint8_t bytes[kSize];
  if (!Format(context.span_context, bytes)) return;
  carrier->Set(kKey, absl::string_view(reinterpret_cast<const char*>(bytes), kSize));
}

}  // namespace tracebridge
