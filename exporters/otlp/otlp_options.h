// File: tracebridge/exporters/otlp/otlp_options.h
//
// What every OTLP exporter is configured with (`OtlpExporterOptions`: the
// protocol, endpoint, headers, compression, timeout and retry policy), read
// from the standard OTEL_EXPORTER_OTLP_* environment variables as the
// OpenTelemetry specification defines them, and the counters every OTLP
// exporter keeps.
//
// Protocols: OTLP/gRPC (`OtlpGrpcExporter`, otlp_exporter.h) and OTLP/HTTP
// with binary protobuf (`OtlpHttpExporter`, otlp_http_exporter.h);
// `CreateOtlpSpanExporter` (otlp_span_exporter.h) picks by `protocol`.
// gRPC stays the default for compatibility with earlier releases, although
// the specification prefers http/protobuf for new SDKs.
//
// Endpoints:
//   gRPC   "host:port" or any gRPC target; an "http://" or "https://" URL
//          without a path is accepted too ("https" selects TLS).
//   HTTP   the full URL the requests go to, "http://host:4318/v1/traces".
//          A URL without a path goes to "/". Port 80 when none is given.
// Empty means the protocol's default: "localhost:4317" for gRPC,
// "http://localhost:4318/v1/traces" for HTTP.
//
// Example:
//
//   absl::StatusOr<tracebridge::OtlpExporterOptions> options =
//       tracebridge::OtlpExporterOptions::FromEnvironment();
//   if (!options.ok()) return options.status();
//   options->headers.push_back({"api-key", key});  // code wins over env

#ifndef TRACEBRIDGE_EXPORTERS_OTLP_OTLP_OPTIONS_H_
#define TRACEBRIDGE_EXPORTERS_OTLP_OTLP_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace grpc {
class ChannelCredentials;
}  // namespace grpc

namespace tracebridge {

// The User-Agent of every OTLP request.
inline constexpr absl::string_view kOtlpUserAgent = "tracebridge-otlp-exporter/0.1.0";

// How requests travel: OTEL_EXPORTER_OTLP_PROTOCOL "grpc" or "http/protobuf".
enum class OtlpProtocol : uint8_t { kGrpc, kHttpProtobuf };

// One OTLP signal's names: its environment infix (OTEL_EXPORTER_OTLP_TRACES_*)
// and the path OTLP/HTTP appends to OTEL_EXPORTER_OTLP_ENDPOINT.
struct OtlpSignal {
  absl::string_view env_infix;
  absl::string_view http_path;
};
inline constexpr OtlpSignal kOtlpTracesSignal{"TRACES", "v1/traces"};
inline constexpr OtlpSignal kOtlpMetricsSignal{"METRICS", "v1/metrics"};

// How a failed export is retried. `max_attempts` counts the first try, so 1
// means no retry. The n-th wait is drawn uniformly from
// [0, min(max_backoff, initial_backoff * multiplier^(n-1))] ("full jitter":
// many exporters that failed together do not come back together), unless the
// server asked for a specific delay (gRPC RetryInfo, HTTP Retry-After).
struct OtlpRetryPolicy {
  int max_attempts = 5;
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Seconds(5);
  double backoff_multiplier = 1.5;
};

// Request compression.
enum class OtlpCompression : uint8_t { kNone, kGzip };

// One header (gRPC metadata entry) sent with every export: an API key, a
// tenant id.
struct OtlpHeader {
  std::string key;
  std::string value;
};

struct OtlpExporterOptions {
  OtlpProtocol protocol = OtlpProtocol::kGrpc;

  // Where to send (see the file comment); empty: the protocol's default.
  std::string endpoint;

  // The most one export may take, retries included. The `Export` deadline
  // shortens it further, never lengthens it.
  absl::Duration timeout = absl::Seconds(10);

  OtlpCompression compression = OtlpCompression::kNone;

  // Sent with every request. gRPC: lowercase metadata keys ([0-9a-z_.-], not
  // starting with "grpc-"), printable ASCII values except for keys ending in
  // "-bin" (raw bytes). HTTP: header names ([0-9a-z!#$%&'*+.^_`|~-], not one
  // the exporter sets itself, such as content-type or host) and values
  // without control characters. `Create` rejects anything else.
  std::vector<OtlpHeader> headers;

  // gRPC channel credentials; null means plaintext (see otlp_exporter.h).
  std::shared_ptr<grpc::ChannelCredentials> credentials;

  OtlpRetryPolicy retry;

  // A request whose encoded size (before compression) is larger is not sent:
  // the batch fails at once, counted. The specification's default, 64 MiB.
  size_t max_request_bytes = size_t{64} << 20;
  // OTLP/HTTP: a larger response body is a failure that is not retried. The
  // specification's default, 4 MiB.
  size_t max_response_bytes = size_t{4} << 20;

