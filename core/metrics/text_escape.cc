// File: core/text_escape.cc

#include "tracebridge/core/metrics/text_escape.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "tracebridge/core/util/json_writer.h"

namespace tracebridge {
namespace {

// Walks `text` as UTF-8, calling `ascii(c)` for each ASCII byte, copying
// well-formed multi-byte sequences and calling `invalid()` once for each
// maximal ill-formed subpart (the same repair rule as the JSON writer).
template <typename Ascii, typename Invalid>
void ForEachUtf8(absl::string_view text, std::string* out, Ascii ascii, Invalid invalid) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ascii(text[i]);
      ++i;
      continue;
    }
    const Utf8Sequence sequence = DecodeUtf8(text, i);
    if (sequence.well_formed) {
      out->append(text.data() + i, sequence.length);
    } else {
      invalid();
    }
    i += sequence.length;
  }
}

}  // namespace

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
      [out] { out->append(kUtf8Replacement.data(), kUtf8Replacement.size()); });
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
      [out] { out->append(kUtf8Replacement.data(), kUtf8Replacement.size()); });
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
