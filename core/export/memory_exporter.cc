#include "tracebridge/core/export/memory_exporter.h"

#include <algorithm>
#include <utility>

#include "absl/types/variant.h"

namespace tracebridge {
namespace {

// What a make_shared control block adds, roughly (two counts and a vtable
// pointer, rounded up for alignment).
constexpr size_t kControlBlockBytes = 32;

template <typename Attributes>
size_t AttributeBytes(const Attributes& attributes) noexcept {
  size_t bytes = 0;
  for (const Attribute& attribute : attributes) {
    bytes += attribute.key.size();
    if (const auto* text = absl::get_if<std::string>(&attribute.value)) bytes += text->size();
  }
  return bytes;
}

size_t TraceStateBytes(const TraceState& state) noexcept {
  size_t bytes = 0;
  for (const TraceState::Member& member : state.members()) {
    bytes += sizeof(member) + member.key.size() + member.value.size();
  }
  return bytes;
}

}  // namespace

size_t EstimateSpanBytes(const SpanData& span) noexcept {
  size_t bytes = sizeof(SpanData) + kControlBlockBytes;
  bytes += span.name.size() + span.status_description.size();
  bytes += TraceStateBytes(span.context.trace_state());
  if (span.attributes.size() > kInlineAttributes) {
    bytes += span.attributes.size() * sizeof(Attribute);
  }
  bytes += AttributeBytes(span.attributes);
  bytes += span.events.size() * sizeof(SpanEvent);
  for (const SpanEvent& event : span.events) {
    bytes += event.name.size() + event.attributes.size() * sizeof(Attribute);
    bytes += AttributeBytes(event.attributes);
  }
  bytes += span.links.size() * sizeof(SpanLink);
  for (const SpanLink& link : span.links) {
    bytes += TraceStateBytes(link.context.trace_state());
    bytes += link.attributes.size() * sizeof(Attribute) + AttributeBytes(link.attributes);
  }
  return bytes;
}

InMemorySpanExporter::InMemorySpanExporter(InMemorySpanExporterOptions options)
    : options_{std::max<size_t>(options.max_spans, 1), std::max<size_t>(options.max_bytes, 1)} {}

std::shared_ptr<const Resource> InMemorySpanExporter::ShareResource(const Resource& resource) {
  if (last_resource_ != nullptr && last_resource_->service_name == resource.service_name &&
      last_resource_->attributes.size() == resource.attributes.size() &&
      std::equal(resource.attributes.begin(), resource.attributes.end(),
                 last_resource_->attributes.begin(), [](const Attribute& a, const Attribute& b) {
                   return a.key == b.key && a.value == b.value;
                 })) {
    return last_resource_;
  }
  last_resource_ = std::make_shared<const Resource>(resource);
  return last_resource_;
}

absl::Status InMemorySpanExporter::Export(const Resource& resource,
                                          absl::Span<const std::unique_ptr<SpanData>> spans,
                                          absl::Time deadline) {
  (void)deadline;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shut_down_) return absl::FailedPreconditionError("memory exporter: shut down");
  }
  // Copy outside the lock: queries keep running while a batch is prepared.
  std::shared_ptr<const Resource> shared_resource = ShareResource(resource);
  std::vector<Entry> entries;
  entries.reserve(spans.size());
  for (const auto& span : spans) {
    entries.push_back(Entry{0, EstimateSpanBytes(*span), std::make_shared<const SpanData>(*span),
                            shared_resource, span->context.trace_id(), span->DurationNanos(),
                            span->status == StatusCode::kError});
  }
  // Evicted spans are released after the lock is dropped: freeing thousands
  // of spans should not stall queries.
  std::vector<Entry> evicted;
  std::lock_guard<std::mutex> lock(mutex_);
  exported_ += entries.size();
  for (Entry& entry : entries) {
    if (entry.bytes > options_.max_bytes) {
      ++rejected_;
      continue;
    }
    while (!ring_.empty() &&
           (ring_.size() >= options_.max_spans || bytes_ + entry.bytes > options_.max_bytes)) {
      bytes_ -= ring_.front().bytes;
      evicted.push_back(std::move(ring_.front()));
      ring_.pop_front();
      ++evicted_;
    }
    entry.sequence = next_sequence_++;
    bytes_ += entry.bytes;
    ring_.push_back(std::move(entry));
  }
  return absl::OkStatus();
}

