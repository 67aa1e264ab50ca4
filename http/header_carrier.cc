// File: http/header_carrier.cc

#include "tracebridge/http/header_carrier.h"

#include <memory>
#include <sstream>

#include "absl/strings/match.h"

namespace tracebridge {
namespace {

// The fields `ApplyRepeatedTraceHeaders` handles; list-valued ones combine.
struct TraceField {
  absl::string_view name;
  bool list;
};
constexpr TraceField kTraceFields[] = {
    {"traceparent", false}, {"tracestate", true}, {"baggage", true}};
constexpr size_t kTraceFieldCount = sizeof(kTraceFields) / sizeof(kTraceFields[0]);

}  // namespace

void ForEachHeaderLine(absl::string_view head,
                       absl::FunctionRef<void(absl::string_view, absl::string_view)> fn) {
  size_t pos = head.find("\r\n");
  if (pos == absl::string_view::npos) return;
  pos += 2;
  while (pos < head.size()) {
    const size_t end = head.find("\r\n", pos);
    if (end == absl::string_view::npos || end == pos) return;
    const absl::string_view line = head.substr(pos, end - pos);
    const size_t colon = line.find(':');
    if (colon != absl::string_view::npos) {
      absl::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      fn(line.substr(0, colon), value);
    }
    pos = end + 2;
  }
}

void ApplyRepeatedTraceHeaders(absl::string_view head,
                               Pistache::Http::Header::Collection* headers) {
  size_t counts[kTraceFieldCount] = {};
  bool repeated = false;
  ForEachHeaderLine(head, [&](absl::string_view name, absl::string_view) {
    for (size_t i = 0; i < kTraceFieldCount; ++i) {
      if (absl::EqualsIgnoreCase(name, kTraceFields[i].name)) repeated |= ++counts[i] > 1;
    }
  });
  if (!repeated) return;
  for (size_t i = 0; i < kTraceFieldCount; ++i) {
    if (counts[i] < 2) continue;
    const std::string name(kTraceFields[i].name);
    headers->remove(name);
    if (!kTraceFields[i].list) continue;
    std::string combined;
    ForEachHeaderLine(head, [&](absl::string_view line_name, absl::string_view value) {
      if (!absl::EqualsIgnoreCase(line_name, name)) return;
      if (!combined.empty()) combined.push_back(',');
      combined.append(value.data(), value.size());
    });
    headers->addRaw(Pistache::Http::Header::Raw(name, std::move(combined)));
  }
}

bool RequestHeaderReader::Lookup(absl::string_view key, absl::string_view* value) const {
  const std::string name(key);
  const auto& raw = headers_.rawList();
  auto it = raw.find(name);
  if (it != raw.end()) {
    values_.push_front(it->second.value());
    *value = values_.front();
    return true;
  }
  // Typed headers: in Pistache 0.0.5 a parsed well-known header is also kept
  // raw, but nothing promises that; fall back to serialising the typed one.
  std::shared_ptr<const Pistache::Http::Header::Header> typed = headers_.tryGet(name);
  if (typed == nullptr) return false;
  std::ostringstream text;
  typed->write(text);
  values_.push_front(text.str());
  *value = values_.front();
  return true;
}

void RequestHeaderReader::ForEachValue(absl::string_view key,
                                       absl::FunctionRef<bool(absl::string_view)> fn) const {
  absl::string_view value;
  // Pistache keeps one value per name: the first one received.
  if (Lookup(key, &value)) fn(value);
}

void RequestHeaderReader::ForEachKey(absl::FunctionRef<bool(absl::string_view)> fn) const {
  const auto& raw = headers_.rawList();
  for (const auto& entry : raw) {
    if (!fn(entry.first)) return;
  }
  for (const std::shared_ptr<Pistache::Http::Header::Header>& typed : headers_.list()) {
    if (raw.count(typed->name()) != 0) continue;
    if (!fn(typed->name())) return;
  }
}

absl::string_view RequestHeaderReader::Get(absl::string_view key, bool* found) const {
  absl::string_view value;
  const bool present = Lookup(key, &value);
  if (found != nullptr) *found = present;
  return value;
}

void ResponseHeaderWriter::Set(absl::string_view key, absl::string_view value) {
  headers_->remove(std::string(key));
  headers_->add(std::make_shared<NamedHeader>(std::string(key), std::string(value)));
}

void RequestBuilderWriter::Set(absl::string_view key, absl::string_view value) {
  builder_->header(std::make_shared<NamedHeader>(std::string(key), std::string(value)));
}

}  // namespace tracebridge
