#include "core/baggage.h"

namespace tracebridge {

// Minimal container operations; validation, bounds and the wire format land
// with the W3C propagators.

const std::vector<Baggage::Entry>& Baggage::entries() const noexcept {
  static const std::vector<Entry>* const kEmpty = new std::vector<Entry>();
  return entries_ ? *entries_ : *kEmpty;
}

absl::optional<absl::string_view> Baggage::Get(absl::string_view key) const noexcept {
  for (const Entry& entry : entries()) {
    if (entry.key == key) return absl::string_view(entry.value);
  }
  return absl::nullopt;
}

Baggage Baggage::Set(absl::string_view key, absl::string_view value, absl::string_view properties,
                     bool* accepted) const {
  auto entries = std::make_shared<std::vector<Entry>>(this->entries());
  bool replaced = false;
  for (Entry& entry : *entries) {
    if (entry.key == key) {
      entry.value = std::string(value);
      entry.properties = std::string(properties);
      replaced = true;
    }
  }
  if (!replaced) {
    entries->push_back(Entry{std::string(key), std::string(value), std::string(properties)});
  }
  if (accepted != nullptr) *accepted = true;
  return Baggage(std::move(entries));
}

}  // namespace tracebridge
