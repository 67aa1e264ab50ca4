// File: tracebridge/core/util/json_writer.h
//
// `JsonWriter`: a small streaming JSON writer that appends compact JSON text
// (no whitespace) to a caller-owned `std::string`. It exists so every part of
// tracebridge that emits JSON (span files, metrics JSON, HTTP endpoints, the
// query service) shares one encoder whose output is always valid JSON and
// always valid UTF-8, whatever bytes the caller hands it: span names and
// attribute values come from untrusted peers.
//
// The writer keeps no heap state of its own: appending reuses the target
// string's capacity, so a caller that clears and reuses one string per record
// allocates only while that string grows.
//
// String encoding (`String`, `Key`, `AppendJsonString`):
//   - `"` and `\` are escaped; control characters U+0000-U+001F become
//     `\b \f \n \r \t` or `\u00XX`; DEL (U+007F) becomes `\u007f`.
//   - U+2028 and U+2029 (JavaScript line terminators) become `\u2028` and
//     `\u2029`, so output can be embedded in JavaScript and is never split by
//     tools that treat them as line breaks.
//   - Ill-formed UTF-8 is replaced by U+FFFD, one per maximal subpart, as
//     core/util/utf8.h describes; well-formed text passes unchanged.
//   - Everything else, including non-ASCII characters, is written as UTF-8.
//
// Numbers: integers exactly; finite doubles in the shortest form that reads
// back to the same value, always with a `.` or an exponent (`1.0`, `1e+100`)
// so a reader can tell them from integers. JSON has no NaN or infinity:
// non-finite doubles are written as `null` (a string such as "NaN" would be
// indistinguishable from a string value).
//
// The writer inserts commas and colons itself; the caller is responsible for
// a well-formed call sequence (a `Key` before each value inside an object,
// balanced `Begin*`/`End*`). Debug builds assert on unbalanced ends. Several
// top-level values are written back to back with nothing between them, so a
// JSON-lines writer appends its own `\n` after each.
//
// Example:
//
//   std::string out;
//   tracebridge::JsonWriter json(&out);
//   json.BeginObject();
//   json.Key("name").String("GET /orders");
//   json.Key("status").Int(200);
//   json.Key("tags").BeginArray().String("a").Bool(true).Null().EndArray();
//   json.EndObject();
//   // out == R"({"name":"GET /orders","status":200,"tags":["a",true,null]})"

#ifndef TRACEBRIDGE_CORE_UTIL_JSON_WRITER_H_
#define TRACEBRIDGE_CORE_UTIL_JSON_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "tracebridge/core/util/utf8.h"

namespace tracebridge {

// Appends `text` to `*out` as a quoted JSON string, escaped and repaired as
// described in the file comment.
void AppendJsonString(absl::string_view text, std::string* out);

// Appends compact JSON to a string. Cheap to construct; holds only a pointer
// to the target, which must outlive the writer. Not thread-safe (one writer,
// one thread, like the string it appends to).
class JsonWriter final {
 public:
  // Appends to `*out` (existing content is kept). `out` must not be null.
  explicit JsonWriter(std::string* out) noexcept : out_(out) {}

  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  // Starts an object (`{`); inside it, every value follows a `Key`.
  JsonWriter& BeginObject();
  // Closes the innermost object (`}`).
  JsonWriter& EndObject();
  // Starts an array (`[`).
  JsonWriter& BeginArray();
  // Closes the innermost array (`]`).
  JsonWriter& EndArray();

  // Writes an object member name and the `:`; the next call writes its value.
  JsonWriter& Key(absl::string_view key);

  // A string value (escaped; see the file comment).
  JsonWriter& String(absl::string_view value);
  // A signed integer value.
  JsonWriter& Int(int64_t value);
  // An unsigned integer value.
  JsonWriter& Uint(uint64_t value);
  // A double value: shortest round-trip form with a `.` or exponent; `null`
  // for NaN and infinities.
  JsonWriter& Double(double value);
  // `true` or `false`.
  JsonWriter& Bool(bool value);
  // `null`.
  JsonWriter& Null();

  // How many objects and arrays are open (0 once a top-level value is done).
  int depth() const noexcept { return depth_; }

  // The string being appended to.
  std::string* output() const noexcept { return out_; }

 private:
  // Writes the `,` a value or key needs when it is not the first in its
  // container.
  void Separate() {
    if (need_comma_ && depth_ > 0) out_->push_back(',');
  }

  std::string* out_;
  int depth_ = 0;
  // True after a complete value or member: the next value or key in the same
  // container needs a comma. Begin* and Key clear it; End* and values set it.
  bool need_comma_ = false;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_UTIL_JSON_WRITER_H_
