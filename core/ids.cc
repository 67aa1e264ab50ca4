#include "core/ids.h"

#include <chrono>
#include <cstring>
#include <functional>
#include <random>
#include <thread>

namespace tracebridge {
namespace internal {
namespace {

// xoshiro256++: fast, small state, statistically strong; ids need
// uniqueness, not secrecy. Seeded once per thread from the OS entropy source
// mixed with the thread and the clock, so forked or cloned processes diverge.
class IdGenerator {
 public:
  IdGenerator() noexcept {
    uint64_t seed = 0;
    try {
      std::random_device device;
      seed = (static_cast<uint64_t>(device()) << 32) ^ device();
    } catch (...) {
      // No entropy source: the clock and thread id below still differ.
    }
    seed ^=
        static_cast<uint64_t>(std::chrono::high_resolution_clock::now().time_since_epoch().count());
    seed ^= static_cast<uint64_t>(std::hash<std::thread::id>()(std::this_thread::get_id())) << 1;
    for (uint64_t& word : state_) word = SplitMix(seed);
  }

  uint64_t Next() noexcept {
    const uint64_t result = Rotl(state_[0] + state_[3], 23) + state_[0];
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix(uint64_t& x) noexcept {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t state_[4];
};

}  // namespace

void FillRandomNonZero(uint8_t* out, size_t size) noexcept {
  thread_local IdGenerator generator;
  for (;;) {
    uint8_t any = 0;
    for (size_t i = 0; i < size; i += 8) {
      const uint64_t word = generator.Next();
      const size_t n = size - i < 8 ? size - i : 8;
      std::memcpy(out + i, &word, n);
    }
    for (size_t i = 0; i < size; ++i) any |= out[i];
    if (any != 0) return;
  }
}

}  // namespace internal
}  // namespace tracebridge
