// File: tracebridge/core/header_capture.h
//
// Recording an allow-list of gRPC metadata and HTTP headers as span
// attributes, named as the OpenTelemetry semantic conventions name them:
//
//   rpc.grpc.request.metadata.<key>    rpc.grpc.response.metadata.<key>
//   http.request.header.<key>          http.response.header.<key>
//
// `<key>` is the configured key in lowercase; keys match case-insensitively.
// Nothing is recorded unless keys are listed (the default lists are empty).
//
// Values: the conventions type these attributes as string arrays; span
// attributes in tracebridge are scalars in every exporter, so a key's values
// are recorded as one string, repeated values joined with "," in the order
// received (how RFC 9110 section 5.3 combines repeated field lines, and the
// single-item form the HTTP conventions allow). Each attribute is cut to
// `max_value_bytes` at a character boundary (counted in
// `tracebridge_captured_values_truncated_total`) and repaired to valid UTF-8
// like every other string. Binary gRPC metadata (keys ending in `-bin`,
// which gRPC hands over decoded) is recorded base64-encoded, as it travels.
//
// Redaction: a credential-like key (authorization, proxy-authorization,
// cookie, set-cookie, x-api-key, or a name containing token, secret,
// password, passwd, api-key or apikey) and every key in `redacted_keys` is
// recorded with the value "REDACTED" (its presence shows, its value never
// does), unless it is also listed in `unredacted_keys`, the explicit opt-in.
//
// Environment (read by `TelemetryBuilder::FromEnvironment()`), comma-separated
// key lists unless noted:
//   TRACEBRIDGE_GRPC_CAPTURE_REQUEST_METADATA, ..._RESPONSE_METADATA,
//   TRACEBRIDGE_HTTP_CAPTURE_REQUEST_HEADERS, ..._RESPONSE_HEADERS,
//   TRACEBRIDGE_CAPTURE_MAX_VALUE_BYTES (a positive integer),
//   TRACEBRIDGE_CAPTURE_REDACT, TRACEBRIDGE_CAPTURE_UNREDACT.
//
// Cost: when a list is empty the doors skip it with one branch; otherwise a
// pass over the call's metadata or headers comparing names, and a string
// per captured key.
//
// Example:
//
//   tracebridge::HeaderCaptureOptions capture;
//   capture.grpc_request_metadata = {"x-tenant", "user-agent"};
//   capture.http_request_headers = {"X-Request-ID"};
//   builder.SetHeaderCapture(capture);

#ifndef TRACEBRIDGE_CORE_HEADER_CAPTURE_H_
#define TRACEBRIDGE_CORE_HEADER_CAPTURE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tracebridge/core/trace/span.h"

namespace tracebridge {

// The value recorded for a redacted key.
inline constexpr absl::string_view kRedactedValue = "REDACTED";

struct HeaderCaptureOptions {
  // Keys recorded by each door (empty: nothing recorded, the default).
  std::vector<std::string> grpc_request_metadata;
  std::vector<std::string> grpc_response_metadata;
  std::vector<std::string> http_request_headers;
  std::vector<std::string> http_response_headers;
  // The most bytes of one attribute's value (all of a key's values joined);
  // 1 … 65536.
  size_t max_value_bytes = 256;
  // Keys recorded as "REDACTED", besides the credential-like ones.
  std::vector<std::string> redacted_keys;
  // Credential-like keys to record in clear all the same (opt-in).
  std::vector<std::string> unredacted_keys;

  // The options the TRACEBRIDGE_*CAPTURE* variables set on top of `base`
  // (see the file comment); InvalidArgument naming the variable otherwise.
  static absl::StatusOr<HeaderCaptureOptions> FromEnvironment(HeaderCaptureOptions base);
  static absl::StatusOr<HeaderCaptureOptions> FromEnvironment();
};

// InvalidArgument naming the list and the key for a key that is no HTTP
// token (gRPC: not of 0-9 a-z A-Z - _ .), more than 64 keys in a list, or a
// `max_value_bytes` out of range.
absl::Status ValidateHeaderCapture(const HeaderCaptureOptions& options);

// True for the credential-like keys redacted by default (any case).
bool IsCredentialLikeKey(absl::string_view key) noexcept;

// Where a `HeaderCapture` records.
enum class CaptureKind : uint8_t {
  kGrpcRequest = 0,
  kGrpcResponse = 1,
  kHttpRequest = 2,
  kHttpResponse = 3,
};

// One door's compiled allow-list. Built once (by `Telemetry`), shared
// read-only by every call; thread-safe.
class HeaderCapture final {
 public:
  // Values gathered for one call, one slot per key; filled by `Add`,
  // recorded by `Apply`. Used by one thread at a time.
  class Values {
   public:
    bool empty() const noexcept { return values_.empty(); }

   private:
    friend class HeaderCapture;
    std::vector<std::string> values_;
    std::vector<uint8_t> present_;
  };

  HeaderCapture() = default;
  HeaderCapture(CaptureKind kind, const HeaderCaptureOptions& options,
                std::atomic<uint64_t>* truncated);

  // Nothing to record: the doors skip everything.
  bool empty() const noexcept { return entries_.empty(); }

  // Adds `value` to `values` when `key` is on the list (any case).
  void Add(Values* values, absl::string_view key, absl::string_view value) const;

  // Sets one attribute per key seen on `span` (when recording).
  void Apply(const Values& values, Span& span) const;

  // The attribute names, in list order (for tests and documentation).
  std::vector<std::string> AttributeNames() const;

 private:
  struct Entry {
    std::string key;        // lowercase
    std::string attribute;  // prefix + key
    bool redacted = false;
    bool binary = false;
  };
  std::vector<Entry> entries_;
  size_t max_value_bytes_ = 256;
  std::atomic<uint64_t>* truncated_ = nullptr;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_HEADER_CAPTURE_H_
