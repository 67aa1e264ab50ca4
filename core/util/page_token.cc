#include "tracebridge/core/util/page_token.h"

#include <cstddef>
#include <string>

#include "absl/strings/escaping.h"

namespace tracebridge {
namespace {

// A token's bytes: version, cursor and tag, the last two little-endian.
constexpr unsigned char kPageTokenVersion = 1;
constexpr size_t kPageTokenBytes = 1 + 8 + 8;

void PutLittleEndian64(uint64_t value, char* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

uint64_t GetLittleEndian64(const char* in) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(in[i]);
  return value;
}

// The tag over the version and cursor bytes, then the scope.
uint64_t PageTokenTag(const SipHashKey& key, absl::string_view header, absl::string_view scope) {
  std::string message(header);
  message.append(scope.data(), scope.size());
  return SipHash24(key, message);
}

}  // namespace

std::string PageTokenCodec::Issue(uint64_t cursor, absl::string_view scope) const {
  char raw[kPageTokenBytes];
  raw[0] = static_cast<char>(kPageTokenVersion);
  PutLittleEndian64(cursor, raw + 1);
  PutLittleEndian64(PageTokenTag(key_, absl::string_view(raw, 9), scope), raw + 9);
  return absl::WebSafeBase64Escape(absl::string_view(raw, sizeof(raw)));
}

absl::optional<uint64_t> PageTokenCodec::Redeem(absl::string_view token,
                                                absl::string_view scope) const {
  // 17 bytes are 23 base64 characters without padding; anything else was
  // never issued (and is not decoded at all, however long).
  if (token.size() != 23) return absl::nullopt;
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() != kPageTokenBytes ||
      static_cast<unsigned char>(raw[0]) != kPageTokenVersion) {
    return absl::nullopt;
  }
  const uint64_t expected = PageTokenTag(key_, absl::string_view(raw.data(), 9), scope);
  // One word compare: the time taken says nothing about how much of a
  // guessed tag was right.
  if ((expected ^ GetLittleEndian64(raw.data() + 9)) != 0) return absl::nullopt;
  const uint64_t cursor = GetLittleEndian64(raw.data() + 1);
  if (cursor == 0) return absl::nullopt;
  return cursor;
}

}  // namespace tracebridge
