// File: core/util/env.cc

#include "tracebridge/core/util/env.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tracebridge {

absl::Status ReadPositiveEnv(const char* name, int64_t* out) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return absl::OkStatus();
  int64_t parsed = 0;
  if (!absl::SimpleAtoi(value, &parsed) || parsed <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, "=\"", value, "\": expected a positive integer"));
  }
  *out = parsed;
  return absl::OkStatus();
}

}  // namespace tracebridge
