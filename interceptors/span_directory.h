// File: tracebridge/interceptors/span_directory.h
//
// The table behind `ServerSpan(context)`: gRPC offers no per-call slot on a
// `ServerContext`, so the server interceptor registers each traced call's
// span under the context's address when the call starts and removes it
// before the span ends.
//
// Registering and removing take no lock: a key claims one of the `kProbe`
// slots after its hash with a compare-and-swap, and its removal is two
// stores into the slot it claimed. Only a key whose slots are all taken (more
// than `kProbe` concurrent calls hashing alike) goes to a mutex-guarded
// overflow map, which lookups consult only while it is not empty.
//
// Threading: Put, Erase and Get may run concurrently for different keys; a
// key's Put happens before its Gets and its Erase (the interceptor's hooks
// order them), and Get must not race with the same key's Erase-and-reuse.
//
// Example:
//
//   SpanDirectory& directory = SpanDirectory::Global();
//   const SpanDirectory::Ticket ticket = directory.Put(context, &span);
//   Span* found = directory.Get(context);  // &span
//   directory.Erase(context, ticket);

#ifndef TRACEBRIDGE_INTERCEPTORS_SPAN_DIRECTORY_H_
#define TRACEBRIDGE_INTERCEPTORS_SPAN_DIRECTORY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "tracebridge/core/trace/span.h"

namespace tracebridge {
namespace internal {

class SpanDirectory {
 public:
  static constexpr size_t kSlots = 4096;
  static constexpr size_t kProbe = 8;

  // Where Put stored a key, for its Erase.
  using Ticket = uint32_t;

  // The process-wide directory the gRPC interceptors use.
  static SpanDirectory& Global();

  SpanDirectory() = default;
  SpanDirectory(const SpanDirectory&) = delete;
  SpanDirectory& operator=(const SpanDirectory&) = delete;

  Ticket Put(const void* key, Span* span);
  void Erase(const void* key, Ticket ticket);
  // The span registered under `key`, or nullptr.
  Span* Get(const void* key) const;

  // Keys held in the overflow map (for tests).
  size_t overflow_size() const { return overflow_count_.load(std::memory_order_relaxed); }

 private:
  static constexpr Ticket kOverflow = ~Ticket{0};
  struct Slot {
    std::atomic<const void*> key{nullptr};
    std::atomic<Span*> span{nullptr};
  };

  static size_t Home(const void* key);

  Slot slots_[kSlots];
  std::atomic<size_t> overflow_count_{0};
  mutable std::mutex mutex_;
  absl::flat_hash_map<const void*, Span*> overflow_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace internal
}  // namespace tracebridge

#endif  // TRACEBRIDGE_INTERCEPTORS_SPAN_DIRECTORY_H_
