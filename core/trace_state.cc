#include "core/trace_state.h"

namespace tracebridge {

// Parsing and formatting land with the W3C propagators.

const std::vector<TraceState::Member>& TraceState::members() const noexcept {
  static const std::vector<Member>* const kEmpty = new std::vector<Member>();
  return members_ ? *members_ : *kEmpty;
}

}  // namespace tracebridge
