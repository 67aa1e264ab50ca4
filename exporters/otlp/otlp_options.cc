#include "tracebridge/exporters/otlp/otlp_options.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tracebridge/core/util/http_token.h"

namespace tracebridge {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const int hi = i + 2 < text.size() ? HexDigit(text[i + 1]) : -1;
    const int lo = hi >= 0 ? HexDigit(text[i + 2]) : -1;
    if (lo < 0) return absl::InvalidArgumentError("bad percent-encoding");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

absl::Status ValidateHeaderFor(OtlpProtocol protocol, const OtlpHeader& header) {
  return protocol == OtlpProtocol::kGrpc ? internal::ValidateOtlpGrpcHeader(header)
                                         : internal::ValidateOtlpHttpHeader(header);
}

absl::StatusOr<std::vector<OtlpHeader>> ParseHeaderList(absl::string_view text,
                                                        OtlpProtocol protocol) {
  std::vector<OtlpHeader> headers;
  for (absl::string_view entry : absl::StrSplit(text, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) continue;
    const size_t eq = entry.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("entry \"", entry, "\" has no '='"));
    }
    OtlpHeader header;
    header.key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(entry.substr(0, eq)));
    absl::StatusOr<std::string> value =
        PercentDecode(absl::StripAsciiWhitespace(entry.substr(eq + 1)));
    if (!value.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("header \"", header.key, "\": ", value.status().message()));
    }
    header.value = *std::move(value);
    if (absl::Status valid = ValidateHeaderFor(protocol, header); !valid.ok()) return valid;
    headers.push_back(std::move(header));
  }
  return headers;
}

// An OTLP/HTTP endpoint this exporter can send to: http only.
absl::Status CheckHttpEndpoint(absl::string_view url) {
  absl::StatusOr<internal::OtlpHttpUrl> parsed = internal::ParseOtlpHttpUrl(url);
  if (!parsed.ok()) return parsed.status();
  if (parsed->tls) {
    return absl::InvalidArgumentError(absl::StrCat(
        "OTLP/HTTP endpoint \"", url,
        "\" is https; the OTLP/HTTP exporter speaks plain http only (use OTLP/gRPC for TLS, or "
        "a collector or proxy on a trusted network)"));
  }
  return absl::OkStatus();
}

absl::Status EnvError(absl::string_view name, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(name, ": ", problem));
}

}  // namespace

namespace internal {

// gRPC metadata keys: lowercase letters, digits, '_', '-', '.'. The "grpc-"
// prefix is reserved for gRPC itself.
absl::Status ValidateOtlpGrpcHeader(const OtlpHeader& header) {
  if (header.key.empty()) return absl::InvalidArgumentError("OTLP header with an empty key");
  for (char c : header.key) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("OTLP header key \"", header.key,
                       "\" is not a valid gRPC metadata key (lowercase [0-9a-z_.-] only)"));
    }
  }
  if (absl::StartsWith(header.key, "grpc-")) {
    return absl::InvalidArgumentError(
        absl::StrCat("OTLP header key \"", header.key, "\" uses the reserved grpc- prefix"));
  }
  if (absl::EndsWith(header.key, "-bin")) return absl::OkStatus();  // binary value
  for (char c : header.value) {
    if (c < 0x20 || c > 0x7e) {
      return absl::InvalidArgumentError(absl::StrCat(
          "OTLP header \"", header.key, "\" has a non-printable character in its value"));
    }
  }
  return absl::OkStatus();
}

