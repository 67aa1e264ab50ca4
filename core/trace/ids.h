// File: tracebridge/core/trace/ids.h
//
// Trace and span identifiers: fixed-size byte strings with lowercase-hex text
// forms, as W3C Trace Context defines them. An all-zero id is invalid.
// Generated ids come from a per-thread generator (no lock, no allocation) and
// are never all-zero.
//
// Example:
//
//   tracebridge::TraceId trace_id = tracebridge::TraceId::Generate();
//   std::string text = trace_id.ToHex();          // 32 lowercase hex digits
//   tracebridge::TraceId parsed = tracebridge::TraceId::FromHex(text);
//   assert(parsed == trace_id);

#ifndef TRACEBRIDGE_CORE_TRACE_IDS_H_
#define TRACEBRIDGE_CORE_TRACE_IDS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"
#include "tracebridge/core/trace/hex.h"

namespace tracebridge {

namespace internal {
// Fills `out` with `size` random bytes from this thread's generator, retrying
// until they are not all zero.
void FillRandomNonZero(uint8_t* out, size_t size) noexcept;
}  // namespace internal

// An identifier of `N` bytes. `TraceId` and `SpanId` are the two instances;
// they are distinct types, so one cannot be passed for the other.
template <size_t N>
class Id final {
 public:
  static constexpr size_t kSize = N;
  static constexpr size_t kHexSize = 2 * N;

  // The invalid (all-zero) id.
  constexpr Id() noexcept = default;

  // An id holding `bytes` (which may be all zero, giving an invalid id).
  static Id FromBytes(const uint8_t (&bytes)[N]) noexcept {
    Id id;
    std::memcpy(id.bytes_.data(), bytes, N);
    return id;
  }
  static Id FromBytes(const uint8_t* bytes) noexcept {
    Id id;
    std::memcpy(id.bytes_.data(), bytes, N);
    return id;
  }

  // Parses exactly `kHexSize` lowercase hex digits. Anything else, including
  // uppercase digits, yields the invalid id.
  static Id FromHex(absl::string_view text) noexcept {
    Id id;
    if (!hex::Decode(text, id.bytes_.data(), N)) return Id();
    return id;
  }

  // A random valid id from this thread's generator.
  static Id Generate() noexcept {
    Id id;
    internal::FillRandomNonZero(id.bytes_.data(), N);
    return id;
  }

  // False for the all-zero id.
  bool IsValid() const noexcept {
    static_assert(N % 8 == 0, "ids are whole 64-bit words");
    uint64_t any = 0;
    for (size_t i = 0; i < N; i += 8) {
      uint64_t word;
      std::memcpy(&word, bytes_.data() + i, 8);
      any |= word;
    }
    return any != 0;
  }

  // Writes `kHexSize` lowercase hex digits to `out` (no terminator).
  void ToHex(char* out) const noexcept { hex::Encode(bytes_.data(), N, out); }

  // The lowercase hex form.
  std::string ToHex() const {
    std::string text(kHexSize, '0');
    ToHex(&text[0]);
    return text;
  }

  // The raw bytes, most significant first (network order).
  const std::array<uint8_t, N>& bytes() const noexcept { return bytes_; }

  // The last 8 bytes as a big-endian integer: what samplers hash on and what
  // a 64-bit B3 or Jaeger id carries.
  uint64_t Low64() const noexcept {
    uint64_t value = 0;
    for (size_t i = N >= 8 ? N - 8 : 0; i < N; ++i) value = (value << 8) | bytes_[i];
    return value;
  }

  friend bool operator==(const Id& a, const Id& b) noexcept { return a.bytes_ == b.bytes_; }
  friend bool operator!=(const Id& a, const Id& b) noexcept { return !(a == b); }
  friend bool operator<(const Id& a, const Id& b) noexcept { return a.bytes_ < b.bytes_; }

  template <typename H>
  friend H AbslHashValue(H h, const Id& id) {
    return H::combine_contiguous(std::move(h), id.bytes_.data(), N);
  }

 private:
  std::array<uint8_t, N> bytes_{};
};

// A 16-byte trace id, shared by every span of one trace.
using TraceId = Id<16>;

// An 8-byte span id, unique within its trace.
using SpanId = Id<8>;

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_TRACE_IDS_H_
