#include "tracebridge/core/access_policy.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace tracebridge {
namespace {

// Equal strings, compared so that the time taken depends on the lengths
// only, not on where the first difference is.
bool EqualInConstantTime(absl::string_view a, absl::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

}  // namespace

absl::string_view BearerToken(absl::string_view authorization) noexcept {
  authorization = absl::StripAsciiWhitespace(authorization);
  constexpr absl::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !absl::StartsWithIgnoreCase(authorization, kScheme) || authorization[kScheme.size()] != ' ') {
    return {};
  }
  return absl::StripLeadingAsciiWhitespace(authorization.substr(kScheme.size()));
}

AccessDecision CheckAccess(const AccessPolicy& policy, const AccessRequest& request) noexcept {
  try {
    if (!policy.bearer_token.empty()) {
      const std::string authorization = request.Header("authorization");
      const absl::string_view token = BearerToken(authorization);
      if (token.empty() || !EqualInConstantTime(token, policy.bearer_token)) {
        return AccessDecision::kUnauthenticated;
      }
    }
    if (policy.allow && !policy.allow(request)) return AccessDecision::kDenied;
    return AccessDecision::kAllowed;
  } catch (...) {
    // A predicate (or a header lookup) that throws refuses; it never
    // escapes into the server.
    return AccessDecision::kDenied;
  }
}

}  // namespace tracebridge
