#include "tracebridge/core/util/name_filter.h"

#include "absl/strings/match.h"

namespace tracebridge {

bool MatchesNamePattern(absl::string_view pattern, absl::string_view name) noexcept {
  if (pattern.empty()) return false;
  if (pattern.back() == '*') return absl::StartsWith(name, pattern.substr(0, pattern.size() - 1));
  return name == pattern;
}

bool NameFilter::Excludes(absl::string_view name) const noexcept {
  for (const std::string& pattern : excluded) {
    if (MatchesNamePattern(pattern, name)) return true;
  }
  return false;
}

}  // namespace tracebridge
