// File: tracebridge/core/trace/span_data.h
//
// The record of one sampled span, as processors and exporters receive it when
// the span ends, plus the vocabulary it is written in: kinds, status codes,
// attribute values, events, links, and the per-span limits.
//
// Example (in an exporter):
//
//   void Export(absl::Span<const std::unique_ptr<SpanData>> batch) {
//     for (const auto& span : batch) {
//       Write(span->name, span->context.trace_id().ToHex(), span->DurationNanos());
//     }
//   }

#ifndef TRACEBRIDGE_CORE_TRACE_SPAN_DATA_H_
#define TRACEBRIDGE_CORE_TRACE_SPAN_DATA_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "absl/types/variant.h"
#include "tracebridge/core/trace/span_context.h"

namespace tracebridge {

// What a span describes, as the OpenTelemetry data model defines it.
enum class SpanKind : uint8_t { kInternal, kServer, kClient, kProducer, kConsumer };

// The lowercase name of `kind` ("server", "client", ...).
absl::string_view SpanKindName(SpanKind kind) noexcept;

// A span's outcome. `kOk` is final once set; `kError` carries a description.
enum class StatusCode : uint8_t { kUnset, kOk, kError };

// "unset", "ok" or "error".
absl::string_view StatusCodeName(StatusCode code) noexcept;

// An attribute value: string, 64-bit integer, double or bool.
using AttributeValue = absl::variant<std::string, int64_t, double, bool>;

struct Attribute {
  std::string key;
  AttributeValue value;
};

// Attributes stored inline up to this many before the first allocation:
// enough for the semantic-convention set of one RPC or HTTP request.
inline constexpr size_t kInlineAttributes = 8;

namespace internal {

// `a == b`, inlined for the short strings attribute keys and values mostly
// are (two overlapping word loads up to 16 bytes) instead of a memcmp call.
inline bool SameText(absl::string_view a, absl::string_view b) noexcept {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (n > 16) return std::memcmp(a.data(), b.data(), n) == 0;
  uint64_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
  if (n >= 8) {
    std::memcpy(&a0, a.data(), 8);
    std::memcpy(&a1, a.data() + n - 8, 8);
    std::memcpy(&b0, b.data(), 8);
    std::memcpy(&b1, b.data() + n - 8, 8);
  } else if (n >= 4) {
    std::memcpy(&a0, a.data(), 4);
    std::memcpy(&a1, a.data() + n - 4, 4);
    std::memcpy(&b0, b.data(), 4);
    std::memcpy(&b1, b.data() + n - 4, 4);
  } else {
    for (size_t i = 0; i < n; ++i) {
      a0 = (a0 << 8) | static_cast<unsigned char>(a[i]);
      b0 = (b0 << 8) | static_cast<unsigned char>(b[i]);
    }
  }
  return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

}  // namespace internal

// A span's attributes: a sequence of `Attribute` with inline room for
// `kInlineAttributes`, used like a vector (size, iteration, indexing,
// push_back). Copies hold only the attributes.
//
// A span record is recycled after export (see `internal::NewSpanData`):
// entries dropped by `ClearKeepingStorage` keep their string buffers and are
// handed out again by `AppendReusing`, so recording the next span's
// attributes allocates nothing.
class AttributeList {
 public:
  using value_type = Attribute;
  using size_type = size_t;
  using difference_type = std::ptrdiff_t;
  using reference = Attribute&;
  using const_reference = const Attribute&;
  using pointer = Attribute*;
  using const_pointer = const Attribute*;
  using iterator = Attribute*;
  using const_iterator = const Attribute*;

  AttributeList() = default;
  AttributeList(std::initializer_list<Attribute> attributes);
  AttributeList(const AttributeList& other);
  AttributeList& operator=(const AttributeList& other);
  AttributeList(AttributeList&& other) noexcept;
  AttributeList& operator=(AttributeList&& other) noexcept;

  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  // Mutable access may change any entry, so it forgets what the entries
  // were copied from (see `AssignPrepared`); read through a const list.
  iterator begin() noexcept {
    Forget();
    return entries_.data();
  }
  iterator end() noexcept {
    Forget();
    return entries_.data() + size_;
  }
  const_iterator begin() const noexcept { return entries_.data(); }
  const_iterator end() const noexcept { return entries_.data() + size_; }
  Attribute& operator[](size_t i) noexcept {
    Forget();
    return entries_[i];
  }
  const Attribute& operator[](size_t i) const noexcept { return entries_[i]; }
  Attribute& front() noexcept { return (*this)[0]; }
  const Attribute& front() const noexcept { return entries_[0]; }
  Attribute& back() noexcept { return (*this)[size_ - 1]; }
  const Attribute& back() const noexcept { return entries_[size_ - 1]; }

  void push_back(const Attribute& attribute) { Append() = attribute; }
  void push_back(Attribute&& attribute) { Append() = std::move(attribute); }
  template <typename... Args>
  Attribute& emplace_back(Args&&... args) {
    return Append() = Attribute{std::forward<Args>(args)...};
  }
  template <typename Iterator>
  void assign(Iterator first, Iterator last) {
    size_ = 0;
    for (; first != last; ++first) Append() = *first;
  }
  // Removes every attribute and frees their storage.
  void clear() noexcept {
    Forget();
    entries_.clear();
    size_ = 0;
  }

