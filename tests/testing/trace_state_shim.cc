// File: tests/testing/trace_state_shim.cc
//
// Stand-in definitions of `TraceState::Parse` and `TraceState::ToHeader` for
// test and benchmark binaries on branches where core/trace_state.cc only
// declares them (the real ones arrive with the W3C propagators). They are
// weak symbols: when the real, strong definitions are linked in, the linker
// takes those, so this file is harmless after the merge; delete it (and the
// `trace_state_shim` dependency lines) then.
//
// Deliberately minimal: splits on ',' and '=' without the W3C grammar checks
// or the 512-character shortening; tests only feed it well-formed headers.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "core/trace_state.h"

namespace tracebridge {

__attribute__((weak)) bool TraceState::Parse(absl::string_view header, TraceState* out) noexcept {
  auto members = std::make_shared<std::vector<Member>>();
  for (absl::string_view entry : absl::StrSplit(header, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) continue;
    const size_t eq = entry.find('=');
    if (eq == absl::string_view::npos || eq == 0) return false;
    members->push_back(Member{std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1))});
  }
  if (members->size() > kMaxMembers) return false;
  *out = TraceState(std::move(members));
  return true;
}

__attribute__((weak)) std::string TraceState::ToHeader() const {
  std::string header;
  for (const Member& member : members()) {
    if (!header.empty()) header.push_back(',');
    header.append(member.key).append("=").append(member.value);
  }
  return header;
}

}  // namespace tracebridge
