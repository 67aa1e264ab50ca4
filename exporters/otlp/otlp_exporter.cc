// File: interceptors/otlp_exporter.cc
//
// The OTLP/gRPC span exporter: SpanData → OTLP protobuf mapping, option and
// environment parsing, and the retry loop. See otlp_exporter.h.

#include "tracebridge/exporters/otlp/otlp_exporter.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <grpc/slice.h>

#include "absl/cleanup/cleanup.h"
#include "absl/random/distributions.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/types/variant.h"
#include "tracebridge/internal/rpc_status.pb.h"

namespace tracebridge {
namespace {

namespace collector = ::opentelemetry::proto::collector::trace::v1;
namespace common = ::opentelemetry::proto::common::v1;
namespace otlp_trace = ::opentelemetry::proto::trace::v1;

constexpr absl::string_view kRetryInfoType = "google.rpc.RetryInfo";
constexpr absl::string_view kUserAgent = "tracebridge-otlp-exporter/0.1.0";

// ---------------------------------------------------------------------------
// SpanData → OTLP.

uint32_t SpanFlags(TraceFlags flags, bool remote) {
  uint32_t bits = flags.bits() | otlp_trace::SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK;
  if (remote) bits |= otlp_trace::SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK;
  return bits;
}

otlp_trace::Span::SpanKind ToOtlpKind(SpanKind kind) {
  switch (kind) {
    case SpanKind::kInternal:
      return otlp_trace::Span::SPAN_KIND_INTERNAL;
    case SpanKind::kServer:
      return otlp_trace::Span::SPAN_KIND_SERVER;
    case SpanKind::kClient:
      return otlp_trace::Span::SPAN_KIND_CLIENT;
    case SpanKind::kProducer:
      return otlp_trace::Span::SPAN_KIND_PRODUCER;
    case SpanKind::kConsumer:
      return otlp_trace::Span::SPAN_KIND_CONSUMER;
  }
  return otlp_trace::Span::SPAN_KIND_UNSPECIFIED;
}

// Timestamps before 1970 cannot be represented in fixed64; they only arise
// from a badly set clock, and 0 ("unknown") is the honest value then.
uint64_t UnixNanos(int64_t nanos) { return nanos > 0 ? static_cast<uint64_t>(nanos) : 0; }

struct AnyValueSetter {
  common::AnyValue* out;
  void operator()(const std::string& v) const { out->set_string_value(v); }
  void operator()(int64_t v) const { out->set_int_value(v); }
  void operator()(double v) const { out->set_double_value(v); }
  void operator()(bool v) const { out->set_bool_value(v); }
};

void AddAttribute(const Attribute& attribute,
                  google::protobuf::RepeatedPtrField<common::KeyValue>* out) {
  common::KeyValue* kv = out->Add();
  kv->set_key(attribute.key);
  absl::visit(AnyValueSetter{kv->mutable_value()}, attribute.value);
}

template <typename Attributes>
void AddAttributes(const Attributes& attributes,
                   google::protobuf::RepeatedPtrField<common::KeyValue>* out) {
  out->Reserve(static_cast<int>(attributes.size()));
  for (const Attribute& attribute : attributes) AddAttribute(attribute, out);
}

template <size_t N>
void SetBytes(const std::array<uint8_t, N>& bytes, std::string* out) {
  out->assign(reinterpret_cast<const char*>(bytes.data()), N);
}

void FillSpan(const SpanData& data, otlp_trace::Span* span) {
  const SpanContext& context = data.context;
  SetBytes(context.trace_id().bytes(), span->mutable_trace_id());
  SetBytes(context.span_id().bytes(), span->mutable_span_id());
  if (!context.trace_state().empty()) span->set_trace_state(context.trace_state().ToHeader());
  const bool has_parent = data.parent_span_id.IsValid();
  if (has_parent) SetBytes(data.parent_span_id.bytes(), span->mutable_parent_span_id());
  // The IS_REMOTE bits describe the parent; a root span's (absent) parent is
  // known not to be remote.
  span->set_flags(SpanFlags(context.trace_flags(), has_parent && data.parent_is_remote));
  span->set_name(data.name);
  span->set_kind(ToOtlpKind(data.kind));
  span->set_start_time_unix_nano(UnixNanos(data.start_unix_nanos));
  span->set_end_time_unix_nano(UnixNanos(data.end_unix_nanos));
  AddAttributes(data.attributes, span->mutable_attributes());
  span->set_dropped_attributes_count(data.dropped_attributes);

  if (!data.events.empty()) {
    span->mutable_events()->Reserve(static_cast<int>(data.events.size()));
    for (const SpanEvent& event : data.events) {
      otlp_trace::Span::Event* out = span->add_events();
      out->set_time_unix_nano(UnixNanos(event.time_unix_nanos));
      out->set_name(event.name);
      AddAttributes(event.attributes, out->mutable_attributes());
      out->set_dropped_attributes_count(event.dropped_attributes);
    }
  }
  span->set_dropped_events_count(data.dropped_events);

  if (!data.links.empty()) {
    span->mutable_links()->Reserve(static_cast<int>(data.links.size()));
    for (const SpanLink& link : data.links) {
      otlp_trace::Span::Link* out = span->add_links();
      SetBytes(link.context.trace_id().bytes(), out->mutable_trace_id());
      SetBytes(link.context.span_id().bytes(), out->mutable_span_id());
      if (!link.context.trace_state().empty()) {
        out->set_trace_state(link.context.trace_state().ToHeader());
      }
      AddAttributes(link.attributes, out->mutable_attributes());
      out->set_dropped_attributes_count(link.dropped_attributes);
      out->set_flags(SpanFlags(link.context.trace_flags(), link.context.IsRemote()));
    }
  }
  span->set_dropped_links_count(data.dropped_links);

  // An unset status is the absent message; the description travels only
  // with an error, as the OpenTelemetry API defines it.
  switch (data.status) {
    case StatusCode::kUnset:
      break;
    case StatusCode::kOk:
      span->mutable_status()->set_code(otlp_trace::Status::STATUS_CODE_OK);
      break;
    case StatusCode::kError:
      span->mutable_status()->set_code(otlp_trace::Status::STATUS_CODE_ERROR);
      span->mutable_status()->set_message(data.status_description);
      break;
  }
}

// ---------------------------------------------------------------------------
// Options.

// gRPC metadata keys: lowercase letters, digits, '_', '-', '.'. The "grpc-"
// prefix is reserved for gRPC itself.
absl::Status ValidateHeader(const OtlpHeader& header) {
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

struct Target {
  std::string target;
  bool tls = false;
};

absl::StatusOr<Target> ParseEndpoint(absl::string_view endpoint) {
  endpoint = absl::StripAsciiWhitespace(endpoint);
  Target result;
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
  if (endpoint.empty()) return absl::InvalidArgumentError("OTLP endpoint is empty");
  result.target = std::string(endpoint);
  return result;
}

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

absl::StatusOr<std::vector<OtlpHeader>> ParseHeaderList(absl::string_view text) {
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
    if (absl::Status valid = ValidateHeader(header); !valid.ok()) return valid;
    headers.push_back(std::move(header));
  }
  return headers;
}

absl::Status EnvError(const char* name, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(name, ": ", problem));
}

}  // namespace

