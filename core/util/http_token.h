// File: tracebridge/core/util/http_token.h
//
// RFC 9110 tokens (section 5.6.2): what HTTP field names, and W3C baggage
// keys, are made of. One check for every place that validates them.
//
// Example:
//
//   if (!tracebridge::IsHttpToken(name)) return absl::InvalidArgumentError(...);

#ifndef TRACEBRIDGE_CORE_UTIL_HTTP_TOKEN_H_
#define TRACEBRIDGE_CORE_UTIL_HTTP_TOKEN_H_

#include "absl/strings/string_view.h"

namespace tracebridge {

// tchar: ALPHA, DIGIT and "!#$%&'*+-.^_`|~".
constexpr bool IsHttpTokenChar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// A non-empty run of tchar.
constexpr bool IsHttpToken(absl::string_view text) noexcept {
  if (text.empty()) return false;
  for (char c : text) {
    if (!IsHttpTokenChar(c)) return false;
  }
  return true;
}

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_UTIL_HTTP_TOKEN_H_
