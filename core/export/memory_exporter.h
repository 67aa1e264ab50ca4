// File: tracebridge/core/export/memory_exporter.h
//
// `InMemorySpanExporter`: keeps the most recent spans in a bounded ring so a
// process can answer "show me trace X" or "what failed lately" about itself,
// with no backend. The query RPC and the HTTP `/traces/{id}` endpoint serve
// from it; tests use it to inspect exported spans.
//
// Bounds: at most `max_spans` spans and at most `max_bytes` of estimated
// footprint (see `EstimateSpanBytes`); when a new span would exceed either,
// the oldest spans are evicted first and counted. A span whose estimate alone
// exceeds `max_bytes` is not stored (counted in `rejected`).
//
// Every stored span gets a sequence number, starting at 1 and increasing by
// one per span in export order. Queries walk from the newest span towards the
// oldest; a page ends after `limit` matches and hands back a cursor to resume
// from, so a caller can page through the ring while spans keep arriving
// (new arrivals do not shift later pages; evicted spans simply end the walk).
// A cursor leaves the process as a page token (`IssuePageToken`): opaque and
// authenticated, so a client can hand one back but not make one up.
//
// Threading: `Export` is called from one thread at a time (the processor's);
// queries, `Stats`, `Clear` and `Shutdown` from any thread, concurrently.
// One mutex guards the ring. Spans are stored as `shared_ptr<const SpanData>`,
// so a query copies pointers, not spans, while it holds the lock, and callers
// read the returned spans without any lock (they are immutable). `Export`
// deep-copies each span (the batch is only lent to it) before taking the lock.
//
// Example:
//
//   auto memory = std::make_shared<tracebridge::InMemorySpanExporter>();
//   // ... hand it to the batch processor ...
//   tracebridge::SpanQuery query;
//   query.errors_only = true;
//   query.limit = 50;
//   tracebridge::SpanQueryResult page = memory->Query(query);
//   for (const tracebridge::StoredSpan& stored : page.spans) Show(*stored.span);
//   if (page.next_cursor != 0) { query.cursor = page.next_cursor; /* next page */ }

#ifndef TRACEBRIDGE_CORE_EXPORT_MEMORY_EXPORTER_H_
#define TRACEBRIDGE_CORE_EXPORT_MEMORY_EXPORTER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "tracebridge/core/export/span_exporter.h"
#include "tracebridge/core/trace/ids.h"
#include "tracebridge/core/trace/span_data.h"
#include "tracebridge/core/util/page_token.h"

namespace tracebridge {

struct InMemorySpanExporterOptions {
  // Spans kept at most (at least 1).
  size_t max_spans = 10000;
  // Estimated bytes kept at most (at least 1).
  size_t max_bytes = size_t{64} << 20;
};

// Which spans a query returns. Every set condition must hold.
struct SpanQuery {
  // Hard cap on `limit`, so one query cannot copy the whole ring.
  static constexpr size_t kMaxLimit = 1000;

  // Only spans of this trace.
  absl::optional<TraceId> trace_id;
  // Only spans that took at least this long (end - start).
  absl::Duration min_duration = absl::ZeroDuration();
  // Only spans whose status is `StatusCode::kError`.
  bool errors_only = false;
  // Most spans in one page; 0 means 100; clamped to `kMaxLimit`.
  size_t limit = 100;
  // 0: start at the newest span. Otherwise a `next_cursor` from an earlier
  // page: continue with spans older than those already returned.
  uint64_t cursor = 0;
};

// One span as the ring holds it.
struct StoredSpan {
  // Position in export order (1 for the first span ever stored).
  uint64_t sequence = 0;
  std::shared_ptr<const SpanData> span;
  // The resource of the batch the span came in (shared between spans).
  std::shared_ptr<const Resource> resource;
};

struct SpanQueryResult {
  // Newest first; when the query names a trace, ordered by start time
  // instead (ties by sequence), which is how a trace view wants them.
  std::vector<StoredSpan> spans;
  // Pass as `SpanQuery::cursor` for the next page; 0 when the walk reached
  // the oldest stored span. A full page may be followed by an empty one.
  uint64_t next_cursor = 0;
};

// Counters for the ring's self-metrics and the query endpoint.
struct InMemorySpanStats {
  size_t stored = 0;           // spans in the ring now
  size_t bytes = 0;            // their estimated footprint
  uint64_t evicted = 0;        // spans pushed out by newer ones, ever
  uint64_t rejected = 0;       // spans larger than max_bytes, ever
  uint64_t exported = 0;       // spans received, ever (stored + evicted + rejected)
  uint64_t last_sequence = 0;  // sequence of the newest span stored, 0 if none
};

// The footprint `InMemorySpanExporter` charges for `span`: the SpanData
// struct and its shared_ptr control block, plus, for every string the span
// owns (name, status description, attribute keys and string values, event
// names, trace state members), its length, plus the element storage of
// attribute lists beyond their inline capacity and of event and link vectors.
// It counts string bytes even when they fit in the small-string buffer and
// ignores allocator overhead: an estimate, stable across standard libraries
// and cheap (one pass over the span), meant to bound memory within a small
// factor, not to account for it exactly. The ring's own bookkeeping per span (about
// 80 bytes) is bounded by `max_spans` and not charged.
size_t EstimateSpanBytes(const SpanData& span) noexcept;

class InMemorySpanExporter final : public SpanExporter {
 public:
  // The default bounds.
  InMemorySpanExporter() : InMemorySpanExporter(InMemorySpanExporterOptions()) {}
  // Bounds of 0 are raised to 1.
  explicit InMemorySpanExporter(InMemorySpanExporterOptions options);

