// File: tracebridge/http/outgoing.h
//
// Outgoing HTTP requests through Pistache's client, traced: each request
// gets a client span (a child of the span current on the sending thread, or
// of an explicit parent), the span's context is injected into the request
// headers with the telemetry's propagators (the current baggage with it,
// trimmed to the telemetry's injection budget), and
// the client series of the request records status, duration and body bytes.
// The span ends and the series records when the response arrives, or when the
// request fails (connection error, Pistache's timeout), or, at the latest,
// when Pistache drops the request unanswered (for example at client
// shutdown): the span then ends with error status "no response".
//
// Span: named `METHOD` or, with a route template, `METHOD /template`; kind
// client; attributes `http.request.method`, `url.full` (userinfo and the
// values of credential-like query keys redacted, see http/url_redaction.h),
// `url.template` (the route template, if given), `server.address`,
// `server.port`, `http.response.status_code`; error status (and `error.type`)
// for 4xx, 5xx and failures, as `IsErrorStatus` says for HTTP clients.
//
// Metrics: the series (HTTP, client, method, route template), registered on
// the first request that names it (bounded by the registry's cap). Requests
// without a route template share the method's `_OTHER` client series: a URL
// is not a label (it would make one series per id).
//
// Threading: a `TracedHttpClient` may be used from any thread; each
// `TracedRequest` from one thread. The response callbacks run on Pistache's
// client thread.
//
// Example:
//
//   Pistache::Http::Experimental::Client client;
//   client.init(Pistache::Http::Experimental::Client::options().threads(1));
//   tracebridge::TracedHttpClient http(client, *telemetry);
//   auto response = http.Get("http://127.0.0.1:8080/orders/42")
//                       .SetRoute("/orders/:id")
//                       .SetTimeout(std::chrono::seconds(2))
//                       .Send();
//   response.then([](Pistache::Http::Response r) { ... },
//                 [](std::exception_ptr e) { ... });

#ifndef TRACEBRIDGE_HTTP_OUTGOING_H_
#define TRACEBRIDGE_HTTP_OUTGOING_H_

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <pistache/client.h>
#include <pistache/http.h>

#include "tracebridge/core/telemetry.h"
#include "tracebridge/core/trace/span_context.h"
#include "tracebridge/http/url_redaction.h"

namespace tracebridge {

struct TracedClientOptions {
  // Record spans (false: metrics only; the current context is still
  // injected, so the trace passes through).
  bool tracing = true;
  // Query keys whose values `url.full` redacts.
  std::vector<std::string> redacted_query_keys = DefaultRedactedQueryKeys();
};

class TracedHttpClient;

// One outgoing request being built; `Send` starts it. Mirrors Pistache's
// `RequestBuilder`.
class TracedRequest final {
 public:
  TracedRequest(TracedRequest&&) = default;
  TracedRequest(const TracedRequest&) = delete;
  TracedRequest& operator=(const TracedRequest&) = delete;
  TracedRequest& operator=(TracedRequest&&) = delete;

  // The route template of the target ("/orders/:id"): names the span and
  // labels the metrics.
  TracedRequest& SetRoute(std::string route);
  // A header to send (Pistache typed header, or a `NamedHeader`).
  TracedRequest& AddHeader(const std::shared_ptr<Pistache::Http::Header::Header>& header);
  TracedRequest& SetParams(const Pistache::Http::Uri::Query& query);
  TracedRequest& SetBody(std::string body);
  // Pistache rejects the response promise when no response arrived in time.
  TracedRequest& SetTimeout(std::chrono::milliseconds timeout);
  // The span's parent instead of the current span (for example a server
  // span made current on another thread is not needed then).
  TracedRequest& SetParent(const SpanContext& parent);

  // Starts the span, injects the context and sends. The promise resolves
  // with the response, or is rejected with Pistache's error, after the span
  // and metrics were recorded. Call once.
  Pistache::Async::Promise<Pistache::Http::Response> Send();

 private:
  friend class TracedHttpClient;
  TracedRequest(const TracedHttpClient* client, Pistache::Http::Method method, std::string url,
                Pistache::Http::Experimental::RequestBuilder builder);

  const TracedHttpClient* client_;
  Pistache::Http::Method method_;
  std::string url_;
  std::string route_;
  std::string query_;  // as Pistache will append it ("?k=v&…"), from SetParams
  size_t body_bytes_ = 0;
  bool explicit_parent_ = false;
  SpanContext parent_;
  Pistache::Http::Experimental::RequestBuilder builder_;
  // Allow-listed headers added so far (core/header_capture.h).
  HeaderCapture::Values captured_;
  bool sent_ = false;
};

// Traced requests through one Pistache client. Holds references: the client
// and the telemetry must outlive every request it sends.
class TracedHttpClient final {
 public:
  TracedHttpClient(Pistache::Http::Experimental::Client& client, Telemetry& telemetry,
                   TracedClientOptions options = TracedClientOptions());

  TracedRequest Get(const std::string& url);
  TracedRequest Post(const std::string& url);
  TracedRequest Put(const std::string& url);
  TracedRequest Patch(const std::string& url);
  TracedRequest Delete(const std::string& url);

  Telemetry& telemetry() const noexcept { return *telemetry_; }
  const TracedClientOptions& options() const noexcept { return options_; }

 private:
  Pistache::Http::Experimental::Client* client_;
  Telemetry* telemetry_;
  TracedClientOptions options_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_HTTP_OUTGOING_H_
