// File: interceptors/method_table.cc

#include "tracebridge/interceptors/method_table.h"

#include <cstdint>
#include <cstring>

#include "absl/hash/hash.h"

namespace tracebridge {
namespace internal {
namespace {

// Where the probe for `name`'s address starts: its bits above the
// allocation granularity, mixed.
size_t Home(const char* name, size_t slots) {
  const uint64_t bits = reinterpret_cast<uintptr_t>(name) >> 3;
  return static_cast<size_t>((bits * 0x9E3779B97F4A7C15ull) >> 32) & (slots - 1);
}

bool SameName(const MethodInfo* info, const char* name) {
  return info != nullptr && std::strcmp(info->full_method.c_str(), name) == 0;
}

// Where the probe for a name's text starts.
size_t HomeOfText(absl::string_view name, size_t slots) {
  return absl::Hash<absl::string_view>()(name) & (slots - 1);
}

}  // namespace

const MethodInfo* MethodTable::Find(const char* name, RpcType type) {
  if (name == nullptr) name = "";
  size_t index = Home(name, kSlots);
  for (size_t probe = 0; probe < kProbe; ++probe, index = (index + 1) & (kSlots - 1)) {
    const char* key = slots_[index].key.load(std::memory_order_acquire);
    if (key == nullptr) break;
    if (key != name) continue;
    const MethodInfo* info = slots_[index].info.load(std::memory_order_acquire);
    if (SameName(info, name)) return info;
    break;  // this address now holds another name
  }
  // Another address for a known name (a generic call's per-call string).
  const absl::string_view text(name);
  index = HomeOfText(text, kSlots);
  for (size_t probe = 0; probe < kProbe; ++probe, index = (index + 1) & (kSlots - 1)) {
    const MethodInfo* info = by_hash_[index].info.load(std::memory_order_acquire);
    if (info == nullptr) break;
    if (info->full_method == text) return info;
  }
  return FindSlow(name, type);
}

const MethodInfo* MethodTable::FindSlow(const char* name, RpcType type) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_name_.find(absl::string_view(name));
  // Known under another address (found here when its hash probe window was
  // full): not remembered, so per-call strings leave the table alone.
  if (it != by_name_.end()) return it->second.get();
  if (by_name_.size() >= kMaxMethods) return nullptr;
  auto fresh = std::make_unique<MethodInfo>();
  Make(name, type, fresh.get());
  const MethodInfo* const info = fresh.get();
  by_name_.emplace(fresh->full_method, std::move(fresh));
  // Writers hold the mutex: a free slot stays free until this store.
  size_t text_index = HomeOfText(info->full_method, kSlots);
  for (size_t probe = 0; probe < kProbe; ++probe, text_index = (text_index + 1) & (kSlots - 1)) {
    if (by_hash_[text_index].info.load(std::memory_order_relaxed) == nullptr) {
      by_hash_[text_index].info.store(info, std::memory_order_release);
      break;
    }
  }
  // Remember the address; entries are never freed before the table, so a
  // reader holding an older info of this slot stays safe.
  size_t index = Home(name, kSlots);
  for (size_t probe = 0; probe < kProbe; ++probe, index = (index + 1) & (kSlots - 1)) {
    Slot& slot = slots_[index];
    const char* key = slot.key.load(std::memory_order_acquire);
    if (key == nullptr) {
      // Writers hold the mutex, so the slot is still free: publish the
      // info before the key that leads readers to it.
      slot.info.store(info, std::memory_order_release);
      slot.key.store(name, std::memory_order_release);
      break;
    }
    if (key == name) {
      slot.info.store(info, std::memory_order_release);
      break;
    }
  }
  return info;
}

void MethodTable::Make(absl::string_view name, RpcType type, MethodInfo* info) const {
  info->full_method = std::string(name);
  info->type = type;
  absl::string_view full = info->full_method;
  info->span_name = !full.empty() && full.front() == '/' ? full.substr(1) : full;
  SplitGrpcFullMethod(full, &info->service, &info->method);
  make_(full, info);
}

}  // namespace internal
}  // namespace tracebridge
