// File: core/util/utf8.cc

#include "tracebridge/core/util/utf8.h"

#include <cstring>

namespace tracebridge {
namespace {

constexpr uint64_t kHighBits = 0x8080808080808080ull;

bool IsContinuation(unsigned char byte) noexcept { return (byte & 0xC0) == 0x80; }

}  // namespace

Utf8Sequence DecodeUtf8(absl::string_view text, size_t pos) noexcept {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t available = text.size() - pos;
  const unsigned char lead = bytes[pos];
  if (lead < 0x80) return {lead, 1, true};
  // Well-formed sequences (Unicode Table 3-7): the lead byte fixes the length
  // and the range of the second byte; later bytes are plain continuations.
  size_t length;
  unsigned char second_low = 0x80;
  unsigned char second_high = 0xBF;
  uint32_t value;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    value = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    value = lead & 0x0F;
    if (lead == 0xE0) second_low = 0xA0;   // no overlongs
    if (lead == 0xED) second_high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    value = lead & 0x07;
    if (lead == 0xF0) second_low = 0x90;   // no overlongs
    if (lead == 0xF4) second_high = 0x8F;  // nothing above U+10FFFF
  } else {
    // A stray continuation byte, C0/C1 (always overlong) or F5-FF.
    return {0xFFFD, 1, false};
  }
  // The maximal subpart is the lead plus every byte that still fits a
  // well-formed sequence; it ends before the first byte that does not (or at
  // the end of the input).
  for (size_t i = 1; i < length; ++i) {
    if (i >= available) return {0xFFFD, i, false};
    const unsigned char byte = bytes[pos + i];
    const bool fits = i == 1 ? (byte >= second_low && byte <= second_high) : IsContinuation(byte);
    if (!fits) return {0xFFFD, i, false};
    value = (value << 6) | (byte & 0x3F);
  }
  return {value, length, true};
}

namespace utf8_internal {

size_t ValidPrefixSlow(absl::string_view text) noexcept {
  const char* data = text.data();
  const size_t size = text.size();
  size_t pos = 0;
  while (pos < size) {
    // ASCII runs eight bytes at a time.
    while (pos + 8 <= size) {
      uint64_t word;
      std::memcpy(&word, data + pos, sizeof(word));
      if ((word & kHighBits) != 0) break;
      pos += 8;
    }
    if (pos == size) break;
    if (static_cast<unsigned char>(data[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const Utf8Sequence sequence = DecodeUtf8(text, pos);
    if (!sequence.well_formed) return pos;
    pos += sequence.length;
  }
  return size;
}

bool AssignSlow(absl::string_view text, size_t max_bytes, std::string* out) {
  const size_t valid = ValidPrefixSlow(text);
  if (valid == text.size()) {
    const absl::string_view cut = CutUtf8(text, max_bytes);
    out->assign(cut.data(), cut.size());
    return true;
  }
  const absl::string_view prefix = CutUtf8(text.substr(0, valid), max_bytes);
  out->assign(prefix.data(), prefix.size());
  if (prefix.size() < valid) return false;  // the bound cut inside the valid part
  for (size_t pos = valid; pos < text.size();) {
    const Utf8Sequence sequence = DecodeUtf8(text, pos);
    const absl::string_view piece =
        sequence.well_formed ? text.substr(pos, sequence.length) : kUtf8Replacement;
    if (out->size() + piece.size() > max_bytes) break;
    out->append(piece.data(), piece.size());
    pos += sequence.length;
  }
  return false;
}

}  // namespace utf8_internal

absl::string_view CutUtf8(absl::string_view text, size_t max_bytes) noexcept {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  while (end > 0 && IsContinuation(static_cast<unsigned char>(text[end]))) --end;
  return text.substr(0, end);
}

void MakeValidUtf8(std::string* text, size_t max_bytes) {
  if (IsValidUtf8Within(*text, max_bytes)) return;
  std::string repaired;
  AssignValidUtf8(*text, max_bytes, &repaired);
  *text = std::move(repaired);
}

}  // namespace tracebridge
