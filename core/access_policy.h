// File: tracebridge/core/access_policy.h
//
// Who may read tracebridge's own telemetry (the `tracebridge.v1.Query`
// service, `/metrics`, `/metrics.json`, `/traces/:trace_id`): one policy type
// for both doors, so a service states it once for gRPC and HTTP.
//
// A request passes when it carries the required bearer token (if one is set)
// as `authorization: Bearer <token>` (gRPC metadata or HTTP header; the
// scheme is case-insensitive) and the predicate (if one is set) returns true.
// A missing or wrong token is refused as unauthenticated (gRPC
// UNAUTHENTICATED, HTTP 401 with `WWW-Authenticate: Bearer`); a predicate
// that returns false, or throws, as denied (PERMISSION_DENIED, HTTP 403). The
// token is compared in time independent of where it differs.
//
// An empty policy admits everyone who can connect, which is why the admin
// listener binds to loopback by default (see the README's threat model).
//
// Example:
//
//   tracebridge::AccessPolicy policy;
//   policy.bearer_token = ReadSecretFile("/etc/orders/admin-token");
//   policy.allow = [](const tracebridge::AccessRequest& request) {
//     return absl::StartsWith(request.peer(), "ipv4:10.");  // and the token
//   };

#ifndef TRACEBRIDGE_CORE_ACCESS_POLICY_H_
#define TRACEBRIDGE_CORE_ACCESS_POLICY_H_

#include <functional>
#include <string>

#include "absl/strings/string_view.h"

namespace tracebridge {

// One request for telemetry, as the policy sees it, whichever the protocol.
class AccessRequest {
 public:
  virtual ~AccessRequest() = default;

  // "grpc" or "http".
  virtual absl::string_view protocol() const = 0;
  // gRPC: the full method ("/tracebridge.v1.Query/ListSpans"); HTTP: the
  // request path ("/metrics").
  virtual absl::string_view path() const = 0;
  // The peer as the server reports it (gRPC "ipv4:127.0.0.1:5555", HTTP
  // "127.0.0.1:5555").
  virtual std::string peer() const = 0;
  // The value of request header / metadata `name` (lowercase), empty when
  // absent.
  virtual std::string Header(absl::string_view name) const = 0;
};

struct AccessPolicy {
  // Required bearer token; empty: none is required. Use a long random string.
  std::string bearer_token;
  // Further check, run after the token check; empty: admit. Called
  // concurrently from the servers' threads, so it must be thread-safe.
  std::function<bool(const AccessRequest&)> allow;

  // True when the policy admits every request.
  bool IsOpen() const { return bearer_token.empty() && !allow; }
};

enum class AccessDecision {
  kAllowed,
  // No token, or not the required one.
  kUnauthenticated,
  // The predicate said no (or threw).
  kDenied,
};

// Applies `policy` to `request` (see the file comment). Never throws.
AccessDecision CheckAccess(const AccessPolicy& policy, const AccessRequest& request) noexcept;

// The token of an `Authorization` value "Bearer <token>" (scheme
// case-insensitive, spaces around the token ignored); empty for any other
// value.
absl::string_view BearerToken(absl::string_view authorization) noexcept;

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_ACCESS_POLICY_H_
