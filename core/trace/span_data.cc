// File: core/trace/span_data.cc

#include "tracebridge/core/trace/span_data.h"

#include <algorithm>
#include <atomic>

namespace tracebridge {

// ---- AttributeList ----

AttributeList::AttributeList(std::initializer_list<Attribute> attributes)
    : entries_(attributes), size_(attributes.size()) {}

AttributeList::AttributeList(const AttributeList& other)
    : entries_(other.begin(), other.end()), size_(other.size_) {}

AttributeList& AttributeList::operator=(const AttributeList& other) {
  if (this == &other) return *this;
  Forget();
  size_ = 0;
  for (const Attribute& attribute : other) Append() = attribute;
  return *this;
}

AttributeList::AttributeList(AttributeList&& other) noexcept
    : entries_(std::move(other.entries_)),
      size_(other.size_),
      copied_tag_(other.copied_tag_),
      copied_count_(other.copied_count_) {
  other.entries_.clear();
  other.size_ = 0;
  other.Forget();
}

AttributeList& AttributeList::operator=(AttributeList&& other) noexcept {
  if (this == &other) return *this;
  entries_ = std::move(other.entries_);
  size_ = other.size_;
  copied_tag_ = other.copied_tag_;
  copied_count_ = other.copied_count_;
  other.entries_.clear();
  other.size_ = 0;
  other.Forget();
  return *this;
}

Attribute& AttributeList::Append() {
  if (size_ < copied_count_) Forget();
  if (size_ == entries_.size()) entries_.emplace_back();
  return entries_[size_++];
}

Attribute* AttributeList::Find(absl::string_view key) noexcept {
  for (size_t i = 0; i < size_; ++i) {
    Attribute& attribute = entries_[i];
    if (internal::SameText(attribute.key, key)) {
      if (i < copied_count_) Forget();
      return &attribute;
    }
  }
  return nullptr;
}

void AttributeList::AssignPrepared(const AttributeList& from, uint64_t tag) {
  if (size_ == 0 && tag != 0 && copied_tag_ == tag && copied_count_ == from.size() &&
      entries_.size() >= from.size()) {
    size_ = from.size();
    return;
  }
  const bool at_start = size_ == 0;
  Forget();
  AppendCopies(from);
  if (at_start) {
    copied_tag_ = tag;
    copied_count_ = from.size();
  }
}

Attribute& AttributeList::AppendNew(absl::string_view key) {
  Attribute& added = entries_.emplace_back();
  added.key.assign(key.data(), key.size());
  ++size_;
  return added;
}

void AttributeList::AppendCopies(const AttributeList& from) {
  if (size_ < copied_count_) Forget();
  if (entries_.size() < size_ + from.size()) entries_.resize(size_ + from.size());
  Attribute* to = entries_.data() + size_;
  for (const Attribute& attribute : from) {
    if (!internal::SameText(to->key, attribute.key)) to->key = attribute.key;
    const std::string* text = absl::get_if<std::string>(&attribute.value);
    std::string* stored = absl::get_if<std::string>(&to->value);
    if (text != nullptr && stored != nullptr) {
      if (!internal::SameText(*stored, *text)) stored->assign(*text);
    } else {
      to->value = attribute.value;
    }
    ++to;
  }
  size_ += from.size();
}

void AttributeList::ClearKeepingStorage(size_t max_entries, size_t max_capacity) noexcept {
  if (entries_.size() > max_entries) entries_.resize(max_entries);
  if (copied_count_ > entries_.size()) Forget();
  // Entries past size_ were checked when they were dropped before.
  Attribute* const first = entries_.data();
  Attribute* entry = first;
  Attribute* const end = entry + std::min(size_, entries_.size());
  for (; entry != end; ++entry) {
    bool freed = false;
    if (entry->key.capacity() > max_capacity) {
      std::string().swap(entry->key);
      freed = true;
    }
    if (entry->value.index() == 0) {
      std::string& text = absl::get<0>(entry->value);
      if (text.capacity() > max_capacity) {
        std::string().swap(text);
        freed = true;
      }
    }
    if (freed && static_cast<size_t>(entry - first) < copied_count_) Forget();
  }
  size_ = 0;
}

namespace internal {
namespace {

// A bounded multi-producer, multi-consumer free list of records (Vyukov's
// sequenced ring): a push or pop is one compare-and-swap and two atomic
// accesses, never a lock.
class SpanDataPool {
 public:
  SpanDataPool() {
    for (size_t i = 0; i < kSpanDataPoolSize; ++i) {
      cells_[i].sequence.store(i, std::memory_order_relaxed);
    }
  }

