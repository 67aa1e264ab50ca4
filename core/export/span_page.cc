#include "tracebridge/core/export/span_page.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/status/status.h"

namespace tracebridge {
namespace {

// Keeps the longest prefix of `list` with which `span` fits (searching by
// halves: each probe encodes the span once), counting the rest in
// `dropped`. True when the span fits afterwards.
template <typename List>
bool KeepPrefixThatFits(SpanData& span, List& list, uint32_t& dropped, const Resource* resource,
                        size_t max_bytes, SpanSizer sizer) {
  if (sizer(span, resource) <= max_bytes) return true;
  const List all = std::move(list);
  list.clear();
  size_t fits = 0;            // a prefix this long fits ...
  size_t fails = all.size();  // ... and one this long does not
  bool any_fits = sizer(span, resource) <= max_bytes;
  if (any_fits) {
    while (fails - fits > 1) {
      const size_t middle = fits + (fails - fits) / 2;
      list.assign(all.begin(), all.begin() + middle);
      if (sizer(span, resource) <= max_bytes) {
        fits = middle;
      } else {
        fails = middle;
      }
    }
  }
  list.assign(all.begin(), all.begin() + fits);
  dropped += static_cast<uint32_t>(all.size() - fits);
  return any_fits;
}

}  // namespace

SpanData TrimSpanToFit(const SpanData& span, const Resource* resource, size_t max_bytes,
                       SpanSizer sizer) {
  SpanData trimmed = span;
  if (KeepPrefixThatFits(trimmed, trimmed.events, trimmed.dropped_events, resource, max_bytes,
                         sizer)) {
    return trimmed;
  }
  if (KeepPrefixThatFits(trimmed, trimmed.links, trimmed.dropped_links, resource, max_bytes,
                         sizer)) {
    return trimmed;
  }
  KeepPrefixThatFits(trimmed, trimmed.attributes, trimmed.dropped_attributes, resource, max_bytes,
                     sizer);
  return trimmed;
}

absl::StatusOr<SpanPage> ReadSpanPage(const InMemorySpanExporter& store, SpanQuery query,
                                      absl::string_view page_token, absl::string_view scope,
                                      size_t max_bytes, SpanSizer sizer) {
  max_bytes = std::max(max_bytes, kMinSpanPageBytes);
  query.cursor = 0;
  if (!page_token.empty()) {
    const absl::optional<uint64_t> cursor = store.RedeemPageToken(page_token, scope);
    if (!cursor.has_value()) {
      return absl::InvalidArgumentError(
          "page_token: not a token this service issued for this query");
    }
    query.cursor = *cursor;
  }
  SpanQueryResult result = store.Query(query);
  std::vector<StoredSpan>& matches = result.spans;
  // Fill in walk order (newest first), whatever order the store returned.
  const bool by_start = query.trace_id.has_value();
  if (by_start) {
    std::sort(matches.begin(), matches.end(),
              [](const StoredSpan& a, const StoredSpan& b) { return a.sequence > b.sequence; });
  }
  SpanPage page;
  page.spans.reserve(matches.size());
  uint64_t next_cursor = result.next_cursor;
  for (size_t i = 0; i < matches.size(); ++i) {
    const StoredSpan& match = matches[i];
    const size_t size = sizer(*match.span, match.resource.get());
    if (page.bytes + size <= max_bytes) {
      page.spans.push_back(PagedSpan{match, false});
      page.bytes += size;
      continue;
    }
    if (page.spans.empty()) {
      // Alone and still too large: trimmed, and the next page starts after it.
      auto trimmed = std::make_shared<const SpanData>(
          TrimSpanToFit(*match.span, match.resource.get(), max_bytes, sizer));
      page.bytes += sizer(*trimmed, match.resource.get());
      page.spans.push_back(PagedSpan{StoredSpan{match.sequence, trimmed, match.resource}, true});
      next_cursor = i + 1 < matches.size() ? match.sequence : result.next_cursor;
    } else {
      // The next page starts with this span.
      next_cursor = page.spans.back().stored.sequence;
    }
    break;
  }
  if (by_start) {
    std::sort(page.spans.begin(), page.spans.end(), [](const PagedSpan& a, const PagedSpan& b) {
      if (a.stored.span->start_unix_nanos != b.stored.span->start_unix_nanos) {
        return a.stored.span->start_unix_nanos < b.stored.span->start_unix_nanos;
      }
      return a.stored.sequence < b.stored.sequence;
    });
  }
  if (next_cursor != 0) page.next_page_token = store.IssuePageToken(next_cursor, scope);
  return page;
}

}  // namespace tracebridge