  InMemorySpanExporter(const InMemorySpanExporter&) = delete;
  InMemorySpanExporter& operator=(const InMemorySpanExporter&) = delete;

  // "memory".
  absl::string_view Name() const noexcept override { return "memory"; }

  // Copies the spans into the ring, evicting the oldest as needed. Always OK
  // until `Shutdown`, FailedPrecondition after.
  absl::Status Export(const Resource& resource, absl::Span<const std::unique_ptr<SpanData>> spans,
                      absl::Time deadline) override;

  // Stops accepting spans; what is stored stays queryable.
  absl::Status Shutdown(absl::Duration timeout) override;

  // One page of the spans matching `query` (see `SpanQuery`).
  SpanQueryResult Query(const SpanQuery& query) const;

  // Every stored span of `trace_id`, in start order (at most
  // `SpanQuery::kMaxLimit`; the newest are kept if the trace has more).
  std::vector<StoredSpan> FindTrace(const TraceId& trace_id) const;

  // The `n` most recent spans, newest first (`n` clamped to
  // `SpanQuery::kMaxLimit`).
  std::vector<StoredSpan> MostRecent(size_t n) const;

  // Drops every stored span (counters other than `stored`/`bytes` remain;
  // sequence numbers keep increasing).
  void Clear();

  InMemorySpanStats Stats() const;

  // A page token for `cursor` (a `next_cursor`) of a query whose filters
  // `scope` names (core/util/page_token.h), under a key this store drew at
  // random when it was built.
  std::string IssuePageToken(uint64_t cursor, absl::string_view scope) const;
  // The cursor of a token this store issued for the same `scope`; nullopt for
  // any other string (garbled, forged, another scope, another store or an
  // earlier process).
  absl::optional<uint64_t> RedeemPageToken(absl::string_view token, absl::string_view scope) const;

  const InMemorySpanExporterOptions& options() const noexcept { return options_; }

 private:
  struct Entry {
    uint64_t sequence;
    size_t bytes;
    std::shared_ptr<const SpanData> span;
    std::shared_ptr<const Resource> resource;
    // Copies of what queries filter on, so a scan under the lock reads the
    // ring's own memory instead of chasing a pointer per span.
    TraceId trace_id;
    int64_t duration_nanos;
    bool error;
  };

  // The shared copy of `resource`, reusing the previous batch's when equal
  // (the processor passes the same resource every time).
  std::shared_ptr<const Resource> ShareResource(const Resource& resource);

  const InMemorySpanExporterOptions options_;
  const PageTokenCodec page_tokens_;

  // Only touched by `Export` (one thread at a time by contract).
  std::shared_ptr<const Resource> last_resource_;

  // A std::mutex rather than absl::Mutex: Debian's Abseil is not built with
  // ThreadSanitizer, so TSan cannot see absl::Mutex's happens-before edges
  // and would report false races; pthread-based std::mutex is intercepted.
  mutable std::mutex mutex_;
  // Oldest at the front; sequences are consecutive from front to back.
  std::deque<Entry> ring_ ABSL_GUARDED_BY(mutex_);
  size_t bytes_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t next_sequence_ ABSL_GUARDED_BY(mutex_) = 1;
  uint64_t evicted_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t rejected_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t exported_ ABSL_GUARDED_BY(mutex_) = 0;
  bool shut_down_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_CORE_EXPORT_MEMORY_EXPORTER_H_
