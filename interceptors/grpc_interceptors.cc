#include "tracebridge/interceptors/grpc_interceptors.h"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tracebridge/core/call_metrics.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/trace/clock.h"
#include "tracebridge/interceptors/message_size.h"
#include "tracebridge/interceptors/metadata_capture.h"
#include "tracebridge/interceptors/metadata_carrier.h"

namespace tracebridge {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;

// The private metadata entry that carries an explicit client parent from
// `SetParent` to the interceptor, which removes it before the call is sent.
constexpr char kParentKey[] = "tracebridge-parent";
constexpr char kTraceIdHeader[] = "x-trace-id";

// gRPC offers no per-call slot on a ServerContext, so the server spans are
// found through this table: striped, so concurrent calls rarely share a lock,
// and touched twice per traced call (insert at start, erase at the end).
class SpanDirectory {
 public:
  void Put(const void* key, Span* span) {
    Stripe& stripe = For(key);
    std::lock_guard<std::mutex> lock(stripe.mutex);
    stripe.spans[key] = span;
  }
  void Erase(const void* key) {
    Stripe& stripe = For(key);
    std::lock_guard<std::mutex> lock(stripe.mutex);
    stripe.spans.erase(key);
  }
  Span* Get(const void* key) {
    Stripe& stripe = For(key);
    std::lock_guard<std::mutex> lock(stripe.mutex);
    auto it = stripe.spans.find(key);
    return it == stripe.spans.end() ? nullptr : it->second;
  }

 private:
  static constexpr size_t kStripes = 64;
  struct alignas(64) Stripe {
    std::mutex mutex;
    absl::flat_hash_map<const void*, Span*> spans;
  };
  Stripe& For(const void* key) {
    return stripes_[(reinterpret_cast<uintptr_t>(key) >> 4) % kStripes];
  }
  Stripe stripes_[kStripes];
};

SpanDirectory& Directory() {
  static SpanDirectory* const directory = new SpanDirectory();
  return *directory;
}

// How a call streams, in the registry's terms (both RpcInfo types number
// their values like gRPC's RpcMethod::RpcType).
template <typename InfoType>
RpcType RpcTypeOf(InfoType type) {
  switch (type) {
    case InfoType::UNARY:
      return RpcType::kUnary;
    case InfoType::CLIENT_STREAMING:
      return RpcType::kClientStreaming;
    case InfoType::SERVER_STREAMING:
      return RpcType::kServerStreaming;
    case InfoType::BIDI_STREAMING:
      return RpcType::kBidiStreaming;
    default:
      return RpcType::kUnknown;
  }
}

// The series for `full_method`, registering it (with how it streams) on
// first sight while the registry has room.
Series* SeriesFor(Registry& registry, Side side, absl::string_view full_method, RpcType type) {
  Series* series = registry.FindGrpcFullMethod(side, full_method);
  if (!series->is_other() || registry.registered_count() >= registry.max_series()) return series;
  absl::string_view service, method;
  if (!SplitGrpcFullMethod(full_method, &service, &method)) return series;
  return registry.RegisterGrpcMethod(side, service, method, type);
}

// "ipv4:127.0.0.1:5000" / "ipv6:[::1]:5000" → address and port.
void ParsePeer(absl::string_view peer, std::string* address, int* port) {
  absl::string_view rest;
  if (absl::StartsWith(peer, "ipv4:")) {
    rest = peer.substr(5);
  } else if (absl::StartsWith(peer, "ipv6:")) {
    rest = peer.substr(5);
  } else {
    *address = std::string(peer);
    return;
  }
  const size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) {
    *address = std::string(rest);
    return;
  }
  absl::string_view host = rest.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  *address = std::string(host);
  if (!absl::SimpleAtoi(rest.substr(colon + 1), port)) *port = 0;
}

void SetRpcAttributes(Span& span, absl::string_view full_method) {
  absl::string_view service, method;
  span.SetAttribute("rpc.system", "grpc");
  if (SplitGrpcFullMethod(full_method, &service, &method)) {
    span.SetAttribute("rpc.service", service);
    span.SetAttribute("rpc.method", method);
  }
}

// "pkg.Service/Method" from "/pkg.Service/Method".
absl::string_view SpanName(absl::string_view full_method) {
  return absl::StartsWith(full_method, "/") ? full_method.substr(1) : full_method;
}

// What both sides keep for one call: its series, its span and the counts.
// Hooks for one call can run on different threads (a bidi stream's reads
// and writes, a cancellation), so a per-call lock orders them.
class CallRecorder {
 protected:
  CallRecorder(const Telemetry& telemetry, Series* series, Side side, const char* method,
               bool traced, bool message_events, uint32_t max_message_events)
      : capture_(telemetry),
        series_(series),
        side_(side),
        received_type_(internal::ReceivedMessageType(method != nullptr ? method : "", side)),
        traced_(traced),
        message_events_(message_events),
        max_message_events_(max_message_events) {}

