// File: tracebridge/core/util/page_token.h
//
// `PageTokenCodec`: turns a paging cursor into an opaque token a client can
// hand back but cannot make up, and back. A token is 23 URL-safe base64
// characters: a version byte, the cursor, and a SipHash-2-4 tag
// (core/util/siphash.h) over both and a `scope` naming the query, under a key
// the codec draws at random when it is built. So only tokens this codec
// issued redeem, each only for the scope it was issued for, and none
// survives a restart of the process.
//
// Threading: const after construction; safe from any number of threads.
//
// Example:
//
//   tracebridge::PageTokenCodec tokens;
//   std::string token = tokens.Issue(cursor, "ListSpans|errors_only");
//   absl::optional<uint64_t> back = tokens.Redeem(token, "ListSpans|errors_only");

#ifndef TRACEBRIDGE_CORE_UTIL_PAGE_TOKEN_H_
#define TRACEBRIDGE_CORE_UTIL_PAGE_TOKEN_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "tracebridge/core/util/siphash.h"

namespace tracebridge {

class PageTokenCodec {
 public:
  // A codec with a fresh random key.
  PageTokenCodec() : key_(SipHashKey::Random()) {}

  // The token for `cursor` in `scope`.
  std::string Issue(uint64_t cursor, absl::string_view scope) const;
  // The cursor of a token this codec issued for the same `scope`, if it is
  // not 0; nullopt for any other string (garbled, forged, another scope,
  // another codec).
  absl::optional<uint64_t> Redeem(absl::string_view token, absl::string_view scope) const;

 private:
  const SipHashKey key_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_UTIL_PAGE_TOKEN_H_
