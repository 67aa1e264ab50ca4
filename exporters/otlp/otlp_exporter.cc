// File: exporters/otlp/otlp_exporter.cc
//
// The OTLP/gRPC span exporter: the SpanData → OTLP message mapping, RetryInfo
// and the gRPC call. See otlp_exporter.h.

#include "tracebridge/exporters/otlp/otlp_exporter.h"

#include <algorithm>
#include <limits>

#include <grpc/slice.h>

#include "absl/strings/str_cat.h"
#include "absl/types/variant.h"
#include "tracebridge/internal/rpc_status.pb.h"

namespace tracebridge {
namespace {

namespace collector = ::opentelemetry::proto::collector::trace::v1;
namespace common = ::opentelemetry::proto::common::v1;
namespace otlp_trace = ::opentelemetry::proto::trace::v1;

constexpr absl::string_view kRetryInfoType = "google.rpc.RetryInfo";

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
// The exporter.

absl::StatusOr<std::unique_ptr<OtlpGrpcExporter>> OtlpGrpcExporter::Create(
    OtlpExporterOptions options) {
  options.protocol = OtlpProtocol::kGrpc;
  if (absl::Status valid = internal::ValidateOtlpOptions(options); !valid.ok()) return valid;
  absl::StatusOr<internal::OtlpGrpcTarget> target =
      internal::ParseOtlpGrpcEndpoint(options.endpoint);
  if (!target.ok()) return target.status();

  std::shared_ptr<grpc::ChannelCredentials> credentials = options.credentials;
  if (credentials == nullptr) {
    credentials = target->tls ? grpc::SslCredentials(grpc::SslCredentialsOptions())
                              : grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetString(GRPC_ARG_PRIMARY_USER_AGENT_STRING, std::string(kOtlpUserAgent));
  // Retries are ours (OTLP's rules, RetryInfo, the export deadline); gRPC's
  // transparent retries would only hide attempts from the counters.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  // After an outage, reconnect on the retry policy's scale rather than gRPC's
  // default of up to two minutes, which would fail every export meanwhile.
  const int64_t reconnect_ms =
      std::max<int64_t>(1000, absl::ToInt64Milliseconds(options.retry.max_backoff));
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
      method_(kOtlpTraceExportMethod),
      runner_(options_.retry, options_.on_retry) {}

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
  grpc::ByteBuffer request;
  auto encode = [&]() -> absl::Status {
    const size_t size = encoder_.Prepare(resource, spans);
    if (size > options_.max_request_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat("the request is ", size,
                                                       " bytes, over the limit of ",
                                                       options_.max_request_bytes, "; not sent"));
    }
    // Encoded once into one gRPC slice (no copy on the way to the transport),
    // shared by every attempt.
    grpc_slice slice = grpc_slice_malloc(size);
    encoder_.Write(reinterpret_cast<char*>(GRPC_SLICE_START_PTR(slice)));
    grpc::Slice owned(slice, grpc::Slice::STEAL_REF);
    request = grpc::ByteBuffer(&owned, 1);
    return absl::OkStatus();
  };
  return runner_.Export(target_, spans.size(), std::min(deadline, absl::Now() + options_.timeout),
                        encode, [&](absl::Time end) { return Call(request, end); });
}

OtlpAttempt OtlpGrpcExporter::Call(const grpc::ByteBuffer& request, absl::Time end) {
  OtlpAttempt result;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(end));
  for (const OtlpHeader& header : options_.headers) context.AddMetadata(header.key, header.value);
  if (options_.compression == OtlpCompression::kGzip) {
    context.set_compression_algorithm(GRPC_COMPRESS_GZIP);
  }
  if (!runner_.BeginCall([&context] { context.TryCancel(); })) {
    result.status = absl::CancelledError("exporter shut down");
    result.retryable = true;  // the runner sees the shutdown and stops
    return result;
  }
  // Unary call on our own completion queue, waited for on this thread: the
  // context's deadline bounds the wait, and Shutdown's TryCancel ends it.
  grpc::Status status;
  collector::ExportTraceServiceResponse response;
  std::unique_ptr<grpc::ClientAsyncResponseReader<collector::ExportTraceServiceResponse>> call =
      stub_.PrepareUnaryCall(&context, method_, request, &cq_);
  call->StartCall();
  call->Finish(&response, &status, &context);
  void* tag = nullptr;
  bool ok = false;
  if (!cq_.Next(&tag, &ok) || tag != &context) {
    status = grpc::Status(grpc::StatusCode::INTERNAL, "completion queue failed");
  }
  runner_.EndCall();
  if (status.ok()) {
    if (response.has_partial_success()) {
      result.rejected = response.partial_success().rejected_spans();
      result.partial_message = response.partial_success().error_message();
    }
    return result;
  }
  if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
      status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    // The specification honours a server's delay only for these two codes.
    result.server_delay = RetryDelayFromStatusDetails(status.error_details());
  }
  result.retryable = IsRetryableOtlpCode(status.error_code(), result.server_delay.has_value());
  // gRPC and Abseil share the canonical code numbering.
  result.status =
      absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  return result;
}

absl::Status OtlpGrpcExporter::Shutdown(absl::Duration timeout) {
  return runner_.Shutdown(timeout);
}

OtlpExporterStats OtlpGrpcExporter::Stats() const noexcept {
  return OtlpExporterStats::FromCounts(runner_.Counts());
}

std::string OtlpGrpcExporter::last_partial_success_message() const {
  return runner_.last_partial_success_message();
}

}  // namespace tracebridge
