// File: tracebridge/http/captured_headers.h
//
// The HTTP side of recording allow-listed headers as span attributes
// (`http.request.header.<key>`, `http.response.header.<key>`; what is
// recorded and how: core/header_capture.h).
//
// Where the values come from:
//   - server requests: the raw request head when the traced router's own
//     handler (`TracedRouter::MakeHandler()`) serves the request, so repeated
//     header lines all count, in order; under `router.handler()` only what
//     Pistache 0.0.5 keeps, the first line of each name;
//   - server responses: the headers in the response's collection when it is
//     sent (the handler's and tracebridge's trace headers); headers Pistache
//     adds while writing (Content-Length, the Content-Type of the `mime`
//     argument) are not seen;
//   - client requests: headers added with `TracedRequest::AddHeader` (not
//     tracebridge's propagation headers);
//   - client responses: the response's collection (one value per name, as
//     Pistache keeps them).
//
// Example (what the traced router does):
//
//   tracebridge::internal::ScopedRequestHead head(parser.head());  // around routing
//   ...
//   tracebridge::internal::CaptureRequestHeaders(capture, request.headers(), span);

#ifndef TRACEBRIDGE_HTTP_CAPTURED_HEADERS_H_
#define TRACEBRIDGE_HTTP_CAPTURED_HEADERS_H_

#include <pistache/http_header.h>
#include <pistache/http_headers.h>

#include "absl/strings/string_view.h"
#include "tracebridge/core/header_capture.h"
#include "tracebridge/core/trace/span.h"

namespace tracebridge {
namespace internal {

// Makes `head` the raw head of the request routed on this thread until the
// object goes away (the traced router's handler routes synchronously).
class ScopedRequestHead final {
 public:
  explicit ScopedRequestHead(absl::string_view head) noexcept;
  ~ScopedRequestHead();
  ScopedRequestHead(const ScopedRequestHead&) = delete;
  ScopedRequestHead& operator=(const ScopedRequestHead&) = delete;

 private:
  absl::string_view previous_;
};

// Records the request's allow-listed headers on `span`: from the raw head
// routed on this thread if any, else from `headers`.
void CaptureRequestHeaders(const HeaderCapture& capture,
                           const Pistache::Http::Header::Collection& headers, Span& span);

// Records the allow-listed headers of a collection (a response's) on `span`.
void CaptureHeaderCollection(const HeaderCapture& capture,
                             const Pistache::Http::Header::Collection& headers, Span& span);

// Adds one typed header (an outgoing request's) to `values`.
void CaptureHeader(const HeaderCapture& capture, const Pistache::Http::Header::Header& header,
                   HeaderCapture::Values* values);

}  // namespace internal
}  // namespace tracebridge

#endif  // TRACEBRIDGE_HTTP_CAPTURED_HEADERS_H_
