// File: tracebridge/core/util/utf8.h
//
// UTF-8 validation and repair shared by everything that turns bytes from
// peers into strings that leave the process (span names and attributes,
// resource attributes, metric labels). Protobuf `string` fields, OTLP
// collectors and JSON readers reject ill-formed UTF-8, so one such byte in a
// header could otherwise make a whole query response or export batch fail.
//
// Repair rule: each maximal ill-formed subpart (Unicode 15, section 3.9,
// "substitution of maximal subparts": stray continuation bytes, overlong
// forms, encoded surrogates U+D800-U+DFFF, code points above U+10FFFF,
// truncated sequences, bytes C0, C1, F5-FF) becomes one U+FFFD; well-formed
// text passes unchanged. Every encoder in tracebridge repairs the same way.
//
// Cost: validation reads ASCII eight bytes at a time and decodes only
// non-ASCII bytes; repair allocates only for text that needed it.
//
// Example:
//
//   std::string name = tracebridge::ValidUtf8Copy(raw_header_value, /*max_bytes=*/4096);
//   if (!tracebridge::IsValidUtf8(text)) { ... }

#ifndef TRACEBRIDGE_CORE_UTIL_UTF8_H_
#define TRACEBRIDGE_CORE_UTIL_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"

namespace tracebridge {

// The Unicode replacement character U+FFFD, UTF-8 encoded: what ill-formed
// input bytes turn into.
inline constexpr absl::string_view kUtf8Replacement = "\xEF\xBF\xBD";

// One decoded UTF-8 sequence; see `DecodeUtf8`.
struct Utf8Sequence {
  // The code point, or U+FFFD when `well_formed` is false.
  uint32_t code_point = 0;
  // Bytes consumed: 1-4 when well formed; for ill-formed input the length of
  // the maximal subpart (1-3) that one U+FFFD replaces.
  size_t length = 0;
  bool well_formed = false;
};

// Decodes the UTF-8 sequence starting at `text[pos]` (`pos < text.size()`).
Utf8Sequence DecodeUtf8(absl::string_view text, size_t pos) noexcept;

namespace utf8_internal {

// True when every byte of `text` is ASCII: a few branch-free word loads
// (the last one overlapping), inlined into every caller.
inline bool IsAscii(absl::string_view text) noexcept {
  constexpr uint64_t kHighBits = 0x8080808080808080ull;
  const char* data = text.data();
  const size_t size = text.size();
  uint64_t bits = 0;
  if (size >= 8) {
    for (size_t pos = 0; pos + 8 <= size; pos += 8) {
      uint64_t word;
      std::memcpy(&word, data + pos, sizeof(word));
      bits |= word;
    }
    uint64_t last;
    std::memcpy(&last, data + size - 8, sizeof(last));
    bits |= last;
  } else if (size >= 4) {
    uint32_t first, last;
    std::memcpy(&first, data, sizeof(first));
    std::memcpy(&last, data + size - 4, sizeof(last));
    bits = first | last;
  } else {
    for (size_t pos = 0; pos < size; ++pos) bits |= static_cast<unsigned char>(data[pos]);
  }
  return (bits & kHighBits) == 0;
}

size_t ValidPrefixSlow(absl::string_view text) noexcept;
bool AssignSlow(absl::string_view text, size_t max_bytes, std::string* out);

}  // namespace utf8_internal

// The length of the longest prefix of `text` that is well-formed UTF-8
// (`text.size()` when all of it is).
inline size_t ValidUtf8Prefix(absl::string_view text) noexcept {
  return utf8_internal::IsAscii(text) ? text.size() : utf8_internal::ValidPrefixSlow(text);
}

// True when `text` is well-formed UTF-8.
inline bool IsValidUtf8(absl::string_view text) noexcept {
  return ValidUtf8Prefix(text) == text.size();
}

// `text` (well-formed UTF-8) cut to at most `max_bytes` without splitting a
// character.
absl::string_view CutUtf8(absl::string_view text, size_t max_bytes) noexcept;

// True when `AssignValidUtf8(text, max_bytes, ...)` would store `text`
// unchanged: well formed and at most `max_bytes` long.
inline bool IsValidUtf8Within(absl::string_view text, size_t max_bytes) noexcept {
  return text.size() <= max_bytes && IsValidUtf8(text);
}

// Replaces `*out` with `text` repaired (see the file comment) and cut to at
// most `max_bytes` at a character boundary. Returns true when `text` was
// well formed. `text` must not point into `*out`.
inline bool AssignValidUtf8(absl::string_view text, size_t max_bytes, std::string* out) {
  if (text.size() <= max_bytes && utf8_internal::IsAscii(text)) {
    out->assign(text.data(), text.size());
    return true;
  }
  return utf8_internal::AssignSlow(text, max_bytes, out);
}

// `text` repaired and cut like `AssignValidUtf8`, as a new string (cheaper
// than assigning into an empty one).
inline std::string ValidUtf8Copy(absl::string_view text, size_t max_bytes = std::string::npos) {
  if (text.size() <= max_bytes && utf8_internal::IsAscii(text)) {
    return std::string(text.data(), text.size());
  }
  std::string out;
  utf8_internal::AssignSlow(text, max_bytes, &out);
  return out;
}

// Repairs `*text` in place (cut to `max_bytes`); allocates only when it was
// not already valid and short enough.
void MakeValidUtf8(std::string* text, size_t max_bytes);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_UTIL_UTF8_H_
