// File: tracebridge/interceptors/method_table.h
//
// What an interceptor factory knows about each gRPC method it has seen: its
// series, whether it is excluded or traced, its span name, service and
// method, and its message types. Worked out on a method's first call and
// found on every later call by the address of gRPC's method name.
//
// gRPC hands an interceptor factory the same `const char*` for every call of
// a registered method (the name stored in its `RpcMethod`), so the per-call
// lookup is a hash of that pointer, a probe of a lock-free table, and one
// string comparison that confirms the hit. Generic calls pass a per-call
// string: their address misses, and a second lock-free table, probed by a
// hash of the name's text, finds them without a lock. Only a name seen for
// the first time takes the table's mutex, to make its entry (remembering
// that first address and the name's hash; later addresses are not kept, so
// per-call strings cannot crowd the address table).
//
// Per-method work that an optional interceptor feature needs once per method
// belongs in `MethodInfo`, so that the feature costs a field read per call.
//
// Bounds: at most `kMaxMethods` distinct names per table (beyond that
// `Find` returns null and the caller works the information out per call) and
// `kSlots` addresses; entries live as long as the table.
//
// Example:
//
//   MethodTable table([&](absl::string_view name, MethodInfo* info) {
//     info->series = registry.FindGrpcFullMethod(Side::kServer, name);
//   });
//   const MethodInfo* info = table.Find(rpc_info->method());

#ifndef TRACEBRIDGE_INTERCEPTORS_METHOD_TABLE_H_
#define TRACEBRIDGE_INTERCEPTORS_METHOD_TABLE_H_

#include <google/protobuf/message.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/trace/span.h"

namespace tracebridge {
namespace internal {

// One method as one side's interceptor factory sees it.
struct MethodInfo {
  // "/pkg.Service/Method" as gRPC names it (the views below point into it).
  std::string full_method;
  // The span name: `full_method` without its leading '/'.
  absl::string_view span_name;
  // "pkg.Service" and "Method"; empty when the name has another form.
  absl::string_view service;
  absl::string_view method;
  // How it streams (as the first call of it said).
  RpcType type = RpcType::kUnknown;
  // Excluded by the method filter.
  bool excluded = false;
  // Spans are recorded for it (tracing on, not excluded).
  bool traced = false;
  // Its series; null when calls of it are not recorded at all.
  Series* series = nullptr;
  // The generated protobuf types of the messages this side receives and
  // sends (see interceptors/message_size.h); null when unknown.
  const google::protobuf::Message* received_type = nullptr;
  const google::protobuf::Message* sent_type = nullptr;
  // The attributes every span of this method starts with (`rpc.system`,
  // `rpc.service`, `rpc.method`, and `server.*` where configured).
  PreparedAttributes span_attributes;
};

class MethodTable {
 public:
  static constexpr size_t kMaxMethods = 1024;
  static constexpr size_t kSlots = 2048;

  // Fills in the information for a method named `full_method`; called once
  // per distinct name, under the table's mutex.
  using Maker = std::function<void(absl::string_view full_method, MethodInfo* info)>;

  explicit MethodTable(Maker make) : make_(std::move(make)) {}
  MethodTable(const MethodTable&) = delete;
  MethodTable& operator=(const MethodTable&) = delete;

  // The information for `name` (null counts as ""), a method streaming as
  // `type`, valid for the table's lifetime; null once `kMaxMethods` other
  // names are known.
  const MethodInfo* Find(const char* name, RpcType type = RpcType::kUnknown);

  // Fills `info` for `name` without keeping it (for names past the bound).
  void Make(absl::string_view name, RpcType type, MethodInfo* info) const;

 private:
  struct Slot {
    std::atomic<const char*> key{nullptr};
    std::atomic<const MethodInfo*> info{nullptr};
  };
  // Open addressing by the hash of a name's text; entries are never removed.
  struct NameSlot {
    std::atomic<const MethodInfo*> info{nullptr};
  };
  static constexpr size_t kProbe = 8;

  const MethodInfo* FindSlow(const char* name, RpcType type);

  const Maker make_;
  Slot slots_[kSlots];
  NameSlot by_hash_[kSlots];
  std::mutex mutex_;
  absl::flat_hash_map<std::string, std::unique_ptr<MethodInfo>> by_name_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace internal
}  // namespace tracebridge

#endif  // TRACEBRIDGE_INTERCEPTORS_METHOD_TABLE_H_
