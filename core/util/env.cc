// File: core/util/env.cc

#include "tracebridge/core/util/env.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tracebridge {

const char* GetEnv(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

bool ReadListEnv(const char* name, std::vector<std::string>* out) {
  const char* value = GetEnv(name);
  if (value == nullptr) return false;
  out->clear();
  for (absl::string_view item : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    out->emplace_back(absl::StripAsciiWhitespace(item));
  }
  return true;
}

absl::Status ReadBoolEnv(const char* name, bool* out) {
  const char* value = GetEnv(name);
  if (value == nullptr) return absl::OkStatus();
  const std::string lower = absl::AsciiStrToLower(value);
  if (lower == "true" || lower == "1") {
    *out = true;
  } else if (lower == "false" || lower == "0") {
    *out = false;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(name, "=\"", value, "\": expected true or false"));
  }
  return absl::OkStatus();
}

absl::Status ReadPositiveEnv(const char* name, int64_t* out) {
  const char* value = GetEnv(name);
  if (value == nullptr) return absl::OkStatus();
  int64_t parsed = 0;
  if (!absl::SimpleAtoi(value, &parsed) || parsed <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, "=\"", value, "\": expected a positive integer"));
  }
  *out = parsed;
  return absl::OkStatus();
}

}  // namespace tracebridge