  // Appends an entry with key `key` whose value the caller overwrites: the
  // next dropped entry when there is one, with its string buffers (a record
  // recycled from a span like this one often holds this very key there).
  Attribute& AppendReusing(absl::string_view key) {
    if (size_ == entries_.size()) return AppendNew(key);
    if (size_ < copied_count_) Forget();
    Attribute& next = entries_[size_++];
    if (!internal::SameText(next.key, key)) next.key.assign(key.data(), key.size());
    return next;
  }
  // Removes every attribute, keeping up to `max_entries` entries whose
  // strings hold at most `max_capacity` bytes each for `AppendReusing`.
  void ClearKeepingStorage(size_t max_entries, size_t max_capacity) noexcept;
  // On an empty list: holds `from`'s attributes, where `tag` (nonzero) names
  // `from`'s contents (a `PreparedAttributes` id). When the kept entries are
  // still exactly the copy last assigned under the same tag (nothing has
  // had mutable access to them since, which a recycled record of a span of
  // the same method often is), they are taken back without copying.
  void AssignPrepared(const AttributeList& from, uint64_t tag);
  // The attribute with key `key`, for the caller to overwrite, or null.
  Attribute* Find(absl::string_view key) noexcept;

 private:
  void Forget() noexcept { copied_tag_ = 0; }
  // Appends copies of `from`'s attributes without looking for their keys
  // here, reusing kept entries' buffers (`AppendReusing` for a whole list).
  void AppendCopies(const AttributeList& from);
  // The next entry, for the caller to overwrite whole.
  Attribute& Append();
  Attribute& AppendNew(absl::string_view key);

  // entries_[0, size_) are the attributes; later entries are kept storage.
  absl::InlinedVector<Attribute, kInlineAttributes> entries_;
  size_t size_ = 0;
  // Nonzero: entries_[0, copied_count_) hold exactly the attributes
  // `AssignPrepared` copied under this tag. Every write that could reach
  // them resets it.
  uint64_t copied_tag_ = 0;
  size_t copied_count_ = 0;
};

// A timestamped annotation on a span.
struct SpanEvent {
  std::string name;
  int64_t time_unix_nanos = 0;
  std::vector<Attribute> attributes;
  uint32_t dropped_attributes = 0;
};

// A reference to another span (for example the untrusted caller a server
// restarted the trace from).
struct SpanLink {
  SpanContext context;
  std::vector<Attribute> attributes;
  uint32_t dropped_attributes = 0;
};

// Bounds on what one span may hold; what goes over is dropped and counted in
// the span's `dropped_*` fields, never stored.
struct SpanLimits {
  uint32_t max_attributes = 128;
  uint32_t max_events = 128;
  uint32_t max_links = 128;
  uint32_t max_attributes_per_event = 128;
  uint32_t max_attributes_per_link = 128;
  // Longer string values (and names) are cut at a UTF-8 boundary to this many
  // bytes: header-derived values come from untrusted peers.
  uint32_t max_string_length = 4096;
};

// One ended, sampled span.
//
// A field added here must also be reset in `internal::RecycleSpanData`
// (span_data.cc), which empties a record for reuse.
//
// Every string in a `SpanData` that a `Tracer` produced is valid UTF-8 (the
// span API repairs what it takes in), and the exporters and the query service
// write these strings as they are. A `SpanData` built by hand and handed to
// an exporter directly must hold valid UTF-8 too (see core/util/utf8.h).
struct SpanData {
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  SpanContext context;
  // Invalid for a root span.
  SpanId parent_span_id;
  bool parent_is_remote = false;
  int64_t start_unix_nanos = 0;
  int64_t end_unix_nanos = 0;
  AttributeList attributes;
  uint32_t dropped_attributes = 0;
  std::vector<SpanEvent> events;
  uint32_t dropped_events = 0;
  std::vector<SpanLink> links;
  uint32_t dropped_links = 0;
  StatusCode status = StatusCode::kUnset;
  std::string status_description;

  int64_t DurationNanos() const noexcept { return end_unix_nanos - start_unix_nanos; }

  // The value of attribute `key`, or nullptr.
  const AttributeValue* FindAttribute(absl::string_view key) const noexcept;
};

namespace internal {

// Span records are recycled: a tracer takes a fresh record from a
// process-wide free list and the span pipeline gives it back when the span
// has been exported or dropped, so that in steady state neither the record
// nor the strings it holds are allocated per span. There is one list per
// side of a call (server and consumer spans; client and producer spans;
// internal spans): a record then goes back to spans of the shape it held,
// whose attribute keys are already in its buffers, where one list would
// hand a service's server records to its client spans and back. Each list
// holds at most `kSpanDataPoolSize` records (two default export batches, so
// that the spans ended while one batch is exported find records), each
// keeping at most `kSpanDataKeptAttributes` attribute entries and strings
// of at most `kSpanDataKeptCapacity` bytes: about 1 MiB per list for gRPC
// or HTTP spans, 4 MiB at most; anything beyond is freed. A record deleted
// instead of recycled is simply freed.
inline constexpr size_t kSpanDataPoolSize = 1024;
inline constexpr size_t kSpanDataKeptAttributes = 16;
inline constexpr size_t kSpanDataKeptCapacity = 64;

// A record from the free list for spans of `kind` if it has one, else a
// new one: every field is as in `new SpanData`, except that a recycled
// record's `name` still holds the previous span's name, for the caller to
// overwrite (often with the same text, which then costs a comparison
// instead of a copy).
std::unique_ptr<SpanData> NewSpanData(SpanKind kind = SpanKind::kInternal);

// Empties `data` and returns it to the free list of its `kind` (or frees it
// when the list is full). Safe from any thread; `data` may be null.
void RecycleSpanData(std::unique_ptr<SpanData> data) noexcept;

}  // namespace internal

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_TRACE_SPAN_DATA_H_
