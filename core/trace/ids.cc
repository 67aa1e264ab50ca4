#include "tracebridge/core/trace/ids.h"

#include <chrono>
#include <cstring>
#include <functional>
#include <random>
#include <thread>

namespace tracebridge {
namespace internal {
namespace {

// xoshiro256++: fast, small state, statistically strong; ids need
// uniqueness, not secrecy. The state is a zero-initialised thread_local (no
// constructor, so no per-access initialisation guard) seeded on first use
// from the OS entropy source mixed with the thread and the clock.
struct GeneratorState {
  uint64_t words[4];
  bool seeded;
};
thread_local GeneratorState state;

uint64_t Rotl(uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

uint64_t SplitMix(uint64_t& x) noexcept {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

__attribute__((noinline)) void Seed(GeneratorState& s) noexcept {
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
  for (uint64_t& word : s.words) word = SplitMix(seed);
  s.seeded = true;
}

inline uint64_t Next(GeneratorState& s) noexcept {
  uint64_t* w = s.words;
  const uint64_t result = Rotl(w[0] + w[3], 23) + w[0];
  const uint64_t t = w[1] << 17;
  w[2] ^= w[0];
  w[3] ^= w[1];
  w[1] ^= w[2];
  w[0] ^= w[3];
  w[2] ^= t;
  w[3] = Rotl(w[3], 45);
  return result;
}

}  // namespace

void FillRandomNonZero(uint8_t* out, size_t size) noexcept {
  GeneratorState& generator = state;
  if (!generator.seeded) Seed(generator);
  // Whole 64-bit words; an all-zero draw (probability 2^-64 per word) is
  // simply drawn again.
  if (size == 16) {
    uint64_t words[2];
    do {
      words[0] = Next(generator);
      words[1] = Next(generator);
    } while ((words[0] | words[1]) == 0);
    std::memcpy(out, words, 16);
    return;
  }
  if (size == 8) {
    uint64_t word;
    do {
      word = Next(generator);
    } while (word == 0);
    std::memcpy(out, &word, 8);
    return;
  }
  for (;;) {
    uint8_t any = 0;
    for (size_t i = 0; i < size; i += 8) {
      const uint64_t word = Next(generator);
      const size_t n = size - i < 8 ? size - i : 8;
      std::memcpy(out + i, &word, n);
    }
    for (size_t i = 0; i < size; ++i) any |= out[i];
    if (any != 0) return;
  }
}

}  // namespace internal
}  // namespace tracebridge
