#include "tracebridge/interceptors/metadata_carrier.h"

#include <tuple>
#include <utility>

namespace tracebridge {
namespace {

grpc::string_ref Ref(absl::string_view text) { return grpc::string_ref(text.data(), text.size()); }
absl::string_view View(grpc::string_ref ref) { return absl::string_view(ref.data(), ref.size()); }

}  // namespace

MetadataReader::MetadataReader(const std::multimap<grpc::string_ref, grpc::string_ref>* metadata)
    : metadata_(metadata) {
  if (metadata_->size() > kListed) return;
  for (const auto& entry : *metadata_) {
    entries_[listed_++] = {entry.first.data(), entry.first.size(), entry.second.data(),
                           entry.second.size()};
  }
  all_listed_ = true;
}

void MetadataReader::ForEachValue(absl::string_view key,
                                  absl::FunctionRef<bool(absl::string_view)> fn) const {
  if (all_listed_) {
    // Keys in order, equal keys in arrival order: as equal_range gives them.
    for (size_t i = 0; i < listed_; ++i) {
      if (entries_[i].Key() == key && !fn(entries_[i].Value())) return;
    }
    return;
  }
  auto range = metadata_->equal_range(Ref(key));
  for (auto it = range.first; it != range.second; ++it) {
    if (!fn(View(it->second))) return;
  }
}

void MetadataReader::ForEachKey(absl::FunctionRef<bool(absl::string_view)> fn) const {
  for (auto it = metadata_->begin(); it != metadata_->end();
       it = metadata_->upper_bound(it->first)) {
    if (!fn(View(it->first))) return;
  }
}

absl::string_view MetadataReader::Get(absl::string_view key, bool* found) const {
  if (all_listed_) {
    for (size_t i = 0; i < listed_; ++i) {
      if (entries_[i].Key() == key) {
        if (found != nullptr) *found = true;
        return entries_[i].Value();
      }
    }
    if (found != nullptr) *found = false;
    return absl::string_view();
  }
  auto it = metadata_->find(Ref(key));
  if (found != nullptr) *found = it != metadata_->end();
  return it != metadata_->end() ? View(it->second) : absl::string_view();
}

void MetadataWriter::Set(absl::string_view key, absl::string_view value) {
  // One lookup: the new entry goes where the replaced ones were.
  std::string name(key);
  auto range = metadata_->equal_range(name);
  auto next = metadata_->erase(range.first, range.second);
  metadata_->emplace_hint(next, std::piecewise_construct, std::forward_as_tuple(std::move(name)),
                          std::forward_as_tuple(value.data(), value.size()));
}

}  // namespace tracebridge
