// File: tracebridge/core/propagation/carrier.h
//
// The carrier interface every propagator reads from and writes to. gRPC
// metadata and HTTP headers each adapt to it in their own folder, so one set
// of propagators serves both doors.
//
// Keys passed by propagators are lowercase. Readers match keys
// case-insensitively where their transport is case-insensitive (HTTP), and
// report every value of a repeated key in arrival order. Values are bytes:
// binary gRPC metadata (`*-bin` keys) arrives already base64-decoded.
//
// Example:
//
//   tracebridge::VectorCarrier headers;
//   headers.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
//   propagator.Extract(headers, &context);

#ifndef TRACEBRIDGE_CORE_PROPAGATION_CARRIER_H_
#define TRACEBRIDGE_CORE_PROPAGATION_CARRIER_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace tracebridge {

// Read access to incoming headers or metadata.
class CarrierReader {
 public:
  virtual ~CarrierReader() = default;

  // Calls `fn` with each value of `key`, in arrival order, until `fn` returns
  // false. Never called for an absent key.
  virtual void ForEachValue(absl::string_view key,
                            absl::FunctionRef<bool(absl::string_view)> fn) const = 0;

  // Calls `fn` with each distinct key present, until `fn` returns false.
  virtual void ForEachKey(absl::FunctionRef<bool(absl::string_view)> fn) const = 0;

  // The first value of `key`; `*found` (when given) tells absent from empty.
  // Carriers may override this for speed; the default uses ForEachValue.
  virtual absl::string_view Get(absl::string_view key, bool* found = nullptr) const;

  // How many values `key` has (0 when absent).
  size_t CountValues(absl::string_view key) const;
};

// Write access to outgoing headers or metadata.
class CarrierWriter {
 public:
  virtual ~CarrierWriter() = default;

  // Sets `key` to `value`, replacing any value this request already had for
  // it where the transport allows.
  virtual void Set(absl::string_view key, absl::string_view value) = 0;
};

// A carrier over an ordered list of (key, value) pairs with ASCII
// case-insensitive keys: for tests, and for transports without their own
// adapter.
class VectorCarrier final : public CarrierReader, public CarrierWriter {
 public:
  VectorCarrier() = default;
  explicit VectorCarrier(std::vector<std::pair<std::string, std::string>> entries)
      : entries_(std::move(entries)) {}

  void ForEachValue(absl::string_view key,
                    absl::FunctionRef<bool(absl::string_view)> fn) const override;
  void ForEachKey(absl::FunctionRef<bool(absl::string_view)> fn) const override;
  absl::string_view Get(absl::string_view key, bool* found = nullptr) const override;

  // Replaces every existing value of `key` with one value.
  void Set(absl::string_view key, absl::string_view value) override;

  // Appends a value, keeping existing ones (a repeated header).
  void Add(absl::string_view key, absl::string_view value);

  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_PROPAGATION_CARRIER_H_