// HTTP field names are RFC 9110 tokens; values may hold visible ASCII,
// spaces, tabs and obs-text, never CR, LF or NUL.
absl::Status ValidateOtlpHttpHeader(const OtlpHeader& header) {
  if (header.key.empty()) return absl::InvalidArgumentError("OTLP header with an empty name");
  if (!IsHttpToken(header.key)) {
    return absl::InvalidArgumentError(
        absl::StrCat("OTLP header name \"", header.key, "\" is not an HTTP token"));
  }
  static constexpr absl::string_view kOwn[] = {
      "host",       "content-length", "content-type", "content-encoding", "transfer-encoding",
      "connection", "keep-alive",     "te",           "trailer",          "upgrade",
      "expect"};
  const std::string lower = absl::AsciiStrToLower(header.key);
  for (absl::string_view own : kOwn) {
    if (lower == own) {
      return absl::InvalidArgumentError(
          absl::StrCat("OTLP header \"", header.key, "\" is set by the exporter itself"));
    }
  }
  for (char c : header.value) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat("OTLP header \"", header.key, "\" has a control character in its value"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<OtlpGrpcTarget> ParseOtlpGrpcEndpoint(absl::string_view endpoint) {
  endpoint = absl::StripAsciiWhitespace(endpoint);
  if (endpoint.empty()) endpoint = "localhost:4317";
  OtlpGrpcTarget result;
  bool url = false;
  if (absl::ConsumePrefix(&endpoint, "https://")) {
    result.tls = true;
    url = true;
  } else if (absl::ConsumePrefix(&endpoint, "http://")) {
    url = true;
  }
  if (url) {
    absl::ConsumeSuffix(&endpoint, "/");
    if (absl::StrContains(endpoint, '/')) {
      return absl::InvalidArgumentError(absl::StrCat(
          "OTLP endpoint \"", endpoint, "\" has a path; OTLP/gRPC takes host:port only"));
    }
  }
  if (endpoint.empty()) return absl::InvalidArgumentError("OTLP endpoint has no host");
  result.target = std::string(endpoint);
  return result;
}

absl::StatusOr<OtlpHttpUrl> ParseOtlpHttpUrl(absl::string_view url) {
  url = absl::StripAsciiWhitespace(url);
  if (url.empty()) url = "http://localhost:4318/v1/traces";
  auto fail = [&](absl::string_view problem) {
    return absl::InvalidArgumentError(absl::StrCat("OTLP/HTTP endpoint \"", url, "\": ", problem));
  };
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return fail("has a space or control character");
    }
  }
  OtlpHttpUrl result;
  absl::string_view rest = url;
  const size_t scheme_end = rest.find("://");
  if (scheme_end == absl::string_view::npos) return fail("is not a URL (http://host:port/path)");
  const std::string scheme = absl::AsciiStrToLower(rest.substr(0, scheme_end));
  if (scheme == "https") {
    result.tls = true;
    result.port = 443;
  } else if (scheme != "http") {
    return fail(absl::StrCat("scheme \"", scheme, "\" is neither http nor https"));
  }
  rest.remove_prefix(scheme_end + 3);
  // The fragment never goes to the server.
  rest = rest.substr(0, rest.find('#'));
  const size_t path_start = rest.find_first_of("/?");
  absl::string_view authority = rest.substr(0, path_start);
  absl::string_view target =
      path_start == absl::string_view::npos ? absl::string_view() : rest.substr(path_start);
  if (absl::StrContains(authority, '@')) return fail("user information is not supported");
  absl::string_view port_text;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return fail("unterminated IPv6 literal");
    result.host = std::string(authority.substr(1, close - 1));
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty() && !absl::ConsumePrefix(&after, ":")) return fail("junk after the host");
    port_text = after;
  } else {
    const size_t colon = authority.rfind(':');
    result.host = std::string(authority.substr(0, colon));
    if (colon != absl::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (result.host.empty()) return fail("has no host");
  if (!port_text.empty() &&
      (!absl::SimpleAtoi(port_text, &result.port) || result.port < 1 || result.port > 65535)) {
    return fail(absl::StrCat("port \"", port_text, "\" is not in 1..65535"));
  }
  result.target =
      target.empty() || target.front() == '?' ? absl::StrCat("/", target) : std::string(target);
  result.host_header = absl::StrCat(
      absl::StrContains(result.host, ':') ? absl::StrCat("[", result.host, "]") : result.host, ":",
      result.port);
  return result;
}

}  // namespace internal

OtlpExporterStats OtlpExporterStats::FromCounts(const OtlpExportCounts& counts) {
  OtlpExporterStats stats;
  stats.batches_exported = counts.batches_exported;
  stats.spans_exported = counts.items_exported;
  stats.batches_failed = counts.batches_failed;
  stats.spans_failed = counts.items_failed;
  stats.retries = counts.retries;
  stats.spans_rejected = counts.items_rejected;
  return stats;
}

OtlpExporterOptions::EnvLookup OtlpExporterOptions::ProcessEnvironment() {
  return [](const char* name) -> absl::optional<std::string> {
    const char* value = std::getenv(name);
    if (value == nullptr) return absl::nullopt;
    return std::string(value);
  };
}

absl::StatusOr<OtlpExporterOptions> OtlpExporterOptions::FromEnvironment() {
  return FromEnvironment(ProcessEnvironment());
}

absl::StatusOr<OtlpExporterOptions> OtlpExporterOptions::FromEnvironment(const EnvLookup& lookup) {
  return FromEnvironment(lookup, kOtlpTracesSignal);
}

