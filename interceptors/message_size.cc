// File: interceptors/message_size.cc

#include "tracebridge/interceptors/message_size.h"

#include <google/protobuf/descriptor.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "absl/hash/hash.h"

namespace tracebridge {
namespace internal {
namespace {

using google::protobuf::Message;

const Message* Resolve(absl::string_view full_method, Side side) {
  absl::string_view service_name, method_name;
  if (!SplitGrpcFullMethod(full_method, &service_name, &method_name)) return nullptr;
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          std::string(service_name));
  if (service == nullptr) return nullptr;
  const google::protobuf::MethodDescriptor* method =
      service->FindMethodByName(std::string(method_name));
  if (method == nullptr) return nullptr;
  return google::protobuf::MessageFactory::generated_factory()->GetPrototype(
      side == Side::kServer ? method->input_type() : method->output_type());
}

// (method, side) → type, filled on first sight of each method and read
// without a lock: entries are immutable once published (release/acquire on
// each slot) and never removed.
class TypeCache {
 public:
  const Message* Find(absl::string_view full_method, Side side) {
    const size_t hash = absl::Hash<absl::string_view>()(full_method) ^ static_cast<size_t>(side);
    size_t index = hash & kMask;
    for (size_t probes = 0; probes < kSlots; ++probes, index = (index + 1) & kMask) {
      const Entry* entry = slots_[index].load(std::memory_order_acquire);
      if (entry == nullptr) return Insert(full_method, side, index);
      if (entry->side == side && entry->method == full_method) return entry->type;
    }
    return Resolve(full_method, side);
  }

 private:
  struct Entry {
    std::string method;
    Side side;
    const Message* type;
  };
  static constexpr size_t kSlots = 1024;
  static constexpr size_t kMask = kSlots - 1;
  // At most half full, so a probe ends quickly.
  static constexpr size_t kMaxEntries = kSlots / 2;

  // Resolves and publishes an entry, starting at the empty slot `index`.
  const Message* Insert(absl::string_view full_method, Side side, size_t index) {
    const Message* type = Resolve(full_method, side);
    if (entries_.fetch_add(1, std::memory_order_relaxed) >= kMaxEntries) return type;
    const Entry* fresh = new (std::nothrow) Entry{std::string(full_method), side, type};
    if (fresh == nullptr) return type;
    for (size_t probes = 0; probes < kSlots; ++probes, index = (index + 1) & kMask) {
      const Entry* expected = nullptr;
      if (slots_[index].compare_exchange_strong(expected, fresh, std::memory_order_acq_rel,
                                                std::memory_order_acquire)) {
        return type;
      }
      if (expected->side == side && expected->method == full_method) {
        delete fresh;  // another call published the same method first
        entries_.fetch_sub(1, std::memory_order_relaxed);
        return expected->type;
      }
    }
    delete fresh;
    return type;
  }

  std::atomic<const Entry*> slots_[kSlots] = {};
  std::atomic<size_t> entries_{0};
};

TypeCache& Cache() {
  static TypeCache* const cache = new TypeCache();
  return *cache;
}

}  // namespace

const Message* ReceivedMessageType(absl::string_view full_method, Side side) noexcept {
  try {
    return Cache().Find(full_method, side);
  } catch (...) {
    return nullptr;  // out of memory: the bytes go uncounted, the call is fine
  }
}

int64_t MessageSize(const void* message, const Message* type) noexcept {
  if (message == nullptr || type == nullptr) return -1;
  // A generated message class is polymorphic, its vtable pointer first: equal
  // pointers mean the same class.
  uintptr_t received_vtable, type_vtable;
  std::memcpy(&received_vtable, message, sizeof(received_vtable));
  std::memcpy(&type_vtable, type, sizeof(type_vtable));
  if (received_vtable != type_vtable) return -1;
  return static_cast<int64_t>(static_cast<const Message*>(message)->ByteSizeLong());
}

}  // namespace internal
}  // namespace tracebridge
