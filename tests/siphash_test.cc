// SipHash-2-4 against the reference vectors (the paper's Appendix A example,
// and `openssl mac SIPHASH` for the key 00..0f over the messages 00..n-1).

#include "tracebridge/core/util/siphash.h"

#include <string>

#include "gtest/gtest.h"

namespace tracebridge {
namespace {

// Key bytes 00 01 .. 0f, as SipHash reads them (little-endian words).
constexpr SipHashKey kReferenceKey{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};

// The message 00 01 .. n-1.
std::string Counting(size_t n) {
  std::string message;
  for (size_t i = 0; i < n; ++i) message.push_back(static_cast<char>(i));
  return message;
}

TEST(SipHashTest, MatchesTheReferenceVectors) {
  EXPECT_EQ(SipHash24(kReferenceKey, Counting(0)), 0x726fdb47dd0e0e31ull);
  EXPECT_EQ(SipHash24(kReferenceKey, Counting(8)), 0x93f5f5799a932462ull);
  EXPECT_EQ(SipHash24(kReferenceKey, Counting(15)), 0xa129ca6149be45e5ull);
  EXPECT_EQ(SipHash24(kReferenceKey, Counting(63)), 0x958a324ceb064572ull);
}

TEST(SipHashTest, DependsOnEveryByteAndTheKey) {
  const std::string message = Counting(20);
  const uint64_t tag = SipHash24(kReferenceKey, message);
  for (size_t i = 0; i < message.size(); ++i) {
    std::string changed = message;
    changed[i] ^= 1;
    EXPECT_NE(SipHash24(kReferenceKey, changed), tag) << i;
  }
  EXPECT_NE(SipHash24(SipHashKey{kReferenceKey.k0 ^ 1, kReferenceKey.k1}, message), tag);
  // A trailing zero byte is a different message.
  EXPECT_NE(SipHash24(kReferenceKey, message + std::string(1, '\0')), tag);
}

TEST(SipHashTest, RandomKeysDiffer) {
  const SipHashKey a = SipHashKey::Random();
  const SipHashKey b = SipHashKey::Random();
  EXPECT_FALSE(a.k0 == b.k0 && a.k1 == b.k1);
}

}  // namespace
}  // namespace tracebridge
