// Fuzzes what the admin side reads from a client before anything else: page
// tokens (PageTokenCodec::Redeem) and the Authorization value (BearerToken). A made-up token never
// redeems (forging one means guessing a 64-bit tag); a token the store issued redeems to its
// cursor, for its own scope only; a bearer token is a trimmed part of the value after "Bearer ".

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "tests/fuzz/fuzz_check.h"
#include "tracebridge/core/access_policy.h"
#include "tracebridge/core/util/page_token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tracebridge::PageTokenCodec* const tokens = new tracebridge::PageTokenCodec();
  const absl::string_view input(reinterpret_cast<const char*>(data), size);

  FUZZ_CHECK(!tokens->Redeem(input, "scope").has_value());
  FUZZ_CHECK(!tokens->Redeem(input, input).has_value());

  // The input as a cursor and a scope: issued tokens round-trip.
  uint64_t cursor = 0;
  // An empty input may come with a null `data`, which memcpy must not see.
  if (size > 0) std::memcpy(&cursor, data, size < sizeof(cursor) ? size : sizeof(cursor));
  if (cursor != 0) {
    const std::string token = tokens->Issue(cursor, input);
    FUZZ_CHECK(token.size() == 23);
    FUZZ_CHECK(tokens->Redeem(token, input) == cursor);
    FUZZ_CHECK(!tokens->Redeem(token, std::string(input) + "x").has_value());
  }

  const absl::string_view token = tracebridge::BearerToken(input);
  if (!token.empty()) {
    FUZZ_CHECK(token.data() >= input.data() &&
               token.data() + token.size() <= input.data() + input.size());
    FUZZ_CHECK(absl::StripAsciiWhitespace(token) == token);
    FUZZ_CHECK(absl::StartsWithIgnoreCase(absl::StripLeadingAsciiWhitespace(input), "bearer "));
  }
  return 0;
}
