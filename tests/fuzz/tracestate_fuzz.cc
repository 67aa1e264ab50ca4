// Fuzz target for TraceState::Parse, TraceStateParser and ToHeader (W3C Trace
// Context Level 2 `tracestate`).
//
// Properties checked on every input:
// - an accepted trace state has at most 32 members, each valid and unique,
//   each key starting with a lowercase letter or digit and at most 256
//   characters long, each `key=value` present in the input;
// - its header is at most 512 characters and parses back; when nothing had
//   to be dropped it parses to the same trace state, otherwise to members
//   of the original with the same header again;
// - a repeated key keeps its first value: an accepted input of at most 16
//   members, sent twice, parses to the same trace state;
// - feeding the input as two header values (split at the first '\n') gives
//   the same result as parsing the two joined with ",";
// - a rejected input leaves the output untouched;
// - Set and Delete keep those invariants.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "tests/fuzz/fuzz_check.h"
#include "tracebridge/core/trace/trace_state.h"

namespace {

using tracebridge::TraceState;

void CheckInvariants(const TraceState& state) {
  FUZZ_CHECK(state.size() <= TraceState::kMaxMembers);
  for (size_t i = 0; i < state.members().size(); ++i) {
    const TraceState::Member& member = state.members()[i];
    FUZZ_CHECK(TraceState::IsValidKey(member.key) && TraceState::IsValidValue(member.value));
    const char first = member.key[0];
    FUZZ_CHECK((first >= 'a' && first <= 'z') || (first >= '0' && first <= '9'));
    FUZZ_CHECK(member.key.size() <= 256);
    for (size_t j = 0; j < i; ++j) FUZZ_CHECK(state.members()[j].key != member.key);
  }
  const std::string header = state.ToHeader();
  FUZZ_CHECK(header.size() <= TraceState::kMaxHeaderSize);
  TraceState parsed;
  FUZZ_CHECK(TraceState::Parse(header, &parsed));
  if (parsed.size() == state.size()) {
    FUZZ_CHECK(parsed == state);
  } else {
    FUZZ_CHECK(parsed.ToHeader() == header);
    for (const TraceState::Member& member : parsed.members()) {
      FUZZ_CHECK(state.Get(member.key) == absl::optional<absl::string_view>(member.value));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);

  const TraceState sentinel = TraceState().Set("sentinel", "1");
  TraceState state = sentinel;
  const bool accepted = TraceState::Parse(input, &state);
  if (!accepted) FUZZ_CHECK(state == sentinel);  // untouched
  if (accepted) {
    CheckInvariants(state);
    for (const TraceState::Member& member : state.members()) {
      FUZZ_CHECK(absl::StrContains(input, absl::StrCat(member.key, "=", member.value)));
    }
    if (state.size() <= TraceState::kMaxMembers / 2 &&
        input.find('\n') == absl::string_view::npos) {
      TraceState twice;
      // Accepted only when the doubled list still has at most 32 members.
      if (TraceState::Parse(absl::StrCat(input, ",", input), &twice)) FUZZ_CHECK(twice == state);
    }
  }

  const size_t newline = input.find('\n');
  if (newline != absl::string_view::npos) {
    const absl::string_view first = input.substr(0, newline);
    const absl::string_view second = input.substr(newline + 1);
    tracebridge::TraceStateParser parser;
    parser.Add(first);
    parser.Add(second);
    TraceState split;
    const bool split_accepted = std::move(parser).Finish(&split);
    TraceState joined;
    const bool joined_accepted = TraceState::Parse(absl::StrCat(first, ",", second), &joined);
    FUZZ_CHECK(split_accepted == joined_accepted);
    FUZZ_CHECK(split == joined);
  }

  if (accepted) {
    CheckInvariants(state.Set("fuzz", "x"));
    if (!state.empty()) {
      const TraceState::Member& last = state.members().back();
      CheckInvariants(state.Set(last.key, "updated"));
      CheckInvariants(state.Delete(state.members().front().key));
    }
  }
  return 0;
}
