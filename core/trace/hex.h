// File: tracebridge/core/trace/hex.h
//
// Lowercase hexadecimal encoding and decoding without allocation, shared by
// the id types and every propagator. Decoding accepts lowercase only: the W3C
// Trace Context grammar is `HEXDIGLC`, and B3 and Jaeger follow the same
// lowercase convention on the wire. Callers that must accept uppercase (the
// legacy headers) fold case before calling.

#ifndef TRACEBRIDGE_CORE_TRACE_HEX_H_
#define TRACEBRIDGE_CORE_TRACE_HEX_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace tracebridge {
namespace hex {

// The value of a lowercase hex digit, or -1 for any other byte.
inline int DigitValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Decodes `text` (exactly 2 * `size` lowercase hex digits) into `out`.
// Returns false, leaving `out` partly written, on any other input.
inline bool Decode(absl::string_view text, uint8_t* out, size_t size) noexcept {
  if (text.size() != 2 * size) return false;
  for (size_t i = 0; i < size; ++i) {
    const int hi = DigitValue(text[2 * i]);
    const int lo = DigitValue(text[2 * i + 1]);
    if ((hi | lo) < 0) return false;
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return true;
}

// Writes 2 * `size` lowercase hex digits for `bytes` to `out`.
inline void Encode(const uint8_t* bytes, size_t size, char* out) noexcept {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
}

}  // namespace hex
}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_TRACE_HEX_H_