// ---------------------------------------------------------------------------
// Free functions.

void FillOtlpExportRequest(const Resource& resource,
                           absl::Span<const std::unique_ptr<SpanData>> spans,
                           collector::ExportTraceServiceRequest* request) {
  otlp_trace::ResourceSpans* resource_spans = request->add_resource_spans();
  auto* resource_attributes = resource_spans->mutable_resource()->mutable_attributes();
  resource_attributes->Reserve(static_cast<int>(resource.attributes.size() + 1));
  // `service_name` is authoritative: a `service.name` among the attributes
  // only counts when it is empty (OTLP keys must be unique).
  const Attribute* service_attribute = nullptr;
  for (const Attribute& attribute : resource.attributes) {
    if (attribute.key == "service.name") service_attribute = &attribute;
  }
  if (!resource.service_name.empty() || service_attribute == nullptr) {
    common::KeyValue* kv = resource_attributes->Add();
    kv->set_key("service.name");
    kv->mutable_value()->set_string_value(resource.service_name.empty() ? "unknown_service"
                                                                        : resource.service_name);
    service_attribute = nullptr;
  }
  for (const Attribute& attribute : resource.attributes) {
    if (attribute.key == "service.name" && &attribute != service_attribute) continue;
    AddAttribute(attribute, resource_attributes);
  }

  otlp_trace::ScopeSpans* scope_spans = resource_spans->add_scope_spans();
  scope_spans->mutable_scope()->set_name(std::string(kOtlpScopeName));
  scope_spans->mutable_scope()->set_version(std::string(kOtlpScopeVersion));
  auto* out = scope_spans->mutable_spans();
  out->Reserve(static_cast<int>(spans.size()));
  for (const std::unique_ptr<SpanData>& span : spans) {
    if (span != nullptr) FillSpan(*span, out->Add());
  }
}

