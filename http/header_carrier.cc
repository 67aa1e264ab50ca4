// File: http/header_carrier.cc

#include "tracebridge/http/header_carrier.h"

#include <memory>
#include <sstream>

namespace tracebridge {

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
