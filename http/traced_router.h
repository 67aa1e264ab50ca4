// File: tracebridge/http/traced_router.h
//
// Traced routing for `Pistache::Rest::Router`. A route added through a
// `TracedRouter` runs its handler inside a server span and records the
// request in the metrics series of its route template, so spans and metrics
// say `/orders/:id`, never `/orders/42`.
//
// Per request, before the handler runs:
//   - the context is extracted from the headers with the telemetry's
//     propagators (behind a trust boundary when `trust_incoming_context` is
//     false: new trace, link to the caller, baggage dropped);
//   - a server span named `METHOD /route/template` starts (the sampler sees
//     the method and the route template, see `SpanTarget`) with
//     `http.request.method`, `http.route`, `url.path`, `url.query` (values of
//     credential-like keys redacted, see http/url_redaction.h), `url.scheme`,
//     `client.address`, `client.port` and `user_agent.original`;
//   - the span (and the caller's baggage) is current on the handler's thread,
//     so a gRPC call made through a tracebridge channel becomes its child.
// When the response goes out (`TracedResponse::Send`): the response gets
// `traceparent` (the server span's) and `X-Trace-ID` headers; the span gets
// `http.response.status_code`, error status for 5xx (with `error.type`), and
// ends; the series records status, duration, request and response body bytes.
//
// Deferred responses: `TracedResponse` is movable; a handler may move it to
// another thread and `Send` later. Recording happens at `Send`, on whichever
// thread calls it. Use `TracedResponse::span()` (and `baggage()`) with a
// `Scope` on that thread to make the span current there.
//
// Exceptions: a handler that throws gets a 500 response (unless one was
// already sent), the span records the exception and error status, and the
// series counts a 500. Nothing escapes to Pistache.
//
// A handler that never responds: when the last `TracedResponse` for the
// request is destroyed without a `Send`, tracebridge answers 500 (so the
// client is not left waiting and the counts stay conserved), and the span
// ends with error status "handler did not respond".
//
// Unmatched requests: every request no route matches is counted under the
// route label `unknown` (one series per request method, registered on the
// first unmatched request of that method), never one series per path, and
// gets a server span named after the method alone, without `http.route`:
//   - 404: through the not-found handler the `TracedRouter` installs on the
//     router (replaceable with `SetNotFoundHandler`);
//   - 405: Pistache answers these itself inside `Router::route`, so they are
//     only seen when the endpoint serves `TracedRouter::MakeHandler()` rather
//     than `Router::handler()`; their span starts after Pistache answered
//     and the 405 response carries no trace headers.
//
// `MakeHandler()`'s handler also reads each request's raw head, which
// Pistache 0.0.5's own handler hides:
//   - Repeated header lines: Pistache keeps the first; the handler applies
//     RFC 9110 section 5.3 before anything reads the headers: repeated
//     `tracestate` and `baggage` lines are combined in order, and a repeated
//     `traceparent` is invalid, so the request starts a new trace (see
//     `ApplyRepeatedTraceHeaders` in http/header_carrier.h).
//   - Requests Pistache's parser refuses before any routing (an unknown
//     method such as `FOO`, a malformed request line or version: 400; over
//     `maxRequestSize`: 413) are counted under the `unknown` route of their
//     method as received (`_OTHER` when Pistache does not know it) with that
//     status, without a span. The answer is Pistache's, with
//     `Connection: close`, and the connection is closed after it: its
//     remaining bytes have no request boundary to resume at (RFC 9112
//     section 2.2), and each refused request counts once.
//
// Lifetime: the `Telemetry` must outlive the endpoint serving the router.
// The `TracedRouter` object itself may go away after setup; the handlers it
// registered share its state.
//
// Threading: set up routes before serving. Requests are handled on
// Pistache's threads concurrently; nothing on the request path takes a lock.
//
// Example:
//
//   Pistache::Rest::Router router;
//   tracebridge::TracedRouter traced(router, *telemetry);
//   absl::Status status = traced.Get(
//       "/orders/:id", [&](const Pistache::Rest::Request& request,
//                          tracebridge::TracedResponse response) {
//         // A gRPC call through a tracebridge channel here is a child span.
//         response.Send(Pistache::Http::Code::Ok,
//         LoadOrder(request.param(":id").as<std::string>()));
//       });
//   Pistache::Http::Endpoint endpoint(Pistache::Address(Pistache::Ipv4::any(), 8080));
//   endpoint.init(Pistache::Http::Endpoint::options().threads(2));
//   endpoint.setHandler(traced.MakeHandler());
//   endpoint.serveThreaded();

#ifndef TRACEBRIDGE_HTTP_TRACED_ROUTER_H_
#define TRACEBRIDGE_HTTP_TRACED_ROUTER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <pistache/http.h>
#include <pistache/router.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/telemetry.h"
#include "tracebridge/core/trace/baggage.h"
#include "tracebridge/core/trace/span.h"
#include "tracebridge/core/util/name_filter.h"
#include "tracebridge/http/url_redaction.h"