absl::optional<absl::Duration> RetryDelayFromStatusDetails(absl::string_view details) {
  if (details.empty()) return absl::nullopt;
  internal::RpcStatus status;
  if (!status.ParseFromArray(details.data(), static_cast<int>(details.size()))) {
    return absl::nullopt;
  }
  for (const internal::AnyMessage& detail : status.details()) {
    // The type URL is "<host>/google.rpc.RetryInfo"; only the name matters.
    absl::string_view type = detail.type_url();
    const size_t slash = type.rfind('/');
    if (slash != absl::string_view::npos) type.remove_prefix(slash + 1);
    if (type != kRetryInfoType) continue;
    internal::RetryInfo info;
    if (!info.ParseFromString(detail.value()) || !info.has_retry_delay()) return absl::nullopt;
    const absl::Duration delay =
        absl::Seconds(info.retry_delay().seconds()) + absl::Nanoseconds(info.retry_delay().nanos());
    return std::max(delay, absl::ZeroDuration());
  }
  return absl::nullopt;
}

bool IsRetryableOtlpCode(grpc::StatusCode code, bool has_retry_info) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DATA_LOSS:
      return true;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      // The specification: retryable only when the server signals that
      // recovery is possible, which it does by sending RetryInfo.
      return has_retry_info;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------
// Options from the environment.

absl::StatusOr<OtlpExporterOptions> OtlpExporterOptions::FromEnvironment() {
  return FromEnvironment([](const char* name) -> absl::optional<std::string> {
    const char* value = std::getenv(name);
    if (value == nullptr) return absl::nullopt;
    return std::string(value);
  });
}

absl::StatusOr<OtlpExporterOptions> OtlpExporterOptions::FromEnvironment(const EnvLookup& lookup) {
  OtlpExporterOptions options;
  // The signal-specific variable wins over the generic one; an empty value
  // counts as unset.
  auto get = [&](const char* specific, const char* generic,
                 const char** used) -> absl::optional<std::string> {
    for (const char* name : {specific, generic}) {
      absl::optional<std::string> value = lookup(name);
      if (value.has_value() && !absl::StripAsciiWhitespace(*value).empty()) {
        *used = name;
        return std::string(absl::StripAsciiWhitespace(*value));
      }
    }
    return absl::nullopt;
  };
  const char* name = nullptr;
  if (auto endpoint =
          get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT", &name)) {
    absl::StatusOr<Target> target = ParseEndpoint(*endpoint);
    if (!target.ok()) return EnvError(name, target.status().message());
    options.endpoint = *std::move(endpoint);
  }
  if (auto headers =
          get("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS", &name)) {
    absl::StatusOr<std::vector<OtlpHeader>> parsed = ParseHeaderList(*headers);
    if (!parsed.ok()) return EnvError(name, parsed.status().message());
    options.headers = *std::move(parsed);
  }
  if (auto compression =
          get("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION", &name)) {
    const std::string value = absl::AsciiStrToLower(*compression);
    if (value == "gzip") {
      options.compression = OtlpCompression::kGzip;
    } else if (value == "none") {
      options.compression = OtlpCompression::kNone;
    } else {
      return EnvError(name, absl::StrCat("\"", *compression, "\" is neither gzip nor none"));
    }
  }
  if (auto timeout =
          get("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT", &name)) {
    int64_t millis = 0;
    if (!absl::SimpleAtoi(*timeout, &millis) || millis <= 0) {
      return EnvError(name,
                      absl::StrCat("\"", *timeout, "\" is not a positive number of milliseconds"));
    }
    options.timeout = absl::Milliseconds(millis);
  }
  return options;
}

// ---------------------------------------------------------------------------
// The exporter.

