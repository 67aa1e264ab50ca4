// File: tracebridge/core/util/env.h
//
// Reading configuration from environment variables the way every
// OTEL_*-style setting in tracebridge is read: an unset or empty variable
// leaves the default alone, a malformed one is an error naming it.
//
// Example:
//
//   int64_t delay_ms = 5000;  // the default
//   absl::Status status = tracebridge::ReadPositiveEnv("OTEL_BSP_SCHEDULE_DELAY", &delay_ms);

#ifndef TRACEBRIDGE_CORE_UTIL_ENV_H_
#define TRACEBRIDGE_CORE_UTIL_ENV_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace tracebridge {

// The value of the environment variable `name`; null when it is unset or
// empty (an empty variable counts as unset).
const char* GetEnv(const char* name);

// Reads the comma-separated list in `name` into `*out` (each item trimmed,
// empty items skipped), replacing what was there; returns false and leaves
// `*out` alone when the variable is unset or empty.
bool ReadListEnv(const char* name, std::vector<std::string>* out);

// Reads `true`/`1` or `false`/`0` (any case) in `name` into `*out`; leaves it
// alone when unset or empty. InvalidArgument ("NAME=\"value\": expected true
// or false") otherwise.
absl::Status ReadBoolEnv(const char* name, bool* out);

// Reads the positive integer in the environment variable `name` into `*out`;
// leaves `*out` alone when the variable is unset or empty. InvalidArgument
// ("NAME=\"value\": expected a positive integer") otherwise.
absl::Status ReadPositiveEnv(const char* name, int64_t* out);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_UTIL_ENV_H_
