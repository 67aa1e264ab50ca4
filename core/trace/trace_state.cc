// File: core/trace/trace_state.cc
//
// W3C `tracestate` parsing, formatting and updates. Parsing validates each
// member against the grammar before copying it, and copies at most 32
// members (a repeated key is skipped, not stored), so an invalid, oversized
// or repetitive header costs a scan, never an allocation proportional to its
// size.

#include "tracebridge/core/trace/trace_state.h"

#include <cstring>

namespace tracebridge {
namespace {

bool IsOws(char c) { return c == ' ' || c == '\t'; }

absl::string_view TrimOws(absl::string_view text) {
  while (!text.empty() && IsOws(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsOws(text.back())) text.remove_suffix(1);
  return text;
}

bool IsLcAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
bool IsKeyChar(char c) {
  return IsLcAlpha(c) || IsDigit(c) || c == '_' || c == '-' || c == '*' || c == '/' || c == '@';
}

// nblk-chr = %x21-2B / %x2D-3C / %x3E-7E: printable, not `,` nor `=`.
bool IsNonBlankValueChar(char c) { return c >= 0x21 && c <= 0x7E && c != ',' && c != '='; }

// Splits one non-empty, OWS-trimmed list-member into key and value.
bool SplitMember(absl::string_view member, absl::string_view* key, absl::string_view* value) {
  const size_t eq = member.find('=');
  if (eq == absl::string_view::npos) return false;
  *key = member.substr(0, eq);
  *value = member.substr(eq + 1);
  return TraceState::IsValidKey(*key) && TraceState::IsValidValue(*value);
}

bool Contains(const std::vector<TraceState::Member>& members, absl::string_view key) {
  for (const TraceState::Member& existing : members) {
    if (existing.key == key) return true;
  }
  return false;
}

// Appends the members of one header value to `*members`, counting every
// non-empty list-member in `*count`; false on any violation. Members are
// validated (and the bound checked) before they are copied; a repeated key
// is counted but not stored.
bool ParseInto(absl::string_view header, std::vector<TraceState::Member>* members, size_t* count) {
  while (true) {
    const size_t comma = header.find(',');
    const absl::string_view member = TrimOws(header.substr(0, comma));
    if (!member.empty()) {
      absl::string_view key, value;
      if (!SplitMember(member, &key, &value)) return false;
      if (*count == TraceState::kMaxMembers) return false;
      ++*count;
      if (!Contains(*members, key)) members->push_back({std::string(key), std::string(value)});
    }
    if (comma == absl::string_view::npos) return true;
    header.remove_prefix(comma + 1);
  }
}

size_t MemberSize(const TraceState::Member& member) {
  return member.key.size() + 1 + member.value.size();
}

}  // namespace

bool TraceState::IsValidKey(absl::string_view key) noexcept {
  // key = (lcalpha / DIGIT) 0*255(keychar)
  if (key.empty() || key.size() > 256 || !(IsLcAlpha(key[0]) || IsDigit(key[0]))) return false;
  for (char c : key.substr(1)) {
    if (!IsKeyChar(c)) return false;
  }
  return true;
}

bool TraceState::IsValidValue(absl::string_view value) noexcept {
  // value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr
  if (value.empty() || value.size() > 256 || !IsNonBlankValueChar(value.back())) return false;
  for (char c : value) {
    if (c != ' ' && !IsNonBlankValueChar(c)) return false;
  }
  return true;
}

bool TraceState::Parse(absl::string_view header, TraceState* out) noexcept {
  TraceStateParser parser;
  parser.Add(header);
  return std::move(parser).Finish(out);
}

bool TraceStateParser::Add(absl::string_view header) noexcept {
  if (valid_ && !ParseInto(header, &members_, &count_)) {
    valid_ = false;
    // Nothing parsed so far will be used: give the memory back now.
    std::vector<TraceState::Member>().swap(members_);
  }
  return valid_;
}

bool TraceStateParser::Finish(TraceState* out) && noexcept {
  if (!valid_) return false;
  if (members_.empty()) {
    *out = TraceState();
  } else {
    *out = TraceState(std::make_shared<const std::vector<TraceState::Member>>(std::move(members_)));
  }
  return true;
}

absl::string_view TraceState::WriteHeader(char (&buffer)[kMaxHeaderSize]) const noexcept {
  const std::vector<Member>& list = members();
  const size_t count = list.size() < kMaxMembers ? list.size() : kMaxMembers;
  bool keep[kMaxMembers];
  // Sum over the kept members of their size plus one separator: the header
  // is one character shorter (no comma before the first member).
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) {
    keep[i] = true;
    total += MemberSize(list[i]) + 1;
  }
  auto too_long = [&] { return total > kMaxHeaderSize + 1; };
  // Oversized members first, from the end, only as many as needed.
  for (size_t i = count; i-- > 0 && too_long();) {
    if (MemberSize(list[i]) > kMaxMemberSizeWhenShortening) {
      keep[i] = false;
      total -= MemberSize(list[i]) + 1;
    }
  }
  // Then any member from the end.
  for (size_t i = count; i-- > 0 && too_long();) {
    if (keep[i]) {
      keep[i] = false;
      total -= MemberSize(list[i]) + 1;
    }
  }
  size_t length = 0;
  for (size_t i = 0; i < count; ++i) {
    if (!keep[i]) continue;
    if (length != 0) buffer[length++] = ',';
    std::memcpy(buffer + length, list[i].key.data(), list[i].key.size());
    length += list[i].key.size();
    buffer[length++] = '=';
    std::memcpy(buffer + length, list[i].value.data(), list[i].value.size());
    length += list[i].value.size();
  }
  return absl::string_view(buffer, length);
}

std::string TraceState::ToHeader() const {
  char buffer[kMaxHeaderSize];
  return std::string(WriteHeader(buffer));
}

absl::optional<absl::string_view> TraceState::Get(absl::string_view key) const noexcept {
  for (const Member& member : members()) {
    if (member.key == key) return absl::string_view(member.value);
  }
  return absl::nullopt;
}

TraceState TraceState::Set(absl::string_view key, absl::string_view value) const {
  if (!IsValidKey(key) || !IsValidValue(value)) return *this;
  auto updated = std::make_shared<std::vector<Member>>();
  updated->reserve(size() + 1);
  updated->push_back({std::string(key), std::string(value)});
  for (const Member& member : members()) {
    if (member.key == key) continue;
    if (updated->size() == kMaxMembers) break;  // drops the last member
    updated->push_back(member);
  }
  return TraceState(std::move(updated));
}

TraceState TraceState::Delete(absl::string_view key) const {
  if (!Get(key).has_value()) return *this;
  auto updated = std::make_shared<std::vector<Member>>();
  updated->reserve(size());
  for (const Member& member : members()) {
    if (member.key != key) updated->push_back(member);
  }
  if (updated->empty()) return TraceState();
  return TraceState(std::move(updated));
}

const std::vector<TraceState::Member>& TraceState::members() const noexcept {
  if (members_ != nullptr) return *members_;
  // Built on the first call that needs it, so the common non-empty path never
  // allocates, not even once; leaked on purpose (no destructor at exit).
  static const std::vector<Member>* const kEmpty = new std::vector<Member>();
  return *kEmpty;
}

}  // namespace tracebridge
