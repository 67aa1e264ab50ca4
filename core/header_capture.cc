// File: core/header_capture.cc

#include "tracebridge/core/header_capture.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tracebridge/core/util/env.h"
#include "tracebridge/core/util/http_token.h"
#include "tracebridge/core/util/utf8.h"

namespace tracebridge {
namespace {

constexpr size_t kMaxKeysPerList = 64;
constexpr size_t kMaxValueBytesLimit = 65536;

constexpr absl::string_view kCredentialKeys[] = {"authorization", "proxy-authorization", "cookie",
                                                 "set-cookie", "x-api-key"};
constexpr absl::string_view kCredentialParts[] = {"token",   "secret", "password", "passwd",
                                                  "api-key", "apikey", "api_key",  "credential"};

// gRPC metadata keys: 0-9 a-z - _ . (any case here; matched lowercase).
bool IsMetadataKeyChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

bool Listed(const std::vector<std::string>& keys, absl::string_view key) {
  for (const std::string& listed : keys) {
    if (absl::EqualsIgnoreCase(listed, key)) return true;
  }
  return false;
}

absl::Status ValidateList(absl::string_view what, const std::vector<std::string>& keys, bool grpc) {
  if (keys.size() > kMaxKeysPerList) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", keys.size(), " keys, at most ", kMaxKeysPerList));
  }
  for (const std::string& key : keys) {
    bool ok = !key.empty();
    for (char c : key) ok = ok && (grpc ? IsMetadataKeyChar(c) : IsHttpTokenChar(c));
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": \"", absl::CHexEscape(key), "\" is not ",
          grpc ? "a gRPC metadata key (0-9 a-z - _ .)" : "an HTTP header name (RFC 9110 token)"));
    }
  }
  return absl::OkStatus();
}

// The six lists, named for errors: by option field or by variable.
using ListNames = const char* const[6];
constexpr ListNames kFieldNames = {
    "header capture: grpc_request_metadata", "header capture: grpc_response_metadata",
    "header capture: http_request_headers",  "header capture: http_response_headers",
    "header capture: redacted_keys",         "header capture: unredacted_keys"};
constexpr ListNames kEnvNames = {"TRACEBRIDGE_GRPC_CAPTURE_REQUEST_METADATA",
                                 "TRACEBRIDGE_GRPC_CAPTURE_RESPONSE_METADATA",
                                 "TRACEBRIDGE_HTTP_CAPTURE_REQUEST_HEADERS",
                                 "TRACEBRIDGE_HTTP_CAPTURE_RESPONSE_HEADERS",
                                 "TRACEBRIDGE_CAPTURE_REDACT",
                                 "TRACEBRIDGE_CAPTURE_UNREDACT"};

