// File: tracebridge/admin/admin_listener.h
//
// The admin listener: tracebridge's own telemetry served on ports of its own,
// apart from the service's business port, bound to loopback by default, so
// that what it reveals (span attributes hold other users' request paths,
// queries and peers) stays on the machine unless the service opens it:
//
//   HTTP  GET /metrics, /metrics.json, /traces/:trace_id (http/endpoints.h),
//         the pages /tracez, /rpcz and /traces/:trace_id as a waterfall for
//         browsers (admin/pages/pages.h; `pages`), and whatever `http_routes` mount (a Pistache
//         router, served untraced and uncounted, so scrapes add no spans)
//   gRPC  tracebridge.v1.Query (admin/query_service.h) on a grpc::Server of
//         its own
//
// Any process can start one: a gRPC service (`InstallOptions::admin`,
// interceptors/install.h, does it by default), a Pistache front-end, or a
// worker that serves neither. Port 0 picks a free port; the ports bound are
// read from the returned listener.
//
// Access: `access` (core/access_policy.h) applies to every HTTP route and
// every gRPC call on the listener. Binding `host` to anything but a loopback
// address exposes the telemetry to whoever reaches that address; give it a
// policy then (see the README's threat model).
//
// Lifetime: the `Telemetry` must outlive the listener; destroying the
// listener stops it.
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<tracebridge::AdminListener>> admin =
//       tracebridge::StartAdminListener(*telemetry);
//   if (!admin.ok()) return admin.status();
//   std::printf("scrape http://%s/metrics\n", (*admin)->http_address().c_str());

#ifndef TRACEBRIDGE_ADMIN_ADMIN_LISTENER_H_
#define TRACEBRIDGE_ADMIN_ADMIN_LISTENER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tracebridge/admin/pages/pages.h"
#include "tracebridge/core/access_policy.h"
#include "tracebridge/core/export/span_page.h"
#include "tracebridge/core/telemetry.h"

namespace Pistache {
namespace Rest {
class Router;
}  // namespace Rest
}  // namespace Pistache

namespace tracebridge {

struct AdminListenerOptions {
  // The address both listeners bind: an IPv4 or IPv6 literal.
  std::string host = "127.0.0.1";
  // HTTP port; 0 picks a free one, -1 serves no HTTP.
  int http_port = 0;
  // gRPC port of tracebridge.v1.Query; 0 picks a free one, -1 serves no gRPC.
  int grpc_port = 0;
  // Who may read (both protocols). Default: whoever reaches `host`.
  AccessPolicy access;
  // Bound on one ListSpans page and one /traces document (at least
  // `kMinSpanPageBytes`).
  size_t max_page_bytes = kDefaultSpanPageBytes;
  // Pistache worker threads of the HTTP side (at least 1).
  int http_threads = 1;
  // Called once each, before serving, to mount further HTTP routes on the
  // listener's router (pages, other encodings). An error stops the start.
  std::vector<std::function<absl::Status(Pistache::Rest::Router&)>> http_routes;
  // The pages (HTTP side): on by default; `pages.peers` are the other
  // services' admin listeners the trace page assembles a trace from.
  // `pages.max_trace_bytes` and `pages.access` are set from the above.
  PagesOptions pages;
};

class AdminListener {
 public:
  ~AdminListener();
  AdminListener(const AdminListener&) = delete;
  AdminListener& operator=(const AdminListener&) = delete;

  // The ports bound; 0 for a side that is not served.
  int http_port() const noexcept;
  int grpc_port() const noexcept;
  // "host:port" ("[::1]:port" for IPv6); empty for a side that is not served.
  std::string http_address() const;
  std::string grpc_address() const;

  // Stops both sides (calls still running on the gRPC side get a second);
  // later calls do nothing.
  void Shutdown();

 private:
  struct Impl;
  friend absl::StatusOr<std::unique_ptr<AdminListener>> StartAdminListener(Telemetry&,
                                                                           AdminListenerOptions);
  explicit AdminListener(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

// Starts an admin listener for `telemetry`. InvalidArgument for bad options
// (a host that is not an IP literal, a port outside -1..65535, neither side
// served, a bound below the minimum) or a route `http_routes` fails to mount;
// Unavailable when a port cannot be bound.
absl::StatusOr<std::unique_ptr<AdminListener>> StartAdminListener(
    Telemetry& telemetry, AdminListenerOptions options = {});

}  // namespace tracebridge

#endif  // TRACEBRIDGE_ADMIN_ADMIN_LISTENER_H_
