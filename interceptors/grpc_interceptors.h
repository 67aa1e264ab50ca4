// File: tracebridge/interceptors/grpc_interceptors.h
//
// gRPC server and client interceptors (gRPC C++'s public
// `grpc::experimental` interceptor API) that carry the trace across calls and
// record per-method RPC metrics into a `Telemetry`. They work for unary,
// client-, server- and bidi-streaming RPCs under the sync, async and callback
// APIs on both sides.
//
// Server side, per call: the context is extracted from the metadata with the
// telemetry's propagators; a server span named "pkg.Service/Method" starts
// with the semantic-convention attributes; it is current on the handler's
// thread for the sync API (and during callback-API unary handlers); any API
// reaches it through `ServerSpan(context)`. The response's initial metadata
// carries `x-trace-id`. The span ends with the call's final status; server
// errors are the codes `IsErrorStatus` names.
//
// Client side, per call: a client span, child of the current span on the
// calling thread (or of the parent set with `SetParent`), injected into the
// outgoing metadata within the telemetry's injection budget (baggage
// members past it are dropped and counted, never the call); it ends with
// the status the client receives, including DEADLINE_EXCEEDED, CANCELLED
// and UNAVAILABLE from the transport.
//
// Metrics: a series per (side, method), registered on first sight (bounded by
// the registry's cap; then `_OTHER`).
//
// Most users install these with one call (see `interceptors/install.h`).
//
// Example (by hand):
//
//   std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
//   creators.push_back(tracebridge::MakeServerInterceptorFactory(telemetry));
//   builder.experimental().SetInterceptorCreators(std::move(creators));

#ifndef TRACEBRIDGE_INTERCEPTORS_GRPC_INTERCEPTORS_H_
#define TRACEBRIDGE_INTERCEPTORS_GRPC_INTERCEPTORS_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/client_interceptor.h>
#include <grpcpp/support/server_interceptor.h>

#include "tracebridge/core/telemetry.h"
#include "tracebridge/core/trace/span.h"
#include "tracebridge/core/util/name_filter.h"

namespace tracebridge {

// Which methods to leave untraced: full method names ("/pkg.Service/Method")
// or prefixes ending in '*' ("/grpc.health.v1.Health/*"), matched as the
// HTTP door matches routes (core/util/name_filter.h). `count_excluded` still
// counts them in the metrics.
struct GrpcMethodFilter : NameFilter {
  GrpcMethodFilter() : NameFilter{{"/grpc.health.v1.Health/*", "/tracebridge.v1.Query/*"}} {}
};

struct GrpcServerOptions {
  GrpcMethodFilter filter;
  // Record spans (false: metrics only).
  bool tracing = true;
  // Trust the caller's trace context and baggage. False puts a trust
  // boundary here: every call starts a new trace linked to the caller's
  // context, and incoming baggage is dropped.
  bool trust_incoming_context = true;
  // Add `x-trace-id` to the response's initial metadata.
  bool trace_id_response_header = true;
  // One span event per message sent or received (capped per span).
  bool message_events = false;
  uint32_t max_message_events = 64;
  // `server.address` / `server.port` attributes (the listening address, if
  // the caller knows it; empty to leave them out).
  std::string server_address;
  int server_port = 0;
};

struct GrpcClientOptions {
  GrpcMethodFilter filter;
  bool tracing = true;
  bool message_events = false;
  uint32_t max_message_events = 64;
  // `server.address` / `server.port` attributes: the channel's target.
  std::string server_address;
  int server_port = 0;
};

// The factories hold a reference to `telemetry`, which must outlive every
// server and channel that uses them.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeServerInterceptorFactory(
    Telemetry& telemetry, GrpcServerOptions options = {});
std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface> MakeClientInterceptorFactory(
    Telemetry& telemetry, GrpcClientOptions options = {});

// The server span of the call `context` belongs to, or nullptr when the call
// is not traced (excluded, or the span already ended). Valid until the call's
// status is sent; use it from the handler, one thread at a time.
Span* ServerSpan(const grpc::ServerContextBase* context) noexcept;

// Makes `parent` the parent of the client span of the call made with
// `context`, instead of the current span. Call before starting the call. The
// parent travels in a private metadata entry that the interceptor removes,
// so it never reaches the wire.
void SetParent(grpc::ClientContext* context, const SpanContext& parent);

}  // namespace tracebridge

#endif  // TRACEBRIDGE_INTERCEPTORS_GRPC_INTERCEPTORS_H_