  // Called on the exporting thread before each wait to retry, with the failed
  // attempt's status and the wait about to start: for logging and tests.
  // Must return promptly (it delays the export it reports on).
  std::function<void(const absl::Status& error, absl::Duration wait)> on_retry;

  // Returns a variable's value, or nullopt when unset.
  using EnvLookup = std::function<absl::optional<std::string>(const char* name)>;
  // The lookup of the process' own environment (getenv).
  static EnvLookup ProcessEnvironment();

  // The defaults above, overridden by the standard OTLP environment
  // variables. Precedence, highest first:
  //   1. what the caller assigns to the returned options afterwards;
  //   2. OTEL_EXPORTER_OTLP_TRACES_{PROTOCOL,ENDPOINT,HEADERS,COMPRESSION,TIMEOUT};
  //   3. OTEL_EXPORTER_OTLP_{PROTOCOL,ENDPOINT,HEADERS,COMPRESSION,TIMEOUT};
  //   4. the defaults.
  // PROTOCOL is "grpc" or "http/protobuf" ("http/json" is not supported).
  // ENDPOINT: for HTTP, the signal-specific variable is the URL as it is,
  // while the generic one is a base URL to which "v1/traces" is appended
  // (after a '/'); for gRPC both are the target as they are. HEADERS is
  // "key=value,key2=value2" with percent-encoded values; keys are
  // lowercased. COMPRESSION is "gzip" or "none"; TIMEOUT is milliseconds.
  // Empty values count as unset. A malformed value is an InvalidArgument
  // error naming the variable, rather than a silently different
  // configuration.
  static absl::StatusOr<OtlpExporterOptions> FromEnvironment();
  // The same, reading variables through `lookup` (for tests).
  static absl::StatusOr<OtlpExporterOptions> FromEnvironment(const EnvLookup& lookup);
  // The same for another signal (its own variables and HTTP path).
  static absl::StatusOr<OtlpExporterOptions> FromEnvironment(const EnvLookup& lookup,
                                                             const OtlpSignal& signal);
};

// Counts every OTLP exporter keeps, in the signal's items (spans, data
// points). Monotonic since the exporter was created.
struct OtlpExportCounts {
  uint64_t batches_exported = 0;  // batches the server accepted (maybe partially)
  uint64_t items_exported = 0;    // items in those batches, rejected ones included
  uint64_t batches_failed = 0;    // batches given up on
  uint64_t items_failed = 0;      // items in those batches
  uint64_t retries = 0;           // attempts after the first
  uint64_t items_rejected = 0;    // the servers' partial-success rejections, summed
};

// The same counts for the span exporters, in spans.
struct OtlpExporterStats {
  uint64_t batches_exported = 0;  // batches the server accepted (maybe partially)
  uint64_t spans_exported = 0;    // spans in those batches, rejected ones included
  uint64_t batches_failed = 0;    // batches given up on
  uint64_t spans_failed = 0;      // spans in those batches
  uint64_t retries = 0;           // attempts after the first
  uint64_t spans_rejected = 0;    // `partial_success.rejected_spans`, summed

  static OtlpExporterStats FromCounts(const OtlpExportCounts& counts);
};

namespace internal {

// A gRPC target parsed from an endpoint: "host:port" and whether to use TLS.
struct OtlpGrpcTarget {
  std::string target;
  bool tls = false;
};
absl::StatusOr<OtlpGrpcTarget> ParseOtlpGrpcEndpoint(absl::string_view endpoint);

// An OTLP/HTTP URL taken apart.
struct OtlpHttpUrl {
  bool tls = false;
  std::string host;  // without brackets for an IPv6 literal
  int port = 80;
  std::string target;       // the request target: path (and query), at least "/"
  std::string host_header;  // "host:port", brackets kept
};
absl::StatusOr<OtlpHttpUrl> ParseOtlpHttpUrl(absl::string_view url);

// The header rules of each protocol (see `OtlpExporterOptions::headers`).
absl::Status ValidateOtlpGrpcHeader(const OtlpHeader& header);
absl::Status ValidateOtlpHttpHeader(const OtlpHeader& header);

// Everything `Create` checks whatever the protocol: endpoint, headers,
// timeout, size limits, retry policy.
absl::Status ValidateOtlpOptions(const OtlpExporterOptions& options);

// ResourceExhausted when a request of `size` bytes is over
// `options.max_request_bytes` (it is then not sent).
absl::Status CheckOtlpRequestSize(size_t size, const OtlpExporterOptions& options);

}  // namespace internal

}  // namespace tracebridge

#endif  // TRACEBRIDGE_EXPORTERS_OTLP_OTLP_OPTIONS_H_
