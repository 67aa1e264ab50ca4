// File: exporters/otlp/otlp_grpc_transport.cc
//
// OTLP/gRPC for any signal: the channel, one unary call per attempt, RetryInfo.
// See otlp_grpc_transport.h.

#include "tracebridge/exporters/otlp/otlp_grpc_transport.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include <grpc/slice.h>

#include "absl/strings/str_cat.h"
#include "tracebridge/internal/rpc_status.pb.h"

namespace tracebridge {
namespace {

constexpr absl::string_view kRetryInfoType = "google.rpc.RetryInfo";

// The bytes of a (small) response buffer.
std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

}  // namespace

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

absl::StatusOr<std::unique_ptr<OtlpGrpcTransport>> OtlpGrpcTransport::Create(
    OtlpExporterOptions options, absl::string_view method) {
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
  return std::unique_ptr<OtlpGrpcTransport>(
      new OtlpGrpcTransport(std::move(options), target->target, method, std::move(channel)));
}

OtlpGrpcTransport::OtlpGrpcTransport(OtlpExporterOptions options, std::string target,
                                     absl::string_view method,
                                     std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      target_(std::move(target)),
      method_(method),
      channel_(std::move(channel)),
      stub_(channel_),
      runner_(options_.retry, options_.on_retry) {}

OtlpGrpcTransport::~OtlpGrpcTransport() {
  Shutdown(absl::ZeroDuration()).IgnoreError();
  cq_.Shutdown();
  void* tag;
  bool ok;
  while (cq_.Next(&tag, &ok)) {
  }
}

absl::Status OtlpGrpcTransport::Export(size_t size, absl::FunctionRef<void(char* out)> write,
                                       size_t items, absl::Time deadline,
                                       OtlpResponseParser parse) {
  grpc::ByteBuffer request;
  auto prepare = [&]() -> absl::Status {
    if (absl::Status fits = internal::CheckOtlpRequestSize(size, options_); !fits.ok()) {
      return fits;
    }
    // Written once into one gRPC slice (no copy on the way to the transport),
    // shared by every attempt.
    grpc_slice slice = grpc_slice_malloc(size);
    write(reinterpret_cast<char*>(GRPC_SLICE_START_PTR(slice)));
    grpc::Slice owned(slice, grpc::Slice::STEAL_REF);
    request = grpc::ByteBuffer(&owned, 1);
    return absl::OkStatus();
  };
  return runner_.Export(target_, items, std::min(deadline, absl::Now() + options_.timeout), prepare,
                        [&](absl::Time end) { return Call(request, end, parse); });
}

OtlpAttempt OtlpGrpcTransport::Call(const grpc::ByteBuffer& request, absl::Time end,
                                    OtlpResponseParser parse) {
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
  grpc::ByteBuffer response;
  std::unique_ptr<grpc::ClientAsyncResponseReader<grpc::ByteBuffer>> call =
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
    parse(Flatten(response), &result.rejected, &result.partial_message);
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

}  // namespace tracebridge
