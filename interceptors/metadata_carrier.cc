#include "tracebridge/interceptors/metadata_carrier.h"

namespace tracebridge {
namespace {

grpc::string_ref Ref(absl::string_view text) { return grpc::string_ref(text.data(), text.size()); }
absl::string_view View(grpc::string_ref ref) { return absl::string_view(ref.data(), ref.size()); }

}  // namespace

void MetadataReader::ForEachValue(absl::string_view key,
                                  absl::FunctionRef<bool(absl::string_view)> fn) const {
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
  auto it = metadata_->find(Ref(key));
  if (found != nullptr) *found = it != metadata_->end();
  return it != metadata_->end() ? View(it->second) : absl::string_view();
}

void MetadataWriter::Set(absl::string_view key, absl::string_view value) {
  metadata_->erase(std::string(key));
  metadata_->emplace(std::string(key), std::string(value));
}

}  // namespace tracebridge
