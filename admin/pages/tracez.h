// File: tracebridge/admin/pages/tracez.h
//
// The data of the `/tracez` page: this service's recent traces, from its
// span store, and how many spans of each name fell in each latency bucket
// (the decades OpenCensus' tracez used: 0, 10 µs, 100 µs, … 100 s), with
// their errors.
//
// A trace is listed when one of this service's spans in it passes the
// filter (name, kind, errors only, duration range); its row shows the trace
// as this service saw it: its local root (the earliest span whose parent is
// not among this service's spans of the trace), the root's duration, the
// number of spans and whether any failed. The bucket counts are over every
// stored span, whatever the filter, so each cell can link to its spans.
//
// Example:
//
//   TracezFilter filter = TracezFilterFromQuery(request.query());
//   std::string json = TracezJson(store->MostRecent(SpanQuery::kMaxLimit), filter,
//                                 telemetry.resource().service_name, 200);

#ifndef TRACEBRIDGE_ADMIN_PAGES_TRACEZ_H_
#define TRACEBRIDGE_ADMIN_PAGES_TRACEZ_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tracebridge/core/export/memory_exporter.h"

namespace tracebridge {

struct TracezFilter {
  // Exact span name ("POST /orders", "pkg.Service/Method"); empty: any.
  std::string name;
  // "server", "client", …; empty: any.
  std::string kind;
  bool errors_only = false;
  // Duration at least this, and below `max_ns` when that is above 0.
  int64_t min_ns = 0;
  int64_t max_ns = 0;
};

// The latency buckets' lower bounds, nanoseconds: 0, 10 µs, …, 100 s.
inline constexpr int kTracezBuckets = 9;
inline constexpr int64_t kTracezBucketFloorsNs[kTracezBuckets] = {
    0,           10'000,        100'000,        1'000'000,      10'000'000,
    100'000'000, 1'000'000'000, 10'000'000'000, 100'000'000'000};

// The filter of a query string's parameters (raw, as received): `name`,
// `kind`, `errors=1`, `min_ms` (a decimal, "slower than"), `min_ns`,
// `max_ns`. Values that do not parse are ignored.
TracezFilter TracezFilterFromQuery(absl::string_view name, absl::string_view kind,
                                   absl::string_view errors, absl::string_view min_ms,
                                   absl::string_view min_ns, absl::string_view max_ns);

// The page's data (a JSON document, see assets/tracez.js) from `spans`,
// newest first: at most `max_traces` traces that pass `filter`, newest first,
// and the bucket counts per (span name, kind).
std::string TracezJson(const std::vector<StoredSpan>& spans, const TracezFilter& filter,
                       absl::string_view service, size_t max_traces);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_ADMIN_PAGES_TRACEZ_H_
