// File: core/baggage.cc
//
// W3C Baggage entries, their bounds and their percent-encoding. Parsing the
// header lives with the propagator (core/w3c_propagators.cc); everything that
// decides whether a member fits lives here, so `Set` and the parser apply the
// same rules.

#include "tracebridge/core/trace/baggage.h"
#include "tracebridge/core/util/http_token.h"

#include <cstdint>
#include <utility>

namespace tracebridge {
namespace {

bool IsOws(char c) { return c == ' ' || c == '\t'; }

absl::string_view TrimOws(absl::string_view text) {
  while (!text.empty() && IsOws(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsOws(text.back())) text.remove_suffix(1);
  return text;
}

// property = key OWS "=" OWS value / key OWS, already trimmed on both sides.
bool IsValidProperty(absl::string_view property) {
  const size_t eq = property.find('=');
  if (eq == absl::string_view::npos) return Baggage::IsValidKey(property);
  if (!Baggage::IsValidKey(TrimOws(property.substr(0, eq)))) return false;
  for (char c : TrimOws(property.substr(eq + 1))) {
    if (!Baggage::IsBaggageOctet(c)) return false;
  }
  return true;
}

// W3C baggage-octet: printable ASCII except `"`, `,`, `;` and backslash.
constexpr bool IsOctet(unsigned char u) {
  return u >= 0x21 && u <= 0x7E && u != '"' && u != ',' && u != ';' && u != '\\';
}

// How many bytes each byte takes percent-encoded in a baggage value: 1 for
// a baggage-octet other than `%`, else 3. A table, because encoding and
// measuring walk every byte of up to 8 KiB of values per injected request.
struct EncodedLengths {
  uint8_t length[256];
  constexpr EncodedLengths() : length() {
    for (int c = 0; c < 256; ++c) {
      length[c] = IsOctet(static_cast<unsigned char>(c)) && c != '%' ? 1 : 3;
    }
  }
};
constexpr EncodedLengths kEncodedLengths;

size_t EncodedLength(char c) { return kEncodedLengths.length[static_cast<unsigned char>(c)]; }

// The header size for `members` members whose sizes add up to
// `member_bytes`: the members plus the commas between them.
size_t HeaderBytes(size_t member_bytes, size_t members) {
  return members == 0 ? 0 : member_bytes + members - 1;
}

}  // namespace

bool Baggage::IsBaggageOctet(char c) noexcept { return IsOctet(static_cast<unsigned char>(c)); }

bool Baggage::IsValidKey(absl::string_view key) noexcept {
  if (key.empty()) return false;
  for (char c : key) {
    if (!IsHttpTokenChar(c)) return false;
  }
  return true;
}

bool Baggage::IsValidProperties(absl::string_view properties) noexcept {
  if (properties.empty()) return true;
  if (IsOws(properties.front()) || IsOws(properties.back())) return false;
  while (true) {
    const size_t semicolon = properties.find(';');
    if (!IsValidProperty(TrimOws(properties.substr(0, semicolon)))) return false;
    if (semicolon == absl::string_view::npos) return true;
    properties.remove_prefix(semicolon + 1);
  }
}

size_t Baggage::EncodedValueSize(absl::string_view value) noexcept {
  size_t size = 0;
  for (char c : value) size += EncodedLength(c);
  return size;
}

void Baggage::AppendEncodedValue(absl::string_view value, std::string* out) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  // Runs that need no encoding are appended whole.
  size_t run = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    if (EncodedLength(value[i]) == 1) continue;
    out->append(value.data() + run, i - run);
    const unsigned char u = static_cast<unsigned char>(value[i]);
    const char escaped[3] = {'%', kDigits[u >> 4], kDigits[u & 0xf]};
    out->append(escaped, 3);
    run = i + 1;
  }
  out->append(value.data() + run, value.size() - run);
}

size_t Baggage::EncodedSize(const Entry& entry) noexcept {
  return entry.key.size() + 1 + EncodedValueSize(entry.value) +
         (entry.properties.empty() ? 0 : 1 + entry.properties.size());
}

absl::optional<absl::string_view> Baggage::Get(absl::string_view key) const noexcept {
  for (const Entry& entry : entries()) {
    if (entry.key == key) return absl::string_view(entry.value);
  }
  return absl::nullopt;
}

Baggage Baggage::Set(absl::string_view key, absl::string_view value, absl::string_view properties,
                     bool* accepted) const {
  BaggageBuilder builder;
  for (const Entry& entry : entries()) builder.Add(entry.key, entry.value, entry.properties);
  const bool added =
      builder.Add(std::string(key), std::string(value), std::string(TrimOws(properties)));
  if (accepted != nullptr) *accepted = added;
  if (!added) return *this;
  return std::move(builder).Build();
}

Baggage Baggage::Remove(absl::string_view key) const {
  if (!Get(key).has_value()) return *this;
  auto updated = std::make_shared<std::vector<Entry>>();
  updated->reserve(size());
  for (const Entry& entry : entries()) {
    if (entry.key != key) updated->push_back(entry);
  }
  if (updated->empty()) return Baggage();
  return Baggage(std::move(updated));
}

const std::vector<Baggage::Entry>& Baggage::entries() const noexcept {
  if (entries_ != nullptr) return *entries_;
  // Built on the first call that needs it, so the common non-empty path never
  // allocates, not even once; leaked on purpose (no destructor at exit).
  static const std::vector<Entry>* const kEmpty = new std::vector<Entry>();
  return *kEmpty;
}

bool BaggageBuilder::Add(std::string key, std::string value, std::string properties) {
  if (!Baggage::IsValidKey(key) || !Baggage::IsValidProperties(properties)) return false;
  Baggage::Entry entry{std::move(key), std::move(value), std::move(properties)};
  const size_t entry_bytes = Baggage::EncodedSize(entry);
  // Sum of member sizes without commas, so the comma count can be recomputed.
  const size_t member_bytes = bytes_ - HeaderBytes(0, entries_.size());
  for (Baggage::Entry& existing : entries_) {
    if (existing.key != entry.key) continue;
    const size_t replaced = member_bytes - Baggage::EncodedSize(existing) + entry_bytes;
    if (HeaderBytes(replaced, entries_.size()) > Baggage::kMaxBytes) return false;
    existing = std::move(entry);
    bytes_ = HeaderBytes(replaced, entries_.size());
    return true;
  }
  if (entries_.size() >= Baggage::kMaxMembers) return false;
  // Most baggage has a handful of members: skip the 1-2-4 growth steps.
  if (entries_.empty()) entries_.reserve(8);
  const size_t grown = HeaderBytes(member_bytes + entry_bytes, entries_.size() + 1);
  if (grown > Baggage::kMaxBytes) return false;
  entries_.push_back(std::move(entry));
  bytes_ = grown;
  return true;
}

bool BaggageBuilder::Contains(absl::string_view key) const noexcept {
  for (const Baggage::Entry& entry : entries_) {
    if (entry.key == key) return true;
  }
  return false;
}

Baggage BaggageBuilder::Build() && {
  if (entries_.empty()) return Baggage();
  auto entries = std::make_shared<const std::vector<Baggage::Entry>>(std::move(entries_));
  entries_.clear();
  bytes_ = 0;
  return Baggage(std::move(entries));
}

}  // namespace tracebridge