absl::Status ValidateLists(const HeaderCaptureOptions& options, ListNames names) {
  const std::vector<std::string>* lists[6] = {
      &options.grpc_request_metadata, &options.grpc_response_metadata,
      &options.http_request_headers,  &options.http_response_headers,
      &options.redacted_keys,         &options.unredacted_keys};
  for (int i = 0; i < 6; ++i) {
    if (absl::Status status = ValidateList(names[i], *lists[i], /*grpc=*/i < 2); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsCredentialLikeKey(absl::string_view key) noexcept {
  const std::string lower = absl::AsciiStrToLower(key);
  for (absl::string_view exact : kCredentialKeys) {
    if (lower == exact) return true;
  }
  for (absl::string_view part : kCredentialParts) {
    if (absl::StrContains(lower, part)) return true;
  }
  return false;
}

absl::StatusOr<HeaderCaptureOptions> HeaderCaptureOptions::FromEnvironment(
    HeaderCaptureOptions base) {
  ReadListEnv(kEnvNames[0], &base.grpc_request_metadata);
  ReadListEnv(kEnvNames[1], &base.grpc_response_metadata);
  ReadListEnv(kEnvNames[2], &base.http_request_headers);
  ReadListEnv(kEnvNames[3], &base.http_response_headers);
  ReadListEnv(kEnvNames[4], &base.redacted_keys);
  ReadListEnv(kEnvNames[5], &base.unredacted_keys);
  int64_t max_bytes = static_cast<int64_t>(base.max_value_bytes);
  if (absl::Status status = ReadPositiveEnv("TRACEBRIDGE_CAPTURE_MAX_VALUE_BYTES", &max_bytes);
      !status.ok()) {
    return status;
  }
  if (max_bytes > static_cast<int64_t>(kMaxValueBytesLimit)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TRACEBRIDGE_CAPTURE_MAX_VALUE_BYTES=", max_bytes, ": at most ", kMaxValueBytesLimit));
  }
  base.max_value_bytes = static_cast<size_t>(max_bytes);
  if (absl::Status status = ValidateLists(base, kEnvNames); !status.ok()) return status;
  return base;
}

absl::StatusOr<HeaderCaptureOptions> HeaderCaptureOptions::FromEnvironment() {
  return FromEnvironment(HeaderCaptureOptions());
}

absl::Status ValidateHeaderCapture(const HeaderCaptureOptions& options) {
  if (options.max_value_bytes == 0 || options.max_value_bytes > kMaxValueBytesLimit) {
    return absl::InvalidArgumentError(absl::StrCat("header capture: max_value_bytes ",
                                                   options.max_value_bytes, " is not in 1 … ",
                                                   kMaxValueBytesLimit));
  }
  return ValidateLists(options, kFieldNames);
}

HeaderCapture::HeaderCapture(CaptureKind kind, const HeaderCaptureOptions& options,
                             std::atomic<uint64_t>* truncated)
    : max_value_bytes_(options.max_value_bytes), truncated_(truncated) {
  const std::vector<std::string>* keys = nullptr;
  absl::string_view prefix;
  switch (kind) {
    case CaptureKind::kGrpcRequest:
      keys = &options.grpc_request_metadata;
      prefix = "rpc.grpc.request.metadata.";
      break;
    case CaptureKind::kGrpcResponse:
      keys = &options.grpc_response_metadata;
      prefix = "rpc.grpc.response.metadata.";
      break;
    case CaptureKind::kHttpRequest:
      keys = &options.http_request_headers;
      prefix = "http.request.header.";
      break;
    case CaptureKind::kHttpResponse:
      keys = &options.http_response_headers;
      prefix = "http.response.header.";
      break;
  }
  const bool grpc = kind == CaptureKind::kGrpcRequest || kind == CaptureKind::kGrpcResponse;
  for (const std::string& key : *keys) {
    Entry entry;
    entry.key = absl::AsciiStrToLower(key);
    bool duplicate = false;
    for (const Entry& earlier : entries_) duplicate |= earlier.key == entry.key;
    if (duplicate) continue;
    entry.attribute = absl::StrCat(prefix, entry.key);
    entry.redacted = (IsCredentialLikeKey(entry.key) || Listed(options.redacted_keys, entry.key)) &&
                     !Listed(options.unredacted_keys, entry.key);
    entry.binary = grpc && absl::EndsWith(entry.key, "-bin");
    entries_.push_back(std::move(entry));
  }
}

void HeaderCapture::Add(Values* values, absl::string_view key, absl::string_view value) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& entry = entries_[i];
    if (!absl::EqualsIgnoreCase(entry.key, key)) continue;
    if (values->values_.empty()) {
      values->values_.resize(entries_.size());
      values->present_.resize(entries_.size(), 0);
    }
    std::string& out = values->values_[i];
    if (!entry.redacted) {
      // Past the bound nothing more is kept; the cut is counted once, at Apply.
      if (out.size() <= max_value_bytes_) {
        if (values->present_[i]) out.push_back(',');
        if (entry.binary) {
          // As gRPC's HTTP/2 transport sends it: base64 without padding.
          std::string encoded = absl::Base64Escape(value);
          while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
          out.append(encoded);
        } else {
          out.append(value.data(), std::min(value.size(), max_value_bytes_ + 1));
        }
      }
    }
    values->present_[i] = 1;
    return;
  }
}

void HeaderCapture::Apply(const Values& values, Span& span) const {
  if (values.values_.empty() || !span.IsRecording()) return;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (!values.present_[i]) continue;
    // The marker is not the value: never cut.
    if (entries_[i].redacted) {
      span.SetAttribute(entries_[i].attribute, kRedactedValue);
      continue;
    }
    const std::string& value = values.values_[i];
    // Repaired first, so the cut lands on a character boundary of what is kept.
    std::string kept = ValidUtf8Copy(value);
    if (kept.size() > max_value_bytes_) {
      kept.resize(CutUtf8(kept, max_value_bytes_).size());
      if (truncated_ != nullptr) truncated_->fetch_add(1, std::memory_order_relaxed);
    }
    span.SetAttribute(entries_[i].attribute, kept);
  }
}

std::vector<std::string> HeaderCapture::AttributeNames() const {
  std::vector<std::string> names;
  for (const Entry& entry : entries_) names.push_back(entry.attribute);
  return names;
}

}  // namespace tracebridge