absl::StatusOr<std::unique_ptr<OtlpGrpcExporter>> OtlpGrpcExporter::Create(
    OtlpExporterOptions options) {
  absl::StatusOr<Target> target = ParseEndpoint(options.endpoint);
  if (!target.ok()) return target.status();
  for (const OtlpHeader& header : options.headers) {
    if (absl::Status valid = ValidateHeader(header); !valid.ok()) return valid;
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("OTLP exporter timeout must be positive");
  }
  const OtlpRetryPolicy& retry = options.retry;
  if (retry.max_attempts < 1 || retry.initial_backoff < absl::ZeroDuration() ||
      retry.max_backoff < retry.initial_backoff || !(retry.backoff_multiplier >= 1.0)) {
    return absl::InvalidArgumentError(
        "OTLP retry policy needs max_attempts >= 1, 0 <= initial_backoff <= max_backoff and "
        "multiplier >= 1");
  }

  std::shared_ptr<grpc::ChannelCredentials> credentials = options.credentials;
  if (credentials == nullptr) {
    credentials = target->tls ? grpc::SslCredentials(grpc::SslCredentialsOptions())
                              : grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetString(GRPC_ARG_PRIMARY_USER_AGENT_STRING, std::string(kUserAgent));
  // Retries are ours (OTLP's rules, RetryInfo, the export deadline); gRPC's
  // transparent retries would only hide attempts from the counters.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  // After an outage, reconnect on the retry policy's scale rather than gRPC's
  // default of up to two minutes, which would fail every export meanwhile.
  const int64_t reconnect_ms =
      std::max<int64_t>(1000, absl::ToInt64Milliseconds(retry.max_backoff));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              static_cast<int>(std::min<int64_t>(reconnect_ms, std::numeric_limits<int>::max())));
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(target->target, credentials, args);
  if (channel == nullptr) {
    return absl::InternalError(absl::StrCat("could not create a channel to ", target->target));
  }
  return std::unique_ptr<OtlpGrpcExporter>(
      new OtlpGrpcExporter(std::move(options), target->target, std::move(channel)));
}

OtlpGrpcExporter::OtlpGrpcExporter(OtlpExporterOptions options, std::string target,
                                   std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      target_(std::move(target)),
      channel_(std::move(channel)),
      stub_(channel_),
      method_(kOtlpTraceExportMethod) {}

OtlpGrpcExporter::~OtlpGrpcExporter() {
  Shutdown(absl::ZeroDuration()).IgnoreError();
  cq_.Shutdown();
  void* tag;
  bool ok;
  while (cq_.Next(&tag, &ok)) {
  }
}

absl::Status OtlpGrpcExporter::Export(const Resource& resource,
                                      absl::Span<const std::unique_ptr<SpanData>> spans,
                                      absl::Time deadline) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shutdown_) {
      CountFailure(spans.size());
      return absl::FailedPreconditionError("OTLP exporter is shut down");
    }
    exporting_ = true;
  }
  absl::Cleanup done = [this] {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      exporting_ = false;
    }
    changed_.notify_all();
  };
  if (spans.empty()) return absl::OkStatus();

  const absl::Time end = std::min(deadline, absl::Now() + options_.timeout);
  // Encoded once into one gRPC slice (no copy on the way to the transport),
  // shared by every attempt.
  const size_t size = encoder_.Prepare(resource, spans);
  grpc_slice slice = grpc_slice_malloc(size);
  encoder_.Write(reinterpret_cast<char*>(GRPC_SLICE_START_PTR(slice)));
  grpc::Slice owned(slice, grpc::Slice::STEAL_REF);
  const grpc::ByteBuffer request(&owned, 1);

  grpc::Status last;
  absl::string_view gave_up;
  int attempts = 0;
  for (;;) {
    ++attempts;
    Attempt attempt = Call(request, end);
    if (attempt.status.ok()) {
      batches_exported_.fetch_add(1, std::memory_order_relaxed);
      spans_exported_.fetch_add(spans.size(), std::memory_order_relaxed);
      if (attempt.rejected_spans > 0 || !attempt.partial_message.empty()) {
        spans_rejected_.fetch_add(
            static_cast<uint64_t>(std::max<int64_t>(attempt.rejected_spans, 0)),
            std::memory_order_relaxed);
        std::lock_guard<std::mutex> lock(mutex_);
        last_partial_message_ = std::move(attempt.partial_message);
      }
      return absl::OkStatus();
    }
    last = std::move(attempt.status);
    if (!IsRetryableOtlpCode(last.error_code(), attempt.server_delay.has_value())) break;
    if (attempts >= options_.retry.max_attempts) {
      gave_up = " (retries exhausted)";
      break;
    }
    const absl::Duration wait = attempt.server_delay ? *attempt.server_delay : Backoff(attempts);
    const absl::Time retry_at = absl::Now() + wait;
    if (retry_at >= end) {
      gave_up = " (no time left before the export deadline)";
      break;
    }
    if (options_.on_retry) {
      options_.on_retry(
          absl::Status(static_cast<absl::StatusCode>(last.error_code()), last.error_message()),
          wait);
    }
    if (!WaitForRetry(retry_at)) {
      gave_up = " (exporter shut down)";
      break;
    }
    retries_.fetch_add(1, std::memory_order_relaxed);
  }
  CountFailure(spans.size());
  // gRPC and Abseil share the canonical code numbering.
  return absl::Status(
      static_cast<absl::StatusCode>(last.error_code()),
      absl::StrCat("OTLP export to ", target_, " failed after ", attempts,
                   attempts == 1 ? " attempt: " : " attempts: ", last.error_message(), gave_up));
}

