// File: tracebridge/exporters/otlp/otlp_http_transport.h
//
// `OtlpHttpTransport`: OTLP/HTTP with binary protobuf, for any signal. It
// POSTs an encoded `Export<Signal>ServiceRequest` to the signal's URL
// (`Content-Type: application/x-protobuf`, the configured headers, gzip when
// asked) over a kept-alive HTTP/1.1 connection (http1_client.h), and applies
// the OTLP/HTTP response rules inside the shared retry loop (otlp_retry.h):
//
//   2xx                 accepted; the body, an `Export<Signal>ServiceResponse`,
//                       goes to the caller's parser for a partial success
//   429, 502, 503, 504  retried, after the `Retry-After` delay when the server
//                       sends one (delay-seconds or an HTTP-date), else after
//                       the policy's jittered exponential backoff
//   no connection, or the connection lost before a whole response
//                       retried the same way
//   anything else       failed at once (never retried), with the message of
//                       the google.rpc.Status body when there is one
//
// A response body over `max_response_bytes` fails without a retry, and a
// request over `max_request_bytes` is never sent; both count as failed
// batches. The span exporter (otlp_http_exporter.h) is a thin layer over this
// transport; a metrics exporter is another (its own `OtlpSignal` for the
// environment and "v1/metrics", and its own response parser).
//
// Threading: `Export` from one thread at a time (the batch processor's);
// `Shutdown`, `Counts` from any. `Shutdown` cancels the request in flight.
//
// Example:
//
//   auto transport = tracebridge::OtlpHttpTransport::Create(options);
//   if (!transport.ok()) return transport.status();
//   absl::Status status = (*transport)->Export(request_bytes, point_count, deadline,
//       [](absl::string_view body, int64_t* rejected, std::string* message) {
//         /* decode Export<Signal>ServiceResponse.partial_success */
//       });

#ifndef TRACEBRIDGE_EXPORTERS_OTLP_OTLP_HTTP_TRANSPORT_H_
#define TRACEBRIDGE_EXPORTERS_OTLP_OTLP_HTTP_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "tracebridge/exporters/otlp/http1_client.h"
#include "tracebridge/exporters/otlp/otlp_options.h"
#include "tracebridge/exporters/otlp/otlp_retry.h"

namespace tracebridge {

// The delay a `Retry-After` value asks for: delay-seconds ("120") or an
// HTTP-date in any of the three forms HTTP allows (IMF-fixdate
// "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850, asctime), measured from `now`
// (a date in the past is zero). Nullopt when the value is neither.
absl::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now);

// True for the statuses OTLP/HTTP retries: 429, 502, 503, 504.
bool IsRetryableOtlpHttpStatus(int status);

class OtlpHttpTransport {
 public:
  // Decodes a 2xx response body (see `OtlpResponseParser`).
  using ResponseParser = OtlpResponseParser;

  // Validates `options` (the endpoint is an http:// URL; see otlp_options.h).
  // Does not connect: the first export does.
  static absl::StatusOr<std::unique_ptr<OtlpHttpTransport>> Create(OtlpExporterOptions options);

  OtlpHttpTransport(const OtlpHttpTransport&) = delete;
  OtlpHttpTransport& operator=(const OtlpHttpTransport&) = delete;
  ~OtlpHttpTransport();

  // Sends `request`, the encoded protobuf of `items` items, under the rules
  // of the file comment. Returns by the earlier of `deadline` and now +
  // `options.timeout`: OK when accepted (even partially); FailedPrecondition
  // after Shutdown; otherwise the last attempt's error, with the HTTP status
  // and the attempt count in the message.
  absl::Status Export(absl::string_view request, size_t items, absl::Time deadline,
                      ResponseParser parse);

  // Fails later exports, cancels the request in flight, wakes a backoff
  // wait, then waits up to `timeout` for a running Export to return.
  absl::Status Shutdown(absl::Duration timeout);

  OtlpExportCounts Counts() const noexcept { return runner_.Counts(); }
  std::string last_partial_success_message() const {
    return runner_.last_partial_success_message();
  }
  // The URL requests go to, as configured ("http://host:4318/v1/traces").
  const std::string& url() const noexcept { return url_; }
  // TCP connections opened so far (keep-alive reuses one).
  uint64_t connections_opened() const noexcept { return client_.connections_opened(); }

 private:
  OtlpHttpTransport(OtlpExporterOptions options, internal::OtlpHttpUrl url);
  OtlpAttempt Post(absl::string_view body, absl::Time end, ResponseParser parse);

  const OtlpExporterOptions options_;
  const internal::OtlpHttpUrl target_;
  const std::string url_;
  std::vector<Http1Header> headers_;
  Http1Client client_;
  std::string compressed_;  // Export's thread only
  OtlpExportRunner runner_;
};

}  // namespace tracebridge

#endif  // TRACEBRIDGE_EXPORTERS_OTLP_OTLP_HTTP_TRANSPORT_H_
