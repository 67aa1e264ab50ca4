// File: tracebridge/http/endpoints.h
//
// Telemetry endpoints to mount on any Pistache router:
//
//   GET /metrics            the registry as OpenMetrics 1.0 with exemplars
//                           when the request's Accept asks for
//                           application/openmetrics-text (as Prometheus does),
//                           else Prometheus text format 0.0.4 (see
//                           `NegotiateExpositionFormat` in core/metrics/prometheus.h)
//   GET /metrics.json       the gin-monitor-shaped JSON (core/metrics/metrics_json.h)
//   GET /traces/:trace_id   the spans of one trace from the in-memory span
//                           store, oldest first: 400 for an id that is not 32
//                           lowercase hex digits (or is all zero) or a
//                           `page_token` this server did not issue, 404 when
//                           the store holds no span of it, 503 when the
//                           telemetry has no span store
//
// The trace document is `{"trace_id": "<hex>", "spans": [<span>, ...]}`, each
// span an object in the schema of the JSON-lines exporter
// (core/export/jsonl_exporter.h), so one reader handles both. It is bounded
// like a ListSpans page (core/export/span_page.h): at most
// `max_trace_bytes` of span objects (default 1 MiB); a trace with more comes
// in pages, newest spans first (each page in start order), the document then
// carrying `"next_page_token": "<token>"` for `?page_token=<token>`. A span
// larger than the bound alone comes alone, trimmed, and its id is listed in
// `"truncated_spans": [...]`.
//
// Access: with a non-open `access` policy (core/access_policy.h) every
// endpoint first checks the request: 401 with `WWW-Authenticate: Bearer`
// without the right bearer token, 403 when the predicate refuses. These
// endpoints belong on the admin listener (admin/admin_listener.h), bound to
// loopback; mounting them on a public router is a deliberate choice, best
// made with a policy (see the README's threat model).
//
// Mounted on a `TracedRouter`, the endpoints are traced and counted like any
// route; mounted on a plain `Pistache::Rest::Router`, they are neither (a
// scraper polling every few seconds then adds no spans).
//
// Example:
//
//   Pistache::Rest::Router router;
//   tracebridge::TracedRouter traced(router, *telemetry);
//   absl::Status status = tracebridge::MountTelemetryEndpoints(traced, *telemetry);

#ifndef TRACEBRIDGE_HTTP_ENDPOINTS_H_
#define TRACEBRIDGE_HTTP_ENDPOINTS_H_

#include <string>
#include <utility>
#include <vector>

#include <pistache/router.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "tracebridge/core/access_policy.h"
#include "tracebridge/core/export/span_page.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/http/traced_router.h"

namespace tracebridge {

// Where the endpoints are mounted. An empty path leaves that endpoint out.
struct TelemetryEndpointOptions {
  std::string metrics_path = "/metrics";
  std::string metrics_json_path = "/metrics.json";
  // Must end in the `:trace_id` parameter.
  std::string traces_path = "/traces/:trace_id";
  // Bound on the span objects of one trace document (see the file comment).
  size_t max_trace_bytes = kDefaultSpanPageBytes;
  // Who may read the endpoints (default: everyone who reaches the router).
  AccessPolicy access;
};

// One endpoint answer, independent of how it is sent.
struct EndpointReply {
  int status = 200;
  std::string content_type;
  std::string body;
  // Further response headers (name, value).
  std::vector<std::pair<std::string, std::string>> headers;
};

// The answers themselves (what the mounted handlers send), for callers that
// serve them some other way.
// `accept`: the request's Accept header value (empty: text format 0.0.4).
EndpointReply PrometheusReply(Telemetry& telemetry, absl::string_view accept = {});
EndpointReply MetricsJsonReply(Telemetry& telemetry);
EndpointReply TraceReply(Telemetry& telemetry, absl::string_view trace_id,
                         absl::string_view page_token = {},
                         size_t max_bytes = kDefaultSpanPageBytes);

// The refusal (401 or 403, see the file comment) of `request` under `policy`;
// nullopt when the policy admits it.
absl::optional<EndpointReply> AccessRefusal(const AccessPolicy& policy,
                                            const Pistache::Http::Request& request);

// Sends `reply` as the answer on `response`.
void SendReply(const EndpointReply& reply, Pistache::Http::ResponseWriter& response);

// Mounts the endpoints (see the file comment). `telemetry` must outlive the
// router's use. InvalidArgument when a path is rejected.
absl::Status MountTelemetryEndpoints(TracedRouter& router, Telemetry& telemetry,
                                     const TelemetryEndpointOptions& options = {});
absl::Status MountTelemetryEndpoints(Pistache::Rest::Router& router, Telemetry& telemetry,
                                     const TelemetryEndpointOptions& options = {});

}  // namespace tracebridge

#endif  // TRACEBRIDGE_HTTP_ENDPOINTS_H_
