// File: core/text_escape.cc

#include "core/text_escape.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace tracebridge {
namespace {

constexpr char kReplacementUtf8[] = "\xEF\xBF\xBD";  // U+FFFD

// The length of the valid UTF-8 sequence starting at `text[i]`, or 0 if the
// bytes there are not one (overlong forms, surrogates and code points above
// U+10FFFF included, per RFC 3629).
size_t Utf8SequenceLength(absl::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length;
  unsigned char min2 = 0x80, max2 = 0xBF;  // range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) min2 = 0xA0;  // overlong
    if (lead == 0xED) max2 = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) min2 = 0x90;  // overlong
    if (lead == 0xF4) max2 = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < min2 || byte(i + 1) > max2) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

// Walks `text` as UTF-8, calling `ascii(c)` for each ASCII byte, copying valid
// multi-byte sequences and calling `invalid()` for each byte that starts no
// valid sequence.
template <typename Ascii, typename Invalid>
void ForEachUtf8(absl::string_view text, std::string* out, Ascii ascii, Invalid invalid) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      invalid();
      ++i;
    } else if (length == 1) {
      ascii(text[i]);
      ++i;
    } else {
      out->append(text.data() + i, length);
      i += length;
    }
  }
}

}  // namespace

void AppendJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  ForEachUtf8(
      text, out,
      [out](char c) {
        switch (c) {
          case '"':
            out->append("\\\"");
            return;
          case '\\':
            out->append("\\\\");
            return;
          case '\n':
            out->append("\\n");
            return;
          case '\r':
            out->append("\\r");
            return;
          case '\t':
            out->append("\\t");
            return;
          case '\b':
            out->append("\\b");
            return;
          case '\f':
            out->append("\\f");
            return;
          default:
            break;
        }
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          static constexpr char kHex[] = "0123456789abcdef";
          const unsigned char u = static_cast<unsigned char>(c);
          const char escaped[] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 0xF]};
          out->append(escaped, sizeof(escaped));
        } else {
          out->push_back(c);
        }
      },
      [out] { out->append("\\ufffd"); });
  out->push_back('"');
}

void AppendPrometheusLabelValue(absl::string_view text, std::string* out) {
  ForEachUtf8(
      text, out,
      [out](char c) {
        if (c == '\\') {
          out->append("\\\\");
        } else if (c == '"') {
          out->append("\\\"");
        } else if (c == '\n') {
          out->append("\\n");
        } else {
          out->push_back(c);
        }
      },
      [out] { out->append(kReplacementUtf8); });
}

void AppendPrometheusHelp(absl::string_view text, std::string* out) {
  ForEachUtf8(
      text, out,
      [out](char c) {
        if (c == '\\') {
          out->append("\\\\");
        } else if (c == '\n') {
          out->append("\\n");
        } else {
          out->push_back(c);
        }
      },
      [out] { out->append(kReplacementUtf8); });
}

void AppendDouble(double value, std::string* out) {
  if (std::isnan(value)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(value)) {
    out->append(value > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buffer[32];
  const std::to_chars_result result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, result.ptr);
}

void AppendSecondsFromNs(uint64_t ns, std::string* out) {
  absl::StrAppend(out, ns / 1'000'000'000);
  uint64_t fraction = ns % 1'000'000'000;
  if (fraction == 0) return;
  char digits[10] = {'.'};
  for (int i = 9; i >= 1; --i, fraction /= 10) digits[i] = static_cast<char>('0' + fraction % 10);
  int end = 10;
  while (digits[end - 1] == '0') --end;
  out->append(digits, end);
}

}  // namespace tracebridge
