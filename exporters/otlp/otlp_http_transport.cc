#include "tracebridge/exporters/otlp/otlp_http_transport.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tracebridge/exporters/otlp/gzip.h"
#include "tracebridge/internal/rpc_status.pb.h"

namespace tracebridge {
namespace {

// The longest server message kept in an error.
constexpr size_t kMaxServerMessage = 256;

// The canonical code closest to an HTTP failure status.
absl::StatusCode CodeForHttpStatus(int status) {
  switch (status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 408:
    case 504:
      return absl::StatusCode::kDeadlineExceeded;
    case 413:
    case 429:
      return absl::StatusCode::kResourceExhausted;
    case 501:
      return absl::StatusCode::kUnimplemented;
    case 502:
    case 503:
      return absl::StatusCode::kUnavailable;
    default:
      return status >= 500 ? absl::StatusCode::kInternal : absl::StatusCode::kFailedPrecondition;
  }
}

// "HTTP 400: <the server's google.rpc.Status message, or its text>".
std::string FailureMessage(const Http1Response& response) {
  std::string text;
  const std::string* type = response.Find("content-type");
  const std::string content_type = type != nullptr ? absl::AsciiStrToLower(*type) : "";
  if (absl::StartsWith(content_type, "application/x-protobuf")) {
    internal::RpcStatus status;
    if (status.ParseFromString(response.body)) text = status.message();
  } else if (absl::StartsWith(content_type, "text/")) {
    text = response.body;
  }
  text = std::string(absl::StripAsciiWhitespace(text));
  if (text.size() > kMaxServerMessage) text.resize(kMaxServerMessage);
  std::string message = absl::StrCat("HTTP ", response.status);
  if (!text.empty()) absl::StrAppend(&message, ": ", absl::CHexEscape(text));
  return message;
}

}  // namespace

absl::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return absl::nullopt;
  if (value.find_first_not_of("0123456789") == absl::string_view::npos) {
    // Absurdly long waits stay absurd, without overflowing: the retry loop
    // gives up on any wait past the export deadline.
    int64_t seconds = 0;
    if (value.size() > 12 || !absl::SimpleAtoi(value, &seconds)) seconds = 999999999999;
    return absl::Seconds(seconds);
  }
  // IMF-fixdate, then the two obsolete forms recipients must still accept.
  static constexpr const char* kDateFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",
      "%A, %d-%b-%y %H:%M:%S GMT",
      "%a %b %e %H:%M:%S %Y",
  };
  const std::string text(value);
  for (const char* format : kDateFormats) {
    absl::Time when;
    std::string error;
    if (absl::ParseTime(format, text, absl::UTCTimeZone(), &when, &error)) {
      return std::max(when - now, absl::ZeroDuration());
    }
  }
  return absl::nullopt;
}

bool IsRetryableOtlpHttpStatus(int status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

absl::StatusOr<std::unique_ptr<OtlpHttpTransport>> OtlpHttpTransport::Create(
    OtlpExporterOptions options) {
  options.protocol = OtlpProtocol::kHttpProtobuf;
  if (absl::Status valid = internal::ValidateOtlpOptions(options); !valid.ok()) return valid;
  absl::StatusOr<internal::OtlpHttpUrl> url = internal::ParseOtlpHttpUrl(options.endpoint);
  if (!url.ok()) return url.status();
  return std::unique_ptr<OtlpHttpTransport>(
      new OtlpHttpTransport(std::move(options), *std::move(url)));
}

OtlpHttpTransport::OtlpHttpTransport(OtlpExporterOptions options, internal::OtlpHttpUrl url)
    : options_(std::move(options)),
      target_(std::move(url)),
      url_(options_.endpoint.empty() ? absl::StrCat("http://", target_.host_header, target_.target)
                                     : options_.endpoint),
      client_(target_.host, target_.port,
              Http1ClientOptions{.max_response_bytes = options_.max_response_bytes}),
      runner_(options_.retry, options_.on_retry) {
  headers_.push_back({"Content-Type", "application/x-protobuf"});
  if (options_.compression == OtlpCompression::kGzip) {
    headers_.push_back({"Content-Encoding", "gzip"});
  }
  headers_.push_back({"User-Agent", std::string(kOtlpUserAgent)});
  for (const OtlpHeader& header : options_.headers) headers_.push_back({header.key, header.value});
}

OtlpHttpTransport::~OtlpHttpTransport() { Shutdown(absl::ZeroDuration()).IgnoreError(); }

absl::Status OtlpHttpTransport::Export(absl::string_view request, size_t items, absl::Time deadline,
                                       ResponseParser parse) {
  absl::string_view body;
  auto prepare = [&]() -> absl::Status {
    if (absl::Status fits = internal::CheckOtlpRequestSize(request.size(), options_); !fits.ok()) {
      return fits;
    }
    if (options_.compression != OtlpCompression::kGzip) {
      body = request;
      return absl::OkStatus();
    }
    absl::Status compressed = GzipCompress(request, &compressed_);
    body = compressed_;
    return compressed;
  };
  return runner_.Export(url_, items, std::min(deadline, absl::Now() + options_.timeout), prepare,
                        [&](absl::Time end) { return Post(body, end, parse); });
}

OtlpAttempt OtlpHttpTransport::Post(absl::string_view body, absl::Time end, ResponseParser parse) {
  OtlpAttempt result;
  if (!runner_.BeginCall([this] { client_.Cancel(); })) {
    result.status = absl::CancelledError("exporter shut down");
    result.retryable = true;  // the runner sees the shutdown and stops
    return result;
  }
  absl::StatusOr<Http1Response> response =
      client_.Send("POST", target_.target, headers_, body, end);
  runner_.EndCall();
  if (!response.ok()) {
    // No whole response: the server is down, went away or is too slow, which
    // OTLP/HTTP retries; a malformed or oversized response is not retried.
    const absl::StatusCode code = response.status().code();
    result.retryable = code == absl::StatusCode::kUnavailable ||
                       code == absl::StatusCode::kDeadlineExceeded ||
                       code == absl::StatusCode::kCancelled;
    result.status = response.status();
    return result;
  }
  if (response->status >= 200 && response->status < 300) {
    parse(response->body, &result.rejected, &result.partial_message);
    return result;
  }
  result.retryable = IsRetryableOtlpHttpStatus(response->status);
  if (result.retryable) {
    if (const std::string* after = response->Find("retry-after")) {
      result.server_delay = ParseRetryAfter(*after, absl::Now());
    }
  }
  result.status = absl::Status(CodeForHttpStatus(response->status), FailureMessage(*response));
  return result;
}

absl::Status OtlpHttpTransport::Shutdown(absl::Duration timeout) {
  return runner_.Shutdown(timeout);
}

}  // namespace tracebridge