absl::StatusOr<OtlpExporterOptions> OtlpExporterOptions::FromEnvironment(const EnvLookup& lookup,
                                                                         const OtlpSignal& signal) {
  OtlpExporterOptions options;
  // One setting's variables, signal-specific first. An empty value counts as
  // unset. Returns the value and which variable held it.
  struct Found {
    std::string value;
    std::string name;
    bool specific = false;
  };
  auto get = [&](absl::string_view setting) -> absl::optional<Found> {
    const std::string names[] = {
        absl::StrCat("OTEL_EXPORTER_OTLP_", signal.env_infix, "_", setting),
        absl::StrCat("OTEL_EXPORTER_OTLP_", setting)};
    for (int i = 0; i < 2; ++i) {
      absl::optional<std::string> value = lookup(names[i].c_str());
      if (value.has_value() && !absl::StripAsciiWhitespace(*value).empty()) {
        return Found{std::string(absl::StripAsciiWhitespace(*value)), names[i], i == 0};
      }
    }
    return absl::nullopt;
  };
  if (auto protocol = get("PROTOCOL")) {
    const std::string value = absl::AsciiStrToLower(protocol->value);
    if (value == "grpc") {
      options.protocol = OtlpProtocol::kGrpc;
    } else if (value == "http/protobuf") {
      options.protocol = OtlpProtocol::kHttpProtobuf;
    } else if (value == "http/json") {
      return EnvError(protocol->name, "http/json is not supported (use http/protobuf or grpc)");
    } else {
      return EnvError(protocol->name,
                      absl::StrCat("\"", protocol->value, "\" is neither grpc nor http/protobuf"));
    }
  }
  if (auto endpoint = get("ENDPOINT")) {
    if (options.protocol == OtlpProtocol::kGrpc) {
      absl::StatusOr<internal::OtlpGrpcTarget> target =
          internal::ParseOtlpGrpcEndpoint(endpoint->value);
      if (!target.ok()) return EnvError(endpoint->name, target.status().message());
      options.endpoint = endpoint->value;
    } else {
      // The generic variable is a base URL; the signal's path goes below it.
      options.endpoint =
          endpoint->specific
              ? endpoint->value
              : absl::StrCat(endpoint->value, absl::EndsWith(endpoint->value, "/") ? "" : "/",
                             signal.http_path);
      if (absl::Status valid = CheckHttpEndpoint(options.endpoint); !valid.ok()) {
        return EnvError(endpoint->name, valid.message());
      }
    }
  }
  if (auto headers = get("HEADERS")) {
    absl::StatusOr<std::vector<OtlpHeader>> parsed =
        ParseHeaderList(headers->value, options.protocol);
    if (!parsed.ok()) return EnvError(headers->name, parsed.status().message());
    options.headers = *std::move(parsed);
  }
  if (auto compression = get("COMPRESSION")) {
    const std::string value = absl::AsciiStrToLower(compression->value);
    if (value == "gzip") {
      options.compression = OtlpCompression::kGzip;
    } else if (value == "none") {
      options.compression = OtlpCompression::kNone;
    } else {
      return EnvError(compression->name,
                      absl::StrCat("\"", compression->value, "\" is neither gzip nor none"));
    }
  }
  if (auto timeout = get("TIMEOUT")) {
    int64_t millis = 0;
    if (!absl::SimpleAtoi(timeout->value, &millis) || millis <= 0) {
      return EnvError(timeout->name, absl::StrCat("\"", timeout->value,
                                                  "\" is not a positive number of milliseconds"));
    }
    options.timeout = absl::Milliseconds(millis);
  }
  return options;
}

namespace internal {

absl::Status CheckOtlpRequestSize(size_t size, const OtlpExporterOptions& options) {
  if (size <= options.max_request_bytes) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat("the request is ", size,
                                                   " bytes, over the limit of ",
                                                   options.max_request_bytes, "; not sent"));
}

absl::Status ValidateOtlpOptions(const OtlpExporterOptions& options) {
  for (const OtlpHeader& header : options.headers) {
    if (absl::Status valid = ValidateHeaderFor(options.protocol, header); !valid.ok()) {
      return valid;
    }
  }
  if (options.protocol == OtlpProtocol::kHttpProtobuf) {
    if (absl::Status valid = CheckHttpEndpoint(options.endpoint); !valid.ok()) return valid;
  } else if (absl::StatusOr<OtlpGrpcTarget> target = ParseOtlpGrpcEndpoint(options.endpoint);
             !target.ok()) {
    return target.status();
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("OTLP exporter timeout must be positive");
  }
  if (options.max_request_bytes == 0 || options.max_response_bytes == 0) {
    return absl::InvalidArgumentError("OTLP request and response size limits must be positive");
  }
  const OtlpRetryPolicy& retry = options.retry;
  if (retry.max_attempts < 1 || retry.initial_backoff < absl::ZeroDuration() ||
      retry.max_backoff < retry.initial_backoff || !(retry.backoff_multiplier >= 1.0)) {
    return absl::InvalidArgumentError(
        "OTLP retry policy needs max_attempts >= 1, 0 <= initial_backoff <= max_backoff and "
        "multiplier >= 1");
  }
  return absl::OkStatus();
}

}  // namespace internal

}  // namespace tracebridge
