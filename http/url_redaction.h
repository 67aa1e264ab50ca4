// File: tracebridge/http/url_redaction.h
//
// What tracebridge records of a URL: `url.query` and `url.full` with the
// values of credential-like query parameters replaced by `REDACTED`, and
// userinfo (`user:password@`) never recorded.
//
// The default list of redacted keys (`DefaultRedactedQueryKeys`, matched ASCII
// case-insensitively) covers the four keys the OpenTelemetry semantic
// conventions name (`AWSAccessKeyId`, `Signature`, `sig`, `X-Goog-Signature`)
// plus the usual credential parameters: `password`, `passwd`, `pwd`,
// `secret`, `client_secret`, `token`, `access_token`, `refresh_token`,
// `id_token`, `api_key`, `apikey`, `api-key`, `key`, `auth`, `authorization`,
// `session`, `sessionid`, `code`, `X-Amz-Signature`, `X-Amz-Credential`,
// `X-Amz-Security-Token`, `X-Goog-Credential`. The key itself stays, so a
// reader still sees which parameters a request had.
//
// Example:
//
//   std::string query = tracebridge::RedactQueryString("a=1&token=abc",
//                                                      tracebridge::DefaultRedactedQueryKeys());
//   // query == "a=1&token=REDACTED"

#ifndef TRACEBRIDGE_HTTP_URL_REDACTION_H_
#define TRACEBRIDGE_HTTP_URL_REDACTION_H_

#include <string>
#include <vector>

#include <pistache/http.h>

#include "absl/strings/string_view.h"

namespace tracebridge {

// The value written in place of a redacted one.
inline constexpr absl::string_view kRedacted = "REDACTED";

// The default keys whose values are redacted (see the file comment).
const std::vector<std::string>& DefaultRedactedQueryKeys();

// True when `key` equals one of `keys`, ASCII case-insensitively.
bool IsRedactedKey(absl::string_view key, const std::vector<std::string>& keys) noexcept;

// A raw query string (no leading '?') with the values of `keys` redacted;
// parameter order and encoding are kept.
std::string RedactQueryString(absl::string_view query, const std::vector<std::string>& keys);

// Pistache's parsed query as `k=v&k=v` (sorted by key: Pistache keeps the
// parameters in a hash map, so their arrival order is lost), values of
// `keys` redacted. Empty when there are no parameters.
std::string RedactQuery(const Pistache::Http::Uri::Query& query,
                        const std::vector<std::string>& keys);

// An absolute URL with userinfo replaced by `REDACTED:REDACTED@` (as the
// semantic conventions ask) and the query redacted.
std::string RedactUrl(absl::string_view url, const std::vector<std::string>& keys);

// The path of a request target: the target itself for origin form
// ("/a/b"), the part from the first '/' after the authority for absolute form
// ("http://user@host/a/b" -> "/a/b"), so userinfo never reaches `url.path`.
absl::string_view RequestPath(absl::string_view target) noexcept;

// Splits an absolute `http://host:port/path` URL into host and port (80 when
// absent, 0 when unparsable). Returns false for anything else.
bool SplitHostPort(absl::string_view url, std::string* host, int* port);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_HTTP_URL_REDACTION_H_