namespace tracebridge {

// The route label of every request no route matched.
inline constexpr absl::string_view kUnknownRoute = "unknown";

// The response header carrying the trace id (32 lowercase hex digits).
inline constexpr absl::string_view kTraceIdResponseHeader = "X-Trace-ID";

// Which routes to leave untraced: route templates, or prefixes ending in
// '*', matched against the template each route is added with (the same
// patterns as the gRPC method filter, core/util/name_filter.h). By default
// the telemetry endpoints (http/endpoints.h), health checks and admin pages;
// `count_excluded` still counts them in the metrics.
struct HttpRouteFilter : NameFilter {
  HttpRouteFilter()
      : NameFilter{{"/metrics", "/metrics.json", "/healthz", "/traces/*", "/admin/*"}} {}
};

struct TracedRouterOptions {
  // Routes neither traced nor (unless `filter.count_excluded`) counted.
  HttpRouteFilter filter;
  // Record spans (false: metrics only, no context extraction).
  bool tracing = true;
  // Trust the caller's trace context and baggage. False puts a trust
  // boundary here: every request starts a new trace linked to the caller's
  // context, and incoming baggage is dropped.
  bool trust_incoming_context = true;
  // Add `traceparent` and `X-Trace-ID` to every traced response.
  bool trace_response_headers = true;
  // Query keys whose values `url.query` redacts (see http/url_redaction.h).
  std::vector<std::string> redacted_query_keys = DefaultRedactedQueryKeys();
};

namespace internal {
struct RouterShared;
class ServerExchange;
}  // namespace internal

// The response side of one traced request, handed to a traced handler in
// place of Pistache's `ResponseWriter`. Move-only; may be moved to another
// thread. Exactly one `Send` answers the request; later ones are rejected.
class TracedResponse final {
 public:
  // An empty response (what a moved-from one is): `Send` is rejected.
  TracedResponse() noexcept = default;
  TracedResponse(TracedResponse&&) noexcept = default;
  TracedResponse& operator=(TracedResponse&&) noexcept = default;
  TracedResponse(const TracedResponse&) = delete;
  TracedResponse& operator=(const TracedResponse&) = delete;
  // When this was the last handle and nothing was sent: answers 500 (see the
  // file comment).
  ~TracedResponse() = default;

  // Sends the response (as `ResponseWriter::send`), after adding the trace
  // headers and recording the status, duration and sizes. Returns Pistache's
  // promise, or a rejected one if a response was already sent.
  Pistache::Async::Promise<ssize_t> Send(
      Pistache::Http::Code code, const std::string& body = "",
      const Pistache::Http::Mime::MediaType& mime = Pistache::Http::Mime::MediaType());
  Pistache::Async::Promise<ssize_t> Send(
      Pistache::Http::Code code, const char* data, size_t size,
      const Pistache::Http::Mime::MediaType& mime = Pistache::Http::Mime::MediaType());

  // The response headers and cookies, for the handler to add its own before
  // `Send`. Requires a non-empty response.
  Pistache::Http::Header::Collection& headers();
  Pistache::Http::CookieJar& cookies();

  // The server span (a non-recording one when tracing is off). Make it
  // current with `Scope scope(response.span(), response.baggage())` on a
  // thread that answers later. It ends at `Send`: do not use it afterwards,
  // nor from two threads at once.
  Span& span();
  // The baggage the request carried in (empty behind a trust boundary).
  const Baggage& baggage() const;

  // True once a response was sent for this request (by anyone).
  bool responded() const noexcept;
  // False for an empty (default-constructed or moved-from) response.
  explicit operator bool() const noexcept { return exchange_ != nullptr; }

 private:
  friend struct internal::RouterShared;
  explicit TracedResponse(std::shared_ptr<internal::ServerExchange> exchange) noexcept
      : exchange_(std::move(exchange)) {}

  std::shared_ptr<internal::ServerExchange> exchange_;
};

// A traced route handler. Exceptions it throws are caught (see above).
using TracedHandler = std::function<void(const Pistache::Rest::Request&, TracedResponse)>;

class TracedRouter final {
 public:
  // Wraps `router` (which must outlive the `TracedRouter`'s setup calls and
  // be served afterwards) and installs the not-found handler on it.
  TracedRouter(Pistache::Rest::Router& router, Telemetry& telemetry,
               TracedRouterOptions options = TracedRouterOptions());
  ~TracedRouter();
  TracedRouter(const TracedRouter&) = delete;
  TracedRouter& operator=(const TracedRouter&) = delete;

  // Adds a traced route for `method` and the Pistache route template
  // `route` ("/orders/:id", "/files/*", "/a/:opt?"), and registers its
  // metrics series. InvalidArgument when Pistache rejects the template or
  // `handler` is empty. The registry's series cap applies: past it, the route
  // records into the method's `_OTHER` series. A route the options' filter
  // excludes gets no span (and no series unless `filter.count_excluded`);
  // its handler still receives a `TracedResponse`.
  absl::Status Route(Pistache::Http::Method method, const std::string& route,
                     TracedHandler handler);
  absl::Status Get(const std::string& route, TracedHandler handler);
  absl::Status Post(const std::string& route, TracedHandler handler);
  absl::Status Put(const std::string& route, TracedHandler handler);
  absl::Status Patch(const std::string& route, TracedHandler handler);
  absl::Status Delete(const std::string& route, TracedHandler handler);
  absl::Status Head(const std::string& route, TracedHandler handler);
  absl::Status Options(const std::string& route, TracedHandler handler);

  // Replaces the default not-found answer (404 "Not Found"). The handler
  // runs traced, recorded under the `unknown` route.
  void SetNotFoundHandler(TracedHandler handler);

  // The Pistache handler to serve: routes through the router, records the
  // 405 answers Pistache sends on its own and the requests its parser
  // refuses, and folds repeated tracing headers (see the file comment).
  // `router.handler()` works too, without any of those.
  std::shared_ptr<Pistache::Http::Handler> MakeHandler() const;

  Pistache::Rest::Router& router() noexcept { return router_; }
  Telemetry& telemetry() noexcept;

 private:
  Pistache::Rest::Router& router_;
  std::shared_ptr<internal::RouterShared> shared_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_HTTP_TRACED_ROUTER_H_
