// File: interceptors/span_directory.cc

#include "tracebridge/interceptors/span_directory.h"

namespace tracebridge {
namespace internal {

SpanDirectory& SpanDirectory::Global() {
  static SpanDirectory* const directory = new SpanDirectory();
  return *directory;
}

size_t SpanDirectory::Home(const void* key) {
  const uint64_t bits = reinterpret_cast<uintptr_t>(key) >> 4;
  return static_cast<size_t>((bits * 0x9E3779B97F4A7C15ull) >> 32) & (kSlots - 1);
}

SpanDirectory::Ticket SpanDirectory::Put(const void* key, Span* span) {
  size_t index = Home(key);
  for (size_t probe = 0; probe < kProbe; ++probe, index = (index + 1) & (kSlots - 1)) {
    Slot& slot = slots_[index];
    const void* expected = nullptr;
    if (slot.key.load(std::memory_order_relaxed) == nullptr &&
        slot.key.compare_exchange_strong(expected, key, std::memory_order_acq_rel)) {
      slot.span.store(span, std::memory_order_release);
      return static_cast<Ticket>(index);
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  overflow_[key] = span;
  overflow_count_.store(overflow_.size(), std::memory_order_relaxed);
  return kOverflow;
}

void SpanDirectory::Erase(const void* key, Ticket ticket) {
  if (ticket != kOverflow) {
    Slot& slot = slots_[ticket];
    slot.span.store(nullptr, std::memory_order_relaxed);
    // Frees the slot for the next Put, which stores its span after claiming.
    slot.key.store(nullptr, std::memory_order_release);
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  overflow_.erase(key);
  overflow_count_.store(overflow_.size(), std::memory_order_relaxed);
}

Span* SpanDirectory::Get(const void* key) const {
  size_t index = Home(key);
  for (size_t probe = 0; probe < kProbe; ++probe, index = (index + 1) & (kSlots - 1)) {
    const Slot& slot = slots_[index];
    if (slot.key.load(std::memory_order_acquire) != key) continue;
    Span* span = slot.span.load(std::memory_order_acquire);
    // Still this key's slot (not erased and claimed again meanwhile).
    if (slot.key.load(std::memory_order_acquire) == key) return span;
  }
  if (overflow_count_.load(std::memory_order_relaxed) == 0) return nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = overflow_.find(key);
  return it == overflow_.end() ? nullptr : it->second;
}

}  // namespace internal
}  // namespace tracebridge
