#include "tracebridge/core/propagation/carrier.h"

#include <algorithm>

#include "absl/strings/match.h"

namespace tracebridge {

absl::string_view CarrierReader::Get(absl::string_view key, bool* found) const {
  absl::string_view first;
  bool any = false;
  ForEachValue(key, [&](absl::string_view value) {
    first = value;
    any = true;
    return false;
  });
  if (found != nullptr) *found = any;
  return first;
}

size_t CarrierReader::CountValues(absl::string_view key) const {
  size_t count = 0;
  ForEachValue(key, [&](absl::string_view) {
    ++count;
    return true;
  });
  return count;
}

void VectorCarrier::ForEachValue(absl::string_view key,
                                 absl::FunctionRef<bool(absl::string_view)> fn) const {
  for (const auto& entry : entries_) {
    if (absl::EqualsIgnoreCase(entry.first, key) && !fn(entry.second)) return;
  }
}

void VectorCarrier::ForEachKey(absl::FunctionRef<bool(absl::string_view)> fn) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j) {
      seen = absl::EqualsIgnoreCase(entries_[j].first, entries_[i].first);
    }
    if (!seen && !fn(entries_[i].first)) return;
  }
}

absl::string_view VectorCarrier::Get(absl::string_view key, bool* found) const {
  for (const auto& entry : entries_) {
    if (absl::EqualsIgnoreCase(entry.first, key)) {
      if (found != nullptr) *found = true;
      return entry.second;
    }
  }
  if (found != nullptr) *found = false;
  return {};
}

void VectorCarrier::Set(absl::string_view key, absl::string_view value) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const std::pair<std::string, std::string>& entry) {
                                  return absl::EqualsIgnoreCase(entry.first, key);
                                }),
                 entries_.end());
  Add(key, value);
}

void VectorCarrier::Add(absl::string_view key, absl::string_view value) {
  entries_.emplace_back(std::string(key), std::string(value));
}

}  // namespace tracebridge