OtlpGrpcExporter::Attempt OtlpGrpcExporter::Call(const grpc::ByteBuffer& request, absl::Time end) {
  Attempt result;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(end));
  for (const OtlpHeader& header : options_.headers) context.AddMetadata(header.key, header.value);
  if (options_.compression == OtlpCompression::kGzip) {
    context.set_compression_algorithm(GRPC_COMPRESS_GZIP);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shutdown_) {
      result.status = grpc::Status(grpc::StatusCode::CANCELLED, "exporter shut down");
      return result;
    }
    call_ = &context;
  }
  // Unary call on our own completion queue, waited for on this thread: the
  // context's deadline bounds the wait, and Shutdown's TryCancel ends it.
  collector::ExportTraceServiceResponse response;
  std::unique_ptr<grpc::ClientAsyncResponseReader<collector::ExportTraceServiceResponse>> call =
      stub_.PrepareUnaryCall(&context, method_, request, &cq_);
  call->StartCall();
  call->Finish(&response, &result.status, &context);
  void* tag = nullptr;
  bool ok = false;
  if (!cq_.Next(&tag, &ok) || tag != &context) {
    result.status = grpc::Status(grpc::StatusCode::INTERNAL, "completion queue failed");
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    call_ = nullptr;
  }
  if (result.status.ok()) {
    if (response.has_partial_success()) {
      result.rejected_spans = response.partial_success().rejected_spans();
      result.partial_message = response.partial_success().error_message();
    }
  } else if (result.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
             result.status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    // The specification honours a server's delay only for these two codes.
    result.server_delay = RetryDelayFromStatusDetails(result.status.error_details());
  }
  return result;
}

absl::Duration OtlpGrpcExporter::Backoff(int retry) {
  const OtlpRetryPolicy& policy = options_.retry;
  const double scale = std::pow(policy.backoff_multiplier, retry - 1);
  const absl::Duration cap = std::min(policy.max_backoff, policy.initial_backoff * scale);
  const int64_t cap_ns = absl::ToInt64Nanoseconds(cap);
  if (cap_ns <= 0) return absl::ZeroDuration();
  return absl::Nanoseconds(absl::Uniform<int64_t>(absl::IntervalClosed, bitgen_, 0, cap_ns));
}

bool OtlpGrpcExporter::WaitForRetry(absl::Time until) {
  std::unique_lock<std::mutex> lock(mutex_);
  // A relative wait on the steady clock: a wall-clock step neither cuts the
  // backoff short nor stretches it.
  changed_.wait_for(lock,
                    absl::ToChronoNanoseconds(std::max(until - absl::Now(), absl::ZeroDuration())),
                    [this] { return shutdown_; });
  return !shutdown_;
}

void OtlpGrpcExporter::CountFailure(size_t spans) {
  batches_failed_.fetch_add(1, std::memory_order_relaxed);
  spans_failed_.fetch_add(spans, std::memory_order_relaxed);
}

absl::Status OtlpGrpcExporter::Shutdown(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  shutdown_ = true;
  if (call_ != nullptr) call_->TryCancel();
  changed_.notify_all();
  if (!changed_.wait_for(lock, absl::ToChronoNanoseconds(std::max(timeout, absl::ZeroDuration())),
                         [this] { return !exporting_; })) {
    return absl::DeadlineExceededError("OTLP export still running at the end of Shutdown");
  }
  return absl::OkStatus();
}

OtlpExporterStats OtlpGrpcExporter::Stats() const noexcept {
  OtlpExporterStats stats;
  stats.batches_exported = batches_exported_.load(std::memory_order_relaxed);
  stats.spans_exported = spans_exported_.load(std::memory_order_relaxed);
  stats.batches_failed = batches_failed_.load(std::memory_order_relaxed);
  stats.spans_failed = spans_failed_.load(std::memory_order_relaxed);
  stats.retries = retries_.load(std::memory_order_relaxed);
  stats.spans_rejected = spans_rejected_.load(std::memory_order_relaxed);
  return stats;
}

std::string OtlpGrpcExporter::last_partial_success_message() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_partial_message_;
}

}  // namespace tracebridge
