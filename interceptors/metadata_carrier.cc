#include "tracebridge/interceptors/metadata_carrier.h"

#include <tuple>
#include <utility>

namespace tracebridge {
namespace {

grpc::string_ref Ref(absl::string_view text) { return grpc::string_ref(text.data(), text.size()); }
absl::string_view View(grpc::string_ref ref) { return absl::string_view(ref.data(), ref.size()); }

// A call's metadata is a handful of entries: comparing each key's length
// (and then bytes) costs less than the tree's string comparisons. Larger
// maps are searched through the tree.
constexpr size_t kScanLimit = 16;

}  // namespace

void MetadataReader::ForEachValue(absl::string_view key,
                                  absl::FunctionRef<bool(absl::string_view)> fn) const {
  if (metadata_->size() <= kScanLimit) {
    // Keys in order, equal keys in arrival order: as equal_range gives them.
    for (const auto& entry : *metadata_) {
      if (View(entry.first) == key && !fn(View(entry.second))) return;
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
  if (metadata_->size() <= kScanLimit) {
    for (const auto& entry : *metadata_) {
      if (View(entry.first) == key) {
        if (found != nullptr) *found = true;
        return View(entry.second);
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
