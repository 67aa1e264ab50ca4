// Fuzz target for TraceState::Parse, TraceStateParser and ToHeader.
//
// Properties checked on every input:
// - an accepted trace state has at most 32 members, each valid and unique;
// - its header is at most 512 characters and parses back; when nothing had
//   to be dropped it parses to the same trace state, otherwise to members
//   of the original with the same header again;
// - feeding the input as two header values (split at the first '\n') gives
//   the same result as parsing the two joined with ",";
// - Set and Delete keep those invariants.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "tracebridge/core/trace/trace_state.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

using tracebridge::TraceState;

void CheckInvariants(const TraceState& state) {
  Check(state.size() <= TraceState::kMaxMembers);
  for (size_t i = 0; i < state.members().size(); ++i) {
    const TraceState::Member& member = state.members()[i];
    Check(TraceState::IsValidKey(member.key) && TraceState::IsValidValue(member.value));
    for (size_t j = 0; j < i; ++j) Check(state.members()[j].key != member.key);
  }
  const std::string header = state.ToHeader();
  Check(header.size() <= TraceState::kMaxHeaderSize);
  TraceState parsed;
  Check(TraceState::Parse(header, &parsed));
  if (parsed.size() == state.size()) {
    Check(parsed == state);
  } else {
    Check(parsed.ToHeader() == header);
    for (const TraceState::Member& member : parsed.members()) {
      Check(state.Get(member.key) == absl::optional<absl::string_view>(member.value));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);

  TraceState state;
  const bool accepted = TraceState::Parse(input, &state);
  if (!accepted) Check(state.empty());  // untouched
  if (accepted) CheckInvariants(state);

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
    const bool joined_accepted =
        TraceState::Parse(std::string(first) + "," + std::string(second), &joined);
    Check(split_accepted == joined_accepted);
    Check(split == joined);
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
