#include "tracebridge/core/util/json_writer.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>

namespace tracebridge {
namespace {

// Bytes that need more than a copy: controls, `"`, `\`, DEL and every
// non-ASCII byte (validated as UTF-8). A table keeps the copy loop to one
// load and one test per byte.
struct NeedsAttentionTable {
  bool entries[256];
  constexpr NeedsAttentionTable() : entries() {
    for (int i = 0; i < 256; ++i) {
      entries[i] = i < 0x20 || i == '"' || i == '\\' || i >= 0x7F;
    }
  }
};
constexpr NeedsAttentionTable kNeedsAttention;

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendUnicodeEscape(uint32_t code_unit, std::string* out) {
  char escape[6] = {'\\',
                    'u',
                    kHexDigits[(code_unit >> 12) & 0xF],
                    kHexDigits[(code_unit >> 8) & 0xF],
                    kHexDigits[(code_unit >> 4) & 0xF],
                    kHexDigits[code_unit & 0xF]};
  out->append(escape, sizeof(escape));
}

}  // namespace

void AppendJsonString(absl::string_view text, std::string* out) {
  // Room for the quotes and the common case of nothing to escape.
  out->reserve(out->size() + text.size() + 2);
  out->push_back('"');
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  size_t pos = 0;
  while (pos < size) {
    // Copy the longest run that needs nothing in one append.
    size_t run_end = pos;
    while (run_end < size && !kNeedsAttention.entries[bytes[run_end]]) ++run_end;
    if (run_end > pos) {
      out->append(text.data() + pos, run_end - pos);
      pos = run_end;
      if (pos == size) break;
    }
    const unsigned char byte = bytes[pos];
    if (byte < 0x80) {
      switch (byte) {
        case '"':
          out->append("\\\"");
          break;
        case '\\':
          out->append("\\\\");
          break;
        case '\b':
          out->append("\\b");
          break;
        case '\f':
          out->append("\\f");
          break;
        case '\n':
          out->append("\\n");
          break;
        case '\r':
          out->append("\\r");
          break;
        case '\t':
          out->append("\\t");
          break;
        default:  // other controls and DEL
          AppendUnicodeEscape(byte, out);
          break;
      }
      ++pos;
      continue;
    }
    const Utf8Sequence sequence = DecodeUtf8(text, pos);
    if (!sequence.well_formed) {
      out->append(kUtf8Replacement.data(), kUtf8Replacement.size());
    } else if (sequence.code_point == 0x2028 || sequence.code_point == 0x2029) {
      AppendUnicodeEscape(sequence.code_point, out);
    } else {
      out->append(text.data() + pos, sequence.length);
    }
    pos += sequence.length;
  }
  out->push_back('"');
}

JsonWriter& JsonWriter::BeginObject() {
  Separate();
  out_->push_back('{');
  ++depth_;
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  assert(depth_ > 0 && "EndObject without BeginObject");
  out_->push_back('}');
  --depth_;
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  Separate();
  out_->push_back('[');
  ++depth_;
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  assert(depth_ > 0 && "EndArray without BeginArray");
  out_->push_back(']');
  --depth_;
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Key(absl::string_view key) {
  Separate();
  AppendJsonString(key, out_);
  out_->push_back(':');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::String(absl::string_view value) {
  Separate();
  AppendJsonString(value, out_);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  Separate();
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out_->append(buffer, result.ptr);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Uint(uint64_t value) {
  Separate();
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out_->append(buffer, result.ptr);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Double(double value) {
  if (!std::isfinite(value)) return Null();
  Separate();
  // Shortest round-trip form (at most 24 characters for a double).
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  const size_t length = static_cast<size_t>(result.ptr - buffer);
  out_->append(buffer, length);
  // "1" would read back as an integer; keep the type visible.
  if (std::memchr(buffer, '.', length) == nullptr && std::memchr(buffer, 'e', length) == nullptr) {
    out_->append(".0");
  }
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  Separate();
  out_->append(value ? "true" : "false");
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Null() {
  Separate();
  out_->append("null");
  need_comma_ = true;
  return *this;
}

}  // namespace tracebridge