  // Counts one message each way with its bytes and size bucket (sent: the
  // serialised buffer; received: see interceptors/message_size.h) and, when enabled, adds a
  // capped `message` event to the span.
  void RecordMessage(bool sent, const grpc::ByteBuffer* sent_buffer, const void* received) {
    size_t bytes = 0;
    if (sent) {
      if (sent_buffer != nullptr) {
        bytes = sent_buffer->Length();
        series_->RecordMessageSent(bytes);
      } else {
        series_->AddMessagesSent();
      }
    } else {
      const int64_t size = internal::ReceivedMessageSize(received, received_type_);
      bytes = size > 0 ? static_cast<size_t>(size) : 0;
      size >= 0 ? series_->RecordMessageReceived(bytes) : series_->AddMessagesReceived();
    }
    if (StreamWatch* watch = watch_ptr_.load(std::memory_order_acquire)) {
      watch->OnMessage(sent, bytes);
    }
    if (!message_events_) return;
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t id = sent ? ++sent_ : ++received_;
    if (!span_.IsRecording() || events_ >= max_message_events_) return;
    ++events_;
    span_.AddEvent("message", {Attribute{"message.type", std::string(sent ? "SENT" : "RECEIVED")},
                               Attribute{"message.id", static_cast<int64_t>(id)}});
  }

  // Watches a streaming call's progress when the telemetry records it
  // (core/stream_monitor.h); call once the span has started.
  void WatchStreamLocked(StreamMonitor& streams, RpcType type, absl::string_view full_method) {
    if (type == RpcType::kUnary || !streams.enabled()) return;
    watch_ = streams.Watch(side_, SpanName(full_method), span_);
    watch_ptr_.store(watch_.get(), std::memory_order_release);
  }

  // Marks the call started (once); false if it already was.
  bool StartLocked() {
    if (started_) return false;
    started_ = true;
    start_nanos_ = MonotonicNanosNow();
    series_->Start();
    return true;
  }

  // Ends a started call once: the series records the status and duration,
  // the span gets the status code (error status for the codes
  // `IsErrorStatus` names on this side) and ends. False if there was nothing
  // to end.
  bool FinishLocked(grpc::StatusCode code, const std::string& message) {
    if (!started_ || finished_) return false;
    finished_ = true;
    const int status = static_cast<int>(code);
    FinishCallMetrics(*series_, status, start_nanos_, span_);
    if (watch_ != nullptr) watch_->End(&span_);
    if (span_.IsRecording()) {
      if (capture_.enabled()) capture_.Finish(span_);
      span_.SetAttribute("rpc.grpc.status_code", status);
      if (IsErrorStatus(Protocol::kGrpc, side_, status)) {
        span_.SetStatus(StatusCode::kError,
                        message.empty() ? absl::StrCat("gRPC status ", status) : message);
      }
    }
    span_.End();
    return true;
  }

  // Response metadata passes on any hook's thread: gathered under `mutex_`.
  template <typename Map>
  void CaptureResponse(const Map* metadata) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (traced_ && !finished_) capture_.Response(metadata);
  }

  internal::CallMetadataCapture capture_;
  Series* const series_;
  const Side side_;
  // The generated type of received messages; null when unknown.
  const google::protobuf::Message* const received_type_;
  const bool traced_;
  const bool message_events_;
  const uint32_t max_message_events_;

  std::mutex mutex_;
  bool started_ = false;
  bool finished_ = false;
  int64_t start_nanos_ = 0;
  Span span_;
  uint64_t sent_ = 0;
  uint64_t received_ = 0;
  uint32_t events_ = 0;
  // Set once under `mutex_`; the message hooks read the raw pointer.
  std::shared_ptr<StreamWatch> watch_;
  std::atomic<StreamWatch*> watch_ptr_{nullptr};
};

// One factory shape for both sides: no interceptor for an excluded method
// (unless excluded methods are still counted), else one recording into the
// method's series.
template <typename Shared, typename Info, typename Recorder>
grpc::experimental::Interceptor* CreateRecorder(const Shared& shared, Info* info, Side side) {
  const absl::string_view method = info->method() != nullptr ? info->method() : "";
  const bool excluded = shared.options.filter.Excludes(method);
  if (excluded && !shared.options.filter.count_excluded) return nullptr;
  Series* series = SeriesFor(shared.telemetry->metrics(), side, method, RpcTypeOf(info->type()));
  return new Recorder(&shared, info, series, shared.options.tracing && !excluded);
}

// ---- server ----

struct ServerShared {
  Telemetry* telemetry;
  GrpcServerOptions options;
};

