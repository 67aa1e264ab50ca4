// File: tracebridge/core/propagation/propagation_internal.h
//
// Small allocation-free helpers shared by the non-W3C propagators (B3,
// Jaeger, grpc-trace-bin, X-Trace-ID). Internal to `core/`: the target is not
// visible outside the package, and nothing here is a public contract.

#ifndef TRACEBRIDGE_CORE_PROPAGATION_PROPAGATION_INTERNAL_H_
#define TRACEBRIDGE_CORE_PROPAGATION_PROPAGATION_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "tracebridge/core/propagation/carrier.h"
#include "tracebridge/core/trace/hex.h"
#include "tracebridge/core/trace/ids.h"
#include "tracebridge/core/trace/span_context.h"

namespace tracebridge {
namespace propagation_internal {

// Decodes 1 to 2 * `size` lowercase hex digits into `out`, right-aligned:
// digits missing on the left are zeros. That is how B3 widens a 64-bit trace
// id and how Jaeger clients that drop leading zeros ("%x") are read. Returns
// false (with `out` partly written) on an empty, too long or non-hex input.
inline bool DecodeHexRightAligned(absl::string_view text, uint8_t* out, size_t size) noexcept {
  if (text.empty() || text.size() > 2 * size) return false;
  std::memset(out, 0, size);
  size_t byte = size;
  bool low_nibble = true;
  for (size_t i = text.size(); i-- > 0;) {
    const int value = hex::DigitValue(text[i]);
    if (value < 0) return false;
    if (low_nibble) {
      out[--byte] = static_cast<uint8_t>(value);
    } else {
      out[byte] = static_cast<uint8_t>(out[byte] | (value << 4));
    }
    low_nibble = !low_nibble;
  }
  return true;
}

// A trace id from 1 to 32 right-aligned hex digits (invalid id on failure).
inline TraceId TraceIdFromPaddedHex(absl::string_view text) noexcept {
  uint8_t bytes[TraceId::kSize];
  if (!DecodeHexRightAligned(text, bytes, sizeof(bytes))) return TraceId();
  return TraceId::FromBytes(bytes);
}

// A span id from 1 to 16 right-aligned hex digits (invalid id on failure).
inline SpanId SpanIdFromPaddedHex(absl::string_view text) noexcept {
  uint8_t bytes[SpanId::kSize];
  if (!DecodeHexRightAligned(text, bytes, sizeof(bytes))) return SpanId();
  return SpanId::FromBytes(bytes);
}

// The W3C flags byte an extracted non-W3C context gets: only the sampled
// bit. The `random` bit is never set, since these formats do not promise
// random trace ids (B3 pads 64-bit ids with zeros).
inline TraceFlags SampledFlags(bool sampled) noexcept {
  return TraceFlags(sampled ? TraceFlags::kSampled : 0);
}

// The first value of `key`, or nullopt when absent (an empty value is
// present).
inline absl::optional<absl::string_view> GetOptional(const CarrierReader& carrier,
                                                     absl::string_view key) {
  bool found = false;
  const absl::string_view value = carrier.Get(key, &found);
  if (!found) return absl::nullopt;
  return value;
}

}  // namespace propagation_internal
}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_PROPAGATION_PROPAGATION_INTERNAL_H_