  bool Push(SpanData* data) noexcept {
    size_t position = push_position_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[position % kSpanDataPoolSize];
      const size_t sequence = cell.sequence.load(std::memory_order_acquire);
      const intptr_t difference = static_cast<intptr_t>(sequence) - static_cast<intptr_t>(position);
      if (difference == 0) {
        if (push_position_.compare_exchange_weak(position, position + 1,
                                                 std::memory_order_relaxed)) {
          cell.data = data;
          cell.sequence.store(position + 1, std::memory_order_release);
          return true;
        }
      } else if (difference < 0) {
        return false;  // full
      } else {
        position = push_position_.load(std::memory_order_relaxed);
      }
    }
  }

  SpanData* Pop() noexcept {
    size_t position = pop_position_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[position % kSpanDataPoolSize];
      const size_t sequence = cell.sequence.load(std::memory_order_acquire);
      const intptr_t difference =
          static_cast<intptr_t>(sequence) - static_cast<intptr_t>(position + 1);
      if (difference == 0) {
        if (pop_position_.compare_exchange_weak(position, position + 1,
                                                std::memory_order_relaxed)) {
          SpanData* data = cell.data;
          cell.sequence.store(position + kSpanDataPoolSize, std::memory_order_release);
          return data;
        }
      } else if (difference < 0) {
        return nullptr;  // empty
      } else {
        position = pop_position_.load(std::memory_order_relaxed);
      }
    }
  }

 private:
  struct Cell {
    std::atomic<size_t> sequence;
    SpanData* data = nullptr;
  };
  Cell cells_[kSpanDataPoolSize];
  alignas(64) std::atomic<size_t> push_position_{0};
  alignas(64) std::atomic<size_t> pop_position_{0};
};

SpanDataPool& Pool(SpanKind kind) {
  static SpanDataPool* const pools = new SpanDataPool[3];
  switch (kind) {
    case SpanKind::kServer:
    case SpanKind::kConsumer:
      return pools[0];
    case SpanKind::kClient:
    case SpanKind::kProducer:
      return pools[1];
    case SpanKind::kInternal:
      break;
  }
  return pools[2];
}

void KeepAtMost(std::string* text, size_t capacity) {
  text->clear();
  if (text->capacity() > capacity) std::string().swap(*text);
}

template <typename Vector>
void ClearVector(Vector* items) {
  items->clear();
  if (items->capacity() > kSpanDataKeptAttributes) Vector().swap(*items);
}

}  // namespace

std::unique_ptr<SpanData> NewSpanData(SpanKind kind) {
  if (SpanData* data = Pool(kind).Pop()) return std::unique_ptr<SpanData>(data);
  // Default-initialised, not value-initialised: the inline attribute
  // storage need not be zeroed first.
  return std::unique_ptr<SpanData>(new SpanData);
}

void RecycleSpanData(std::unique_ptr<SpanData> data) noexcept {
  if (data == nullptr) return;
  SpanData& d = *data;
  SpanDataPool& pool = Pool(d.kind);
  if (d.name.capacity() > kSpanDataKeptCapacity) std::string().swap(d.name);  // else kept
  d.kind = SpanKind::kInternal;
  d.context = SpanContext();
  d.parent_span_id = SpanId();
  d.parent_is_remote = false;
  d.start_unix_nanos = 0;
  d.end_unix_nanos = 0;
  d.attributes.ClearKeepingStorage(kSpanDataKeptAttributes, kSpanDataKeptCapacity);
  d.dropped_attributes = 0;
  ClearVector(&d.events);
  d.dropped_events = 0;
  ClearVector(&d.links);
  d.dropped_links = 0;
  d.status = StatusCode::kUnset;
  KeepAtMost(&d.status_description, kSpanDataKeptCapacity);
  if (pool.Push(data.get())) data.release();
}

}  // namespace internal
}  // namespace tracebridge
