// File: tracebridge/core/export/span_page.h
//
// One page of the span store for a reader outside the process (the
// `ListSpans` RPC, the `/traces/:trace_id` endpoint), bounded in spans and in
// encoded bytes, so that no page outgrows what a client accepts (gRPC refuses
// messages over 4 MiB by default) nor what the server builds per request.
//
// Filling: the store's matches are taken newest first, and each one's size in
// the caller's encoding (what its `SpanSizer` reports, framing included) is
// added until the next span would take the page over `max_bytes`; the page
// ends there and its token continues with exactly that span, so no span is
// lost or repeated. A span that is over the bound on its own comes alone on
// its page, trimmed: its events are dropped from the last, then its links,
// then its attributes, until it fits, each counted in the span's `dropped_*`
// fields, and the page marks it `truncated`. If its bare fields (ids, name,
// status, resource) are still over the bound it is sent as that bare span,
// and that one page is larger than the bound.
//
// Tokens: the next page's token is issued by the store for the query's
// `scope` (`InMemorySpanExporter::IssuePageToken`), so a token that the store
// did not issue for the same scope is refused with InvalidArgument.
//
// Example:
//
//   absl::StatusOr<tracebridge::SpanPage> page = tracebridge::ReadSpanPage(
//       *telemetry.span_store(), query, request_token, "ListSpans|...", 1 << 20,
//       [](const SpanData& span, const Resource* resource) { return EncodedSize(span); });
//   if (!page.ok()) return page.status();        // a token we never issued
//   for (const tracebridge::PagedSpan& span : page->spans) Encode(*span.stored.span);

#ifndef TRACEBRIDGE_CORE_EXPORT_SPAN_PAGE_H_
#define TRACEBRIDGE_CORE_EXPORT_SPAN_PAGE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tracebridge/core/export/memory_exporter.h"
#include "tracebridge/core/trace/span_data.h"

namespace tracebridge {

// The default bound on a page's encoded spans: a quarter of gRPC's default
// receive limit.
inline constexpr size_t kDefaultSpanPageBytes = size_t{1} << 20;
// Smaller bounds are raised to this: room for any span's bare fields under
// the default span limits.
inline constexpr size_t kMinSpanPageBytes = size_t{16} << 10;

// The size of `span` in the caller's encoding of a page, framing included.
using SpanSizer = absl::FunctionRef<size_t(const SpanData& span, const Resource* resource)>;

struct PagedSpan {
  // When `truncated`, `stored.span` is a trimmed copy of the stored span.
  StoredSpan stored;
  bool truncated = false;
};

struct SpanPage {
  // Newest first; for a query naming a trace, by start time.
  std::vector<PagedSpan> spans;
  // The sum of the sizer's answers for `spans`.
  size_t bytes = 0;
  // Empty when no span is left.
  std::string next_page_token;
};

// One page of `query`'s matches (see the file comment), from the newest or,
// with `page_token`, from where that token's page ended (`query.cursor` is
// ignored). InvalidArgument naming `page_token` for a token `store` did not
// issue for `scope`. `max_bytes` below `kMinSpanPageBytes` is raised to it.
absl::StatusOr<SpanPage> ReadSpanPage(const InMemorySpanExporter& store, SpanQuery query,
                                      absl::string_view page_token, absl::string_view scope,
                                      size_t max_bytes, SpanSizer sizer);

// A copy of `span` with events, then links, then attributes dropped from the
// end (and counted in its `dropped_*` fields) until `sizer` reports at most
// `max_bytes`, or none is left.
SpanData TrimSpanToFit(const SpanData& span, const Resource* resource, size_t max_bytes,
                       SpanSizer sizer);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_EXPORT_SPAN_PAGE_H_
