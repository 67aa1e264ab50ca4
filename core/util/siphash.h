// File: tracebridge/core/util/siphash.h
//
// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
// 2012): a keyed 64-bit pseudorandom function, here the message
// authentication code of the span store's page tokens, so a client can hand a
// token back but cannot make one up. `SipHashKey::Random()` draws a key from
// the kernel's random source.
//
// Example:
//
//   const tracebridge::SipHashKey key = tracebridge::SipHashKey::Random();
//   uint64_t tag = tracebridge::SipHash24(key, "cursor=42");

#ifndef TRACEBRIDGE_CORE_UTIL_SIPHASH_H_
#define TRACEBRIDGE_CORE_UTIL_SIPHASH_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace tracebridge {

// A 128-bit key, as two little-endian 64-bit words (k0 is key bytes 0-7).
struct SipHashKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;

  // A key from getrandom(2) (std::random_device if that is unavailable).
  static SipHashKey Random();
};

// SipHash-2-4 of `data` under `key`.
uint64_t SipHash24(const SipHashKey& key, absl::string_view data) noexcept;

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_UTIL_SIPHASH_H_
