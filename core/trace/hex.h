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

#include "absl/base/internal/endian.h"
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

namespace hex_internal {

// The eight lowercase hex digits of four bytes (`bytes`, the first byte
// most significant) as eight ASCII bytes, the first digit most significant:
// each nibble spread into a byte of its own, then turned into '0'-'9' or
// 'a'-'f' in all eight bytes at once.
inline uint64_t DigitsOf4(uint32_t bytes) noexcept {
  uint64_t v = bytes;
  v = (v | (v << 16)) & 0x0000FFFF0000FFFFull;
  v = (v | (v << 8)) & 0x00FF00FF00FF00FFull;
  v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0Full;
  // 1 in each byte whose nibble is 10 or more (no carry crosses a byte).
  const uint64_t letters = ((v + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
  return v + 0x3030303030303030ull + letters * ('a' - '0' - 10);
}

}  // namespace hex_internal

// Writes 2 * `size` lowercase hex digits for `bytes` to `out`: four bytes
// at a time in a 64-bit word, the rest one by one.
inline void Encode(const uint8_t* bytes, size_t size, char* out) noexcept {
  size_t i = 0;
  for (; i + 4 <= size; i += 4) {
    absl::big_endian::Store64(out + 2 * i,
                              hex_internal::DigitsOf4(absl::big_endian::Load32(bytes + i)));
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  char* digit = out + 2 * i;
  for (const uint8_t* byte = bytes + i; byte != bytes + size; ++byte, digit += 2) {
    digit[0] = kDigits[*byte >> 4];
    digit[1] = kDigits[*byte & 0xf];
  }
}

}  // namespace hex
}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_TRACE_HEX_H_