absl::Status InMemorySpanExporter::Shutdown(absl::Duration timeout) {
  (void)timeout;
  std::lock_guard<std::mutex> lock(mutex_);
  shut_down_ = true;
  return absl::OkStatus();
}

SpanQueryResult InMemorySpanExporter::Query(const SpanQuery& query) const {
  size_t limit = query.limit == 0 ? 100 : query.limit;
  limit = std::min(limit, SpanQuery::kMaxLimit);
  const int64_t min_nanos = absl::ToInt64Nanoseconds(query.min_duration);
  SpanQueryResult result;
  result.spans.reserve(limit);  // allocate before taking the lock
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ring_.empty()) return result;
    // The walk starts just below the cursor: sequences in the ring are
    // consecutive, so the position is arithmetic.
    const uint64_t first = ring_.front().sequence;
    size_t end = ring_.size();
    if (query.cursor != 0) {
      if (query.cursor <= first) return result;
      end = static_cast<size_t>(std::min<uint64_t>(query.cursor - first, ring_.size()));
    }
    for (size_t i = end; i-- > 0;) {
      const Entry& entry = ring_[i];
      if (query.trace_id.has_value() && entry.trace_id != *query.trace_id) continue;
      if (query.errors_only && !entry.error) continue;
      if (min_nanos > 0 && entry.duration_nanos < min_nanos) continue;
      result.spans.push_back(StoredSpan{entry.sequence, entry.span, entry.resource});
      if (result.spans.size() == limit) {
        result.next_cursor = i == 0 ? 0 : entry.sequence;
        break;
      }
    }
  }
  if (query.trace_id.has_value()) {
    std::sort(result.spans.begin(), result.spans.end(),
              [](const StoredSpan& a, const StoredSpan& b) {
                if (a.span->start_unix_nanos != b.span->start_unix_nanos) {
                  return a.span->start_unix_nanos < b.span->start_unix_nanos;
                }
                return a.sequence < b.sequence;
              });
  }
  return result;
}

std::vector<StoredSpan> InMemorySpanExporter::FindTrace(const TraceId& trace_id) const {
  SpanQuery query;
  query.trace_id = trace_id;
  query.limit = SpanQuery::kMaxLimit;
  return Query(query).spans;
}

std::vector<StoredSpan> InMemorySpanExporter::MostRecent(size_t n) const {
  if (n == 0) return {};
  SpanQuery query;
  query.limit = n;
  return Query(query).spans;
}

void InMemorySpanExporter::Clear() {
  std::deque<Entry> dropped;
  std::lock_guard<std::mutex> lock(mutex_);
  dropped.swap(ring_);
  bytes_ = 0;
}

std::string InMemorySpanExporter::IssuePageToken(uint64_t cursor, absl::string_view scope) const {
  return page_tokens_.Issue(cursor, scope);
}

absl::optional<uint64_t> InMemorySpanExporter::RedeemPageToken(absl::string_view token,
                                                               absl::string_view scope) const {
  return page_tokens_.Redeem(token, scope);
}

InMemorySpanStats InMemorySpanExporter::Stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  InMemorySpanStats stats;
  stats.stored = ring_.size();
  stats.bytes = bytes_;
  stats.evicted = evicted_;
  stats.rejected = rejected_;
  stats.exported = exported_;
  stats.last_sequence = ring_.empty() ? 0 : ring_.back().sequence;
  return stats;
}

}  // namespace tracebridge