class ServerCallInterceptor final : public grpc::experimental::Interceptor, CallRecorder {
 public:
  ServerCallInterceptor(const ServerShared* shared, grpc::experimental::ServerRpcInfo* info,
                        Series* series, bool traced)
      : CallRecorder(*shared->telemetry, series, Side::kServer, info->method(), traced,
                     shared->options.message_events, shared->options.max_message_events),
        shared_(shared),
        info_(info) {}

  ~ServerCallInterceptor() override {
    // A call torn down before its status went out was cancelled.
    Finish(grpc::StatusCode::CANCELLED, "call ended before a status was sent");
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    bool scoped = false;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      Begin(methods->GetRecvInitialMetadata());
      scoped = span_.context().IsValid();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() != nullptr) {
      RecordMessage(/*sent=*/false, nullptr, methods->GetRecvMessage());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA) &&
        shared_->options.trace_id_response_header && span_.context().IsValid()) {
      methods->GetSendInitialMetadata()->emplace(kTraceIdHeader,
                                                 span_.context().trace_id().ToHex());
    }
    if (capture_.enabled()) CaptureServerResponse(methods);
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      RecordMessage(/*sent=*/true, methods->GetSerializedSendMessage(), nullptr);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      Finish(status.error_code(), status.error_message());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_CLOSE)) {
      Finish(grpc::StatusCode::CANCELLED, "cancelled before a status was sent");
    }
    if (scoped) {
      // The sync API runs the handler inside this Proceed(), so the span is
      // current for it; the scope ends on this thread when Proceed returns.
      Scope scope(span_, baggage_);
      methods->Proceed();
    } else {
      methods->Proceed();
    }
  }

 private:
  void Begin(const std::multimap<grpc::string_ref, grpc::string_ref>* metadata) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!StartLocked() || !traced_) return;
    Telemetry& telemetry = *shared_->telemetry;
    PropagatedContext incoming;
    if (metadata != nullptr) telemetry.Extract(MetadataReader(metadata), &incoming);
    const bool trusted = shared_->options.trust_incoming_context;
    const absl::string_view full_method = info_->method();
    span_ = telemetry.tracer().StartServerSpan(SpanName(full_method), incoming, trusted,
                                               SpanTarget{full_method, {}, {}});
    baggage_ = IncomingBaggage(incoming, trusted);
    if (span_.IsRecording()) {
      SetRpcAttributes(span_, full_method);
      if (capture_.enabled()) capture_.Request(metadata, span_);
      const GrpcServerOptions& options = shared_->options;
      if (!options.server_address.empty()) {
        span_.SetAttribute("server.address", options.server_address);
        if (options.server_port > 0) span_.SetAttribute("server.port", options.server_port);
      }
      std::string address;
      int port = 0;
      ParsePeer(info_->server_context()->peer(), &address, &port);
      if (!address.empty()) span_.SetAttribute("network.peer.address", address);
      if (port > 0) span_.SetAttribute("network.peer.port", port);
    }
    WatchStreamLocked(telemetry.streams(), RpcTypeOf(info_->type()), full_method);
    Directory().Put(info_->server_context(), &span_);
  }

  void CaptureServerResponse(InterceptorBatchMethods* methods) {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      CaptureResponse(methods->GetSendInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      CaptureResponse(methods->GetSendTrailingMetadata());
    }
  }

  void Finish(grpc::StatusCode code, const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex_);
    // Out of the directory before the span ends: ServerSpan must not hand
    // out an ended span.
    if (traced_ && started_ && !finished_) Directory().Erase(info_->server_context());
    FinishLocked(code, message);
  }

  const ServerShared* const shared_;
  grpc::experimental::ServerRpcInfo* const info_;
  Baggage baggage_;
};

class ServerFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  ServerFactory(Telemetry& telemetry, GrpcServerOptions options)
      : shared_{&telemetry, std::move(options)} {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return CreateRecorder<ServerShared, grpc::experimental::ServerRpcInfo, ServerCallInterceptor>(
        shared_, info, Side::kServer);
  }

 private:
  const ServerShared shared_;
};

// ---- client ----

struct ClientShared {
  Telemetry* telemetry;
  GrpcClientOptions options;
};

class ClientCallInterceptor final : public grpc::experimental::Interceptor, CallRecorder {
 public:
  ClientCallInterceptor(const ClientShared* shared, grpc::experimental::ClientRpcInfo* info,
                        Series* series, bool traced)
      : CallRecorder(*shared->telemetry, series, Side::kClient, info->method(), traced,
                     shared->options.message_events, shared->options.max_message_events),
        shared_(shared),
        method_(info->method() != nullptr ? info->method() : ""),
        rpc_type_(RpcTypeOf(info->type())),
        // Created on the calling thread (every client API creates the call
        // there), so this is the caller's current span and baggage.
        parent_(CurrentSpan().context()),
        baggage_(CurrentBaggage()) {}

