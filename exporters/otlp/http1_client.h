// File: tracebridge/exporters/otlp/http1_client.h
//
// `Http1Client`: a small blocking HTTP/1.1 client over one TCP connection,
// the transport under the OTLP/HTTP exporter. (Pistache's client lives in
// http/, which exporters may not include, and runs its own event loop; an
// exporter thread needs neither.)
//
//   - One request at a time; the whole response is read before `Send`
//     returns. The connection stays open between requests (keep-alive) and
//     is re-opened when the server has closed it.
//   - Request bodies carry Content-Length; response bodies may be framed by
//     Content-Length, chunked transfer coding, or the end of the connection.
//     Interim 1xx responses are skipped.
//   - Bounded: one deadline covers resolving, connecting, writing and
//     reading; response headers are capped at `max_header_bytes`, bodies at
//     `max_response_bytes`.
//   - `Cancel()`, from any thread, ends the request in progress at once and
//     fails every later one.
//   - Plain TCP to any host (IPv4 or IPv6, names resolved with getaddrinfo):
//     no TLS, no proxies, no redirects.
//
// Errors: Unavailable when the host cannot be reached or the connection ends
// before a whole response (retrying may help), DeadlineExceeded, Cancelled,
// ResourceExhausted for a response over the limits, Internal for a response
// that is not HTTP/1.x, InvalidArgument for a malformed request.
//
// Threading: `Send` from one thread at a time; `Cancel` from any.
//
// Example:
//
//   tracebridge::Http1Client client("127.0.0.1", 4318);
//   absl::StatusOr<tracebridge::Http1Response> response = client.Send(
//       "POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}}, body,
//       absl::Now() + absl::Seconds(10));

#ifndef TRACEBRIDGE_EXPORTERS_OTLP_HTTP1_CLIENT_H_
#define TRACEBRIDGE_EXPORTERS_OTLP_HTTP1_CLIENT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace tracebridge {

struct Http1Header {
  std::string name;
  std::string value;
};

struct Http1Response {
  int status = 0;
  // In arrival order, names lowercased.
  std::vector<Http1Header> headers;
  std::string body;

  // The value of the first header named `name` (lowercase), or nullptr.
  const std::string* Find(absl::string_view name) const noexcept;
};

struct Http1ClientOptions {
  size_t max_response_bytes = size_t{4} << 20;
  size_t max_header_bytes = size_t{64} << 10;
};

class Http1Client {
 public:
  // `host` is a name or an address (an IPv6 literal without brackets).
  Http1Client(std::string host, int port, Http1ClientOptions options = {});
  ~Http1Client();
  Http1Client(const Http1Client&) = delete;
  Http1Client& operator=(const Http1Client&) = delete;

  // Sends `method target HTTP/1.1` with a Host header, `headers` and a
  // Content-Length body, and reads the response, all by `deadline`.
  absl::StatusOr<Http1Response> Send(absl::string_view method, absl::string_view target,
                                     absl::Span<const Http1Header> headers, absl::string_view body,
                                     absl::Time deadline);

  // Ends a `Send` in progress and fails later ones (Cancelled).
  void Cancel() noexcept;

  // Connections opened so far: tells keep-alive reuse from reconnecting.
  uint64_t connections_opened() const noexcept {
    return connections_opened_.load(std::memory_order_relaxed);
  }

 private:
  absl::Status Connect(absl::Time deadline);
  void Close() noexcept;
  // False when the idle connection was closed by the server meanwhile.
  bool StillOpen() noexcept;
  // Waits until the socket is ready for `events`, the deadline or Cancel.
  absl::Status WaitFor(short events, absl::Time deadline);
  absl::Status WriteAll(absl::string_view data, absl::Time deadline);
  // Reads more into `in_`; OutOfRange at end of stream.
  absl::Status ReadMore(absl::Time deadline);
  // Reads until `in_` holds a CRLF (or LF) terminated line from `from`;
  // returns the line's end (index of its first terminator byte).
  absl::StatusOr<size_t> ReadLine(size_t from, size_t limit, absl::Time deadline);
  absl::Status ReadAtLeast(size_t bytes, absl::Time deadline);
  // One request/response on the open connection. `received` tells whether
  // any response byte arrived.
  absl::StatusOr<Http1Response> Exchange(absl::string_view method, absl::string_view head,
                                         absl::string_view body, absl::Time deadline,
                                         bool* received, bool* keep_alive);

  const std::string host_;
  const int port_;
  const Http1ClientOptions options_;
  int fd_ = -1;
  int cancel_fd_ = -1;  // eventfd that Cancel signals
  std::atomic<bool> cancelled_{false};
  std::atomic<uint64_t> connections_opened_{0};
  std::string in_;  // bytes read, not yet consumed
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_EXPORTERS_OTLP_HTTP1_CLIENT_H_
