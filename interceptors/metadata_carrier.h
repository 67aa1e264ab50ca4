// File: tracebridge/interceptors/metadata_carrier.h
//
// Carrier adapters between gRPC metadata and the core propagators. gRPC
// metadata keys are lowercase, so lookups are exact; binary (`-bin`) values
// arrive already base64-decoded and are handed over as raw bytes.

#ifndef TRACEBRIDGE_INTERCEPTORS_METADATA_CARRIER_H_
#define TRACEBRIDGE_INTERCEPTORS_METADATA_CARRIER_H_

#include <map>
#include <string>

#include <grpcpp/support/string_ref.h>

#include "tracebridge/core/propagation/carrier.h"

namespace tracebridge {

// Reads received metadata (a server's client metadata, or what an
// interceptor sees at POST_RECV_INITIAL_METADATA). A call's metadata is a
// handful of entries: the reader lists them once, and each lookup compares
// lengths (then bytes) in that list instead of walking the tree again.
// Larger maps are searched through the tree.
class MetadataReader final : public CarrierReader {
 public:
  explicit MetadataReader(const std::multimap<grpc::string_ref, grpc::string_ref>* metadata);

  void ForEachValue(absl::string_view key,
                    absl::FunctionRef<bool(absl::string_view)> fn) const override;
  void ForEachKey(absl::FunctionRef<bool(absl::string_view)> fn) const override;
  absl::string_view Get(absl::string_view key, bool* found = nullptr) const override;

 private:
  static constexpr size_t kListed = 16;
  // Plain pointers and sizes, so the array needs no initialising.
  struct Entry {
    const char* key;
    size_t key_size;
    const char* value;
    size_t value_size;
    absl::string_view Key() const { return absl::string_view(key, key_size); }
    absl::string_view Value() const { return absl::string_view(value, value_size); }
  };

  const std::multimap<grpc::string_ref, grpc::string_ref>* metadata_;
  // The map's entries in its order, when it has at most kListed.
  Entry entries_[kListed];
  size_t listed_ = 0;
  bool all_listed_ = false;
};

// Writes metadata about to be sent (what an interceptor sees at
// PRE_SEND_INITIAL_METADATA). `Set` replaces earlier values of the key.
class MetadataWriter final : public CarrierWriter {
 public:
  explicit MetadataWriter(std::multimap<std::string, std::string>* metadata)
      : metadata_(metadata) {}

  void Set(absl::string_view key, absl::string_view value) override;

 private:
  std::multimap<std::string, std::string>* metadata_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_INTERCEPTORS_METADATA_CARRIER_H_