  ~ClientCallInterceptor() override {
    Finish(grpc::StatusCode::CANCELLED, "call destroyed before a status arrived");
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      Begin(methods->GetSendInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      RecordMessage(/*sent=*/true, methods->GetSerializedSendMessage(), nullptr);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() != nullptr) {
      RecordMessage(/*sent=*/false, nullptr, methods->GetRecvMessage());
    }
    if (capture_.enabled()) CaptureClientResponse(methods);
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_STATUS)) {
      if (grpc::Status* status = methods->GetRecvStatus()) {
        Finish(status->error_code(), status->error_message());
      }
    }
    methods->Proceed();
  }

 private:
  void Begin(std::multimap<std::string, std::string>* metadata) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!StartLocked()) return;

    SpanContext parent = parent_;
    auto explicit_parent = metadata->find(kParentKey);
    if (explicit_parent != metadata->end()) {
      parent = DecodeParent(explicit_parent->second);
      metadata->erase(explicit_parent);
    }
    Telemetry& telemetry = *shared_->telemetry;
    PropagatedContext outgoing;
    outgoing.baggage = baggage_;
    if (traced_) {
      StartSpanOptions options;
      options.kind = SpanKind::kClient;
      options.parent_choice = ParentChoice::kExplicit;
      options.parent = parent;
      options.target.rpc_method = method_;
      span_ = telemetry.tracer().StartSpan(SpanName(method_), options);
      if (span_.IsRecording()) {
        SetRpcAttributes(span_, method_);
        if (capture_.enabled()) capture_.Request(metadata, span_);
        if (!shared_->options.server_address.empty()) {
          span_.SetAttribute("server.address", shared_->options.server_address);
          if (shared_->options.server_port > 0) {
            span_.SetAttribute("server.port", shared_->options.server_port);
          }
        }
      }
      outgoing.span_context = span_.context();
    } else {
      // Not traced here: pass the caller's context through unchanged.
      outgoing.span_context = parent;
    }
    MetadataWriter writer(metadata);
    telemetry.Inject(outgoing, &writer, &span_);
    if (traced_) WatchStreamLocked(telemetry.streams(), rpc_type_, method_);
  }

  void CaptureClientResponse(InterceptorBatchMethods* methods) {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      CaptureResponse(methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_STATUS)) {
      CaptureResponse(methods->GetRecvTrailingMetadata());
    }
  }

  void Finish(grpc::StatusCode code, const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex_);
    FinishLocked(code, message);
  }

  static SpanContext DecodeParent(absl::string_view text) {
    // "<32 hex trace id>-<16 hex span id>-<2 hex flags>", written by SetParent.
    if (text.size() != 32 + 1 + 16 + 1 + 2) return SpanContext();
    const TraceId trace_id = TraceId::FromHex(text.substr(0, 32));
    const SpanId span_id = SpanId::FromHex(text.substr(33, 16));
    uint8_t flags = 0;
    if (!hex::Decode(text.substr(50, 2), &flags, 1)) return SpanContext();
    return SpanContext(trace_id, span_id, TraceFlags(flags), /*is_remote=*/false);
  }

  const ClientShared* const shared_;
  const absl::string_view method_;
  const RpcType rpc_type_;
  const SpanContext parent_;
  const Baggage baggage_;
};

class ClientFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  ClientFactory(Telemetry& telemetry, GrpcClientOptions options)
      : shared_{&telemetry, std::move(options)} {}

  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    return CreateRecorder<ClientShared, grpc::experimental::ClientRpcInfo, ClientCallInterceptor>(
        shared_, info, Side::kClient);
  }

 private:
  const ClientShared shared_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeServerInterceptorFactory(
    Telemetry& telemetry, GrpcServerOptions options) {
  return std::make_unique<ServerFactory>(telemetry, std::move(options));
}

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface> MakeClientInterceptorFactory(
    Telemetry& telemetry, GrpcClientOptions options) {
  return std::make_unique<ClientFactory>(telemetry, std::move(options));
}

Span* ServerSpan(const grpc::ServerContextBase* context) noexcept {
  return context != nullptr ? Directory().Get(context) : nullptr;
}

void SetParent(grpc::ClientContext* context, const SpanContext& parent) {
  if (context == nullptr || !parent.IsValid()) return;
  char text[32 + 1 + 16 + 1 + 2];
  parent.trace_id().ToHex(text);
  text[32] = '-';
  parent.span_id().ToHex(text + 33);
  text[49] = '-';
  const uint8_t flags = parent.trace_flags().bits();
  hex::Encode(&flags, 1, text + 50);
  context->AddMetadata(kParentKey, std::string(text, sizeof(text)));
}

}  // namespace tracebridge
