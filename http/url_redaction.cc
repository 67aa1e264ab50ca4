// File: http/url_redaction.cc

#include "tracebridge/http/url_redaction.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tracebridge {

const std::vector<std::string>& DefaultRedactedQueryKeys() {
  static const std::vector<std::string>* const keys =
      new std::vector<std::string>{"AWSAccessKeyId",
                                   "Signature",
                                   "sig",
                                   "X-Goog-Signature",
                                   "password",
                                   "passwd",
                                   "pwd",
                                   "secret",
                                   "client_secret",
                                   "token",
                                   "access_token",
                                   "refresh_token",
                                   "id_token",
                                   "api_key",
                                   "apikey",
                                   "api-key",
                                   "key",
                                   "auth",
                                   "authorization",
                                   "session",
                                   "sessionid",
                                   "code",
                                   "X-Amz-Signature",
                                   "X-Amz-Credential",
                                   "X-Amz-Security-Token",
                                   "X-Goog-Credential"};
  return *keys;
}

bool IsRedactedKey(absl::string_view key, const std::vector<std::string>& keys) noexcept {
  for (const std::string& candidate : keys) {
    if (absl::EqualsIgnoreCase(key, candidate)) return true;
  }
  return false;
}

std::string RedactQueryString(absl::string_view query, const std::vector<std::string>& keys) {
  std::string out;
  out.reserve(query.size());
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t end = query.find('&', pos);
    if (end == absl::string_view::npos) end = query.size();
    absl::string_view part = query.substr(pos, end - pos);
    const size_t eq = part.find('=');
    absl::string_view key = eq == absl::string_view::npos ? part : part.substr(0, eq);
    if (eq != absl::string_view::npos && IsRedactedKey(key, keys)) {
      absl::StrAppend(&out, key, "=", kRedacted);
    } else {
      out.append(part.data(), part.size());
    }
    if (end == query.size()) break;
    out.push_back('&');
    pos = end + 1;
  }
  return out;
}

std::string RedactQuery(const Pistache::Http::Uri::Query& query,
                        const std::vector<std::string>& keys) {
  std::vector<std::pair<absl::string_view, absl::string_view>> params;
  for (auto it = query.parameters_begin(); it != query.parameters_end(); ++it) {
    params.emplace_back(it->first, it->second);
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& param : params) {
    if (!out.empty()) out.push_back('&');
    absl::StrAppend(&out, param.first, "=",
                    IsRedactedKey(param.first, keys) ? kRedacted : param.second);
  }
  return out;
}

namespace {

// The position just past "scheme://", or npos.
size_t AuthorityStart(absl::string_view url) noexcept {
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) return absl::string_view::npos;
  for (size_t i = 0; i < scheme_end; ++i) {
    const char c = url[i];
    if (!absl::ascii_isalnum(c) && c != '+' && c != '-' && c != '.') {
      return absl::string_view::npos;
    }
  }
  return scheme_end + 3;
}

}  // namespace

std::string RedactUrl(absl::string_view url, const std::vector<std::string>& keys) {
  std::string out;
  absl::string_view rest = url;
  const size_t authority = AuthorityStart(url);
  if (authority != absl::string_view::npos) {
    size_t authority_end = url.find_first_of("/?#", authority);
    if (authority_end == absl::string_view::npos) authority_end = url.size();
    absl::string_view host = url.substr(authority, authority_end - authority);
    const size_t at = host.rfind('@');
    out.append(url.data(), authority);
    if (at != absl::string_view::npos) {
      absl::StrAppend(&out, kRedacted, ":", kRedacted, "@");
      host.remove_prefix(at + 1);
    }
    out.append(host.data(), host.size());
    rest = url.substr(authority_end);
  }
  const size_t question = rest.find('?');
  if (question == absl::string_view::npos) {
    out.append(rest.data(), rest.size());
    return out;
  }
  out.append(rest.data(), question + 1);
  absl::string_view query = rest.substr(question + 1);
  absl::string_view fragment;
  const size_t hash = query.find('#');
  if (hash != absl::string_view::npos) {
    fragment = query.substr(hash);
    query = query.substr(0, hash);
  }
  out += RedactQueryString(query, keys);
  out.append(fragment.data(), fragment.size());
  return out;
}

absl::string_view RequestPath(absl::string_view target) noexcept {
  if (target.empty() || target.front() == '/') return target;
  const size_t authority = AuthorityStart(target);
  if (authority == absl::string_view::npos) return target;
  const size_t slash = target.find('/', authority);
  if (slash == absl::string_view::npos) return "/";
  absl::string_view path = target.substr(slash);
  return path.substr(0, path.find_first_of("?#"));
}

bool SplitHostPort(absl::string_view url, std::string* host, int* port) {
  const size_t authority = AuthorityStart(url);
  if (authority == absl::string_view::npos) return false;
  size_t end = url.find_first_of("/?#", authority);
  if (end == absl::string_view::npos) end = url.size();
  absl::string_view hostport = url.substr(authority, end - authority);
  const size_t at = hostport.rfind('@');
  if (at != absl::string_view::npos) hostport.remove_prefix(at + 1);
  absl::string_view name = hostport;
  int number = absl::StartsWithIgnoreCase(url, "https:") ? 443 : 80;
  if (!hostport.empty() && hostport.front() == '[') {
    const size_t close = hostport.find(']');
    if (close == absl::string_view::npos) return false;
    name = hostport.substr(1, close - 1);
    absl::string_view tail = hostport.substr(close + 1);
    if (absl::StartsWith(tail, ":") && !absl::SimpleAtoi(tail.substr(1), &number)) number = 0;
  } else {
    const size_t colon = hostport.rfind(':');
    if (colon != absl::string_view::npos) {
      name = hostport.substr(0, colon);
      if (!absl::SimpleAtoi(hostport.substr(colon + 1), &number)) number = 0;
    }
  }
  *host = std::string(name);
  *port = number;
  return true;
}

}  // namespace tracebridge
