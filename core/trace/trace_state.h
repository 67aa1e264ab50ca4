// File: tracebridge/core/trace/trace_state.h
//
// `TraceState`: the W3C `tracestate` list of vendor key=value members, in
// order, most recently updated first. Immutable: every update returns a new
// value, and copies share one allocation, so a span context carrying a trace
// state is cheap to copy.
//
// Grammar and bounds follow W3C Trace Context Level 2 (section "tracestate
// Header Field Values"):
//   - key   = (lcalpha / DIGIT) 0*255(keychar), keychar = lcalpha / DIGIT /
//             "_" / "-" / "*" / "/" / "@": 1-256 characters, `@` anywhere
//             after the first (so `1foo`, `foo@`, `foo@bar@baz` are keys);
//   - value = 1-256 printable ASCII characters except `,` and `=`, not
//             ending in a space (leading spaces belong to the value);
//   - at most 32 list-members; empty and whitespace-only members are allowed
//     and do not count.
// Parsing: a header with an invalid member or more than 32 members parses to
// nothing (the whole header is discarded, as the processing model allows).
// A repeated key is not an error: the first occurrence is kept and later
// ones are discarded individually (they still count towards the 32).
// Propagation: a header longer than 512 characters is shortened, whole
// members only: members longer than 128 characters go first (from the end,
// only as many as needed), then members from the end.
//
// Example:
//
//   tracebridge::TraceState state;
//   tracebridge::TraceState::Parse("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", &state);
//   state = state.Set("tracebridge", "x1");        // moves to the front
//   std::string header = state.ToHeader();         // "tracebridge=x1,congo=...,rojo=..."
//
//   // Several received `tracestate` header values, without joining them:
//   tracebridge::TraceStateParser parser;
//   for (absl::string_view value : values) parser.Add(value);
//   tracebridge::TraceState received;
//   bool ok = std::move(parser).Finish(&received);

#ifndef TRACEBRIDGE_CORE_TRACE_TRACE_STATE_H_
#define TRACEBRIDGE_CORE_TRACE_TRACE_STATE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace tracebridge {

class TraceState final {
 public:
  static constexpr size_t kMaxMembers = 32;
  static constexpr size_t kMaxHeaderSize = 512;
  static constexpr size_t kMaxMemberSizeWhenShortening = 128;

  // One list-member: `key=value`.
  struct Member {
    std::string key;
    std::string value;
    friend bool operator==(const Member& a, const Member& b) {
      return a.key == b.key && a.value == b.value;
    }
  };

  // The empty trace state.
  TraceState() noexcept = default;

  // Parses a `tracestate` header value (several received header values are
  // joined with "," in order before calling). Empty list-members and optional
  // whitespace are allowed; a repeated key keeps its first value. On success
  // replaces `*out` and returns true; on a violation (bad key or value, more
  // than 32 members) returns false and leaves `*out` untouched. Never throws.
  static bool Parse(absl::string_view header, TraceState* out) noexcept;

  // The header value, shortened to at most 512 characters as described above.
  std::string ToHeader() const;

  // Addition (W3C propagators): the same text as `ToHeader()`, written into
  // `buffer` without allocating, so injection stays allocation-free. Returns
  // a view of the written prefix of `buffer`.
  absl::string_view WriteHeader(char (&buffer)[kMaxHeaderSize]) const noexcept;

  // Empty list-members (only whitespace between commas) are ignored and do
  // not count towards the 32-member bound.

  // The value for `key`, if present.
  absl::optional<absl::string_view> Get(absl::string_view key) const noexcept;

  // A copy with `key` set to `value` and moved to the front. Invalid keys or
  // values return an unchanged copy. When already at 32 members, the last
  // member is dropped to make room.
  TraceState Set(absl::string_view key, absl::string_view value) const;

  // A copy without `key`.
  TraceState Delete(absl::string_view key) const;

  bool empty() const noexcept { return members_ == nullptr || members_->empty(); }
  size_t size() const noexcept { return members_ ? members_->size() : 0; }

  // The members in order (empty when there are none).
  const std::vector<Member>& members() const noexcept;

  // W3C Level 2 key grammar (see the file comment).
  static bool IsValidKey(absl::string_view key) noexcept;
  // W3C value grammar: 1-256 printable ASCII characters except `,` and `=`,
  // not ending in a space.
  static bool IsValidValue(absl::string_view value) noexcept;

  friend bool operator==(const TraceState& a, const TraceState& b) noexcept {
    return a.members() == b.members();
  }
  friend bool operator!=(const TraceState& a, const TraceState& b) noexcept { return !(a == b); }

 private:
  friend class TraceStateParser;

  explicit TraceState(std::shared_ptr<const std::vector<Member>> members) noexcept
      : members_(std::move(members)) {}

  std::shared_ptr<const std::vector<Member>> members_;
};

// Addition (W3C propagators): parses a trace state received as several header
// values, with the same result as `TraceState::Parse` on the values joined
// with ",", but without building the joined string. Memory is bounded by the
// 32-member limit whatever the input size: parsing stops at the first
// violation, and nothing is stored for empty members or repeated keys.
class TraceStateParser final {
 public:
  TraceStateParser() = default;

  // Parses one more header value. Returns false once the trace state is
  // invalid; later calls then do nothing.
  bool Add(absl::string_view header) noexcept;

  // On success (no violation in any value) replaces `*out` and returns true;
  // otherwise returns false and leaves `*out` untouched.
  bool Finish(TraceState* out) && noexcept;

 private:
  std::vector<TraceState::Member> members_;
  // Non-empty list-members seen so far, repeated keys included.
  size_t count_ = 0;
  bool valid_ = true;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_TRACE_TRACE_STATE_H_
