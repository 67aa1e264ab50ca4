#include "tracebridge/collector/line_protocol.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace tracebridge {
namespace {

// Escapes `name` for the part of a line whose special characters are
// `specials` (each written after a backslash).
std::string EscapeName(absl::string_view name, absl::string_view specials) {
  std::string out;
  out.reserve(name.size() + 4);
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '\n' || c == '\r') c = ' ';
    if (c == '\\') {
      // 1.x reads "\\" before a special, or at the end, as an escape of
      // what follows (or refuses the line): no spelling gives back one
      // backslash there.
      const bool last = i + 1 == name.size();
      const char next = last ? '\0' : name[i + 1];
      const bool next_special =
          !last && (specials.find(next) != absl::string_view::npos || next == '\n' || next == '\r');
      out.push_back(last || next_special ? '/' : '\\');
      continue;
    }
    if (specials.find(c) != absl::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

void AppendFieldValue(const LineFieldValue& value, std::string* out) {
  if (const int64_t* i = absl::get_if<int64_t>(&value)) {
    absl::StrAppend(out, *i, "i");
  } else if (const double* d = absl::get_if<double>(&value)) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.17g", *d);
    out->append(buffer);
  } else if (const bool* b = absl::get_if<bool>(&value)) {
    out->append(*b ? "true" : "false");
  } else {
    const std::string& s = absl::get<std::string>(value);
    out->push_back('"');
    for (char c : s) {
      if (c == '"' || c == '\\') out->push_back('\\');
      out->push_back(c);
    }
    out->push_back('"');
  }
}

bool Writable(const LineFieldValue& value) {
  const double* d = absl::get_if<double>(&value);
  return d == nullptr || std::isfinite(*d);
}

}  // namespace

std::string EscapeLineMeasurement(absl::string_view name) { return EscapeName(name, ", "); }

std::string EscapeLineKey(absl::string_view name) { return EscapeName(name, ",= "); }

bool AppendLineProtocol(const LinePoint& point, std::string* out) {
  if (point.measurement.empty()) return false;
  std::string line = EscapeLineMeasurement(point.measurement);
  for (const auto& [key, value] : point.tags) {
    if (key.empty() || value.empty()) continue;
    absl::StrAppend(&line, ",", EscapeLineKey(key), "=", EscapeLineKey(value));
  }
  bool first = true;
  for (const auto& [key, value] : point.fields) {
    if (key.empty() || !Writable(value)) continue;
    line.push_back(first ? ' ' : ',');
    first = false;
    absl::StrAppend(&line, EscapeLineKey(key), "=");
    AppendFieldValue(value, &line);
  }
  if (first) return false;
  absl::StrAppend(&line, " ", point.timestamp, "\n");
  out->append(line);
  return true;
}

}  // namespace tracebridge
