// File: tracebridge/admin/pages/pages.h
//
// Pages a person looks at, served by the admin listener (admin/admin_listener.h)
// for development and incident triage, with everything they need compiled in
// (no CDN, nothing fetched at run time):
//
//   GET /tracez             this service's recent traces (root span, duration,
//                           spans, error), filtered by span name and kind,
//                           errors only, slower than; latency buckets per
//                           span name (admin/pages/tracez.h)
//   GET /traces/:trace_id   with an Accept that asks for HTML (a browser): the
//                           waterfall of the whole trace, assembled from this
//                           service and its peers' tracebridge.v1.Query
//                           (admin/pages/trace_page.h), each span's attributes,
//                           events and links on a click. Any other Accept
//                           (application/json, */*, none) gets the JSON
//                           document of http/endpoints.h, as before.
//   GET /rpcz               per method and route: calls, errors, in flight,
//                           p50/p90/p99, a latency histogram whose buckets
//                           link to their exemplar traces, status codes, and
//                           a link to the method's recent traces
//   GET /                   redirects to /tracez
//
// Every value shown comes from spans, metrics, requests or peers and is
// treated as hostile: see admin/pages/html.h for how it stays text.
//
// Example (what StartAdminListener does):
//
//   PagesOptions pages;
//   pages.peers = *ParseAdminPeers("orders=127.0.0.1:9091");
//   absl::Status status = MountPages(router, *telemetry, pages);

#ifndef TRACEBRIDGE_ADMIN_PAGES_PAGES_H_
#define TRACEBRIDGE_ADMIN_PAGES_PAGES_H_

#include <cstddef>
#include <vector>

#include <pistache/router.h>

#include "absl/status/status.h"
#include "tracebridge/admin/pages/trace_page.h"
#include "tracebridge/core/access_policy.h"
#include "tracebridge/core/export/span_page.h"
#include "tracebridge/core/telemetry.h"

namespace tracebridge {

struct PagesOptions {
  // Serve the pages at all.
  bool enabled = true;
  // Other services' admin listeners (gRPC) that the trace page asks for
  // their spans of the trace.
  std::vector<AdminPeer> peers;
  // Bounds on asking them (deadline, concurrency, response bytes, spans).
  TraceAssemblerOptions trace;
  // Traces listed on /tracez at most.
  size_t tracez_max_traces = 200;
  // Bound on the JSON trace document (see http/endpoints.h).
  size_t max_trace_bytes = kDefaultSpanPageBytes;
  // Who may read (the admin listener checks before routing and leaves this
  // open).
  AccessPolicy access;
};

// Mounts the pages (see the file comment) on `router`. `telemetry` must
// outlive the router's use. InvalidArgument for a bad option (concurrency
// below 1, a peer without an address) or a path Pistache rejects.
absl::Status MountPages(Pistache::Rest::Router& router, Telemetry& telemetry,
                        const PagesOptions& options);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_ADMIN_PAGES_PAGES_H_
