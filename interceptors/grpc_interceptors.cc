#include "interceptors/grpc_interceptors.h"

#include <cstdint>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "interceptors/metadata_carrier.h"

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

// The series for `full_method`, registering it on first sight while the
// registry has room.
Series* SeriesFor(Registry& registry, Side side, absl::string_view full_method) {
  Series* series = registry.FindGrpcFullMethod(side, full_method);
  if (!series->is_other() || registry.registered_count() >= registry.max_series()) return series;
  absl::string_view service, method;
  if (!SplitGrpcFullMethod(full_method, &service, &method)) return series;
  return registry.RegisterGrpcMethod(side, service, method);
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

void AddMessageEvent(Span& span, const char* type, uint64_t id, uint32_t* events,
                     uint32_t max_events) {
  if (!span.IsRecording() || *events >= max_events) return;
  ++*events;
  span.AddEvent("message", {Attribute{"message.type", std::string(type)},
                            Attribute{"message.id", static_cast<int64_t>(id)}});
}

// ---- server ----

struct ServerShared {
  Telemetry* telemetry;
  GrpcServerOptions options;
};

class ServerCallInterceptor final : public grpc::experimental::Interceptor {
 public:
  ServerCallInterceptor(const ServerShared* shared, grpc::experimental::ServerRpcInfo* info,
                        Series* series, bool traced)
      : shared_(shared), info_(info), series_(series), traced_(traced) {}

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
      series_->AddMessagesReceived();
      if (shared_->options.message_events) {
        std::lock_guard<std::mutex> lock(mutex_);
        AddMessageEvent(span_, "RECEIVED", ++received_, &message_events_,
                        shared_->options.max_message_events);
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA) &&
        shared_->options.trace_id_response_header && span_.context().IsValid()) {
      methods->GetSendInitialMetadata()->emplace(kTraceIdHeader,
                                                 span_.context().trace_id().ToHex());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      series_->AddMessagesSent();
      if (grpc::ByteBuffer* buffer = methods->GetSerializedSendMessage()) {
        series_->AddResponseBytes(buffer->Length());
      }
      if (shared_->options.message_events) {
        std::lock_guard<std::mutex> lock(mutex_);
        AddMessageEvent(span_, "SENT", ++sent_, &message_events_,
                        shared_->options.max_message_events);
      }
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
    if (started_) return;
    started_ = true;
    start_nanos_ = MonotonicNanosNow();
    series_->Start();
    if (!traced_) return;
    Telemetry& telemetry = *shared_->telemetry;
    PropagatedContext incoming;
    if (metadata != nullptr) telemetry.propagator().Extract(MetadataReader(metadata), &incoming);
    const bool trusted = shared_->options.trust_incoming_context;
    const absl::string_view full_method = info_->method();
    span_ = telemetry.tracer().StartServerSpan(SpanName(full_method), incoming, trusted);
    baggage_ = IncomingBaggage(incoming, trusted);
    if (span_.IsRecording()) {
      SetRpcAttributes(span_, full_method);
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
    Directory().Put(info_->server_context(), &span_);
  }

  void Finish(grpc::StatusCode code, const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!started_ || finished_) return;
    finished_ = true;
    const int status = static_cast<int>(code);
    series_->Finish(status, MonotonicNanosNow() - start_nanos_);
    if (!traced_) return;
    Directory().Erase(info_->server_context());
    if (span_.IsRecording()) {
      span_.SetAttribute("rpc.grpc.status_code", status);
      if (IsErrorStatus(Protocol::kGrpc, Side::kServer, status)) {
        span_.SetStatus(StatusCode::kError,
                        message.empty() ? absl::StrCat("gRPC status ", status) : message);
      }
    }
    span_.End();
  }

  const ServerShared* const shared_;
  grpc::experimental::ServerRpcInfo* const info_;
  Series* const series_;
  const bool traced_;

  // Hooks for one call can run on different threads (a bidi stream's reads
  // and writes, a cancellation); this per-call lock orders them.
  std::mutex mutex_;
  bool started_ = false;
  bool finished_ = false;
  int64_t start_nanos_ = 0;
  Span span_;
  Baggage baggage_;
  uint64_t sent_ = 0;
  uint64_t received_ = 0;
  uint32_t message_events_ = 0;
};

class ServerFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  ServerFactory(Telemetry& telemetry, GrpcServerOptions options)
      : shared_{&telemetry, std::move(options)} {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const absl::string_view method = info->method() != nullptr ? info->method() : "";
    const bool excluded = shared_.options.filter.Excludes(method);
    if (excluded && !shared_.options.filter.count_excluded) return nullptr;
    Series* series = SeriesFor(shared_.telemetry->metrics(), Side::kServer, method);
    return new ServerCallInterceptor(&shared_, info, series, shared_.options.tracing && !excluded);
  }

 private:
  const ServerShared shared_;
};

// ---- client ----

struct ClientShared {
  Telemetry* telemetry;
  GrpcClientOptions options;
};

class ClientCallInterceptor final : public grpc::experimental::Interceptor {
 public:
  ClientCallInterceptor(const ClientShared* shared, grpc::experimental::ClientRpcInfo* info,
                        Series* series, bool traced)
      : shared_(shared),
        method_(info->method() != nullptr ? info->method() : ""),
        series_(series),
        traced_(traced),
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
      series_->AddMessagesSent();
      if (grpc::ByteBuffer* buffer = methods->GetSerializedSendMessage()) {
        series_->AddRequestBytes(buffer->Length());
      }
      if (shared_->options.message_events) {
        std::lock_guard<std::mutex> lock(mutex_);
        AddMessageEvent(span_, "SENT", ++sent_, &message_events_,
                        shared_->options.max_message_events);
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() != nullptr) {
      series_->AddMessagesReceived();
      if (shared_->options.message_events) {
        std::lock_guard<std::mutex> lock(mutex_);
        AddMessageEvent(span_, "RECEIVED", ++received_, &message_events_,
                        shared_->options.max_message_events);
      }
    }
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
    if (started_) return;
    started_ = true;
    start_nanos_ = MonotonicNanosNow();
    series_->Start();

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
      span_ = telemetry.tracer().StartSpan(SpanName(method_), options);
      if (span_.IsRecording()) {
        SetRpcAttributes(span_, method_);
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
    telemetry.propagator().Inject(outgoing, &writer);
  }

  void Finish(grpc::StatusCode code, const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!started_ || finished_) return;
    finished_ = true;
    const int status = static_cast<int>(code);
    series_->Finish(status, MonotonicNanosNow() - start_nanos_);
    if (span_.IsRecording()) {
      span_.SetAttribute("rpc.grpc.status_code", status);
      if (IsErrorStatus(Protocol::kGrpc, Side::kClient, status)) {
        span_.SetStatus(StatusCode::kError,
                        message.empty() ? absl::StrCat("gRPC status ", status) : message);
      }
    }
    span_.End();
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
  Series* const series_;
  const bool traced_;
  const SpanContext parent_;
  const Baggage baggage_;

  std::mutex mutex_;
  bool started_ = false;
  bool finished_ = false;
  int64_t start_nanos_ = 0;
  Span span_;
  uint64_t sent_ = 0;
  uint64_t received_ = 0;
  uint32_t message_events_ = 0;
};

class ClientFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  ClientFactory(Telemetry& telemetry, GrpcClientOptions options)
      : shared_{&telemetry, std::move(options)} {}

  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    const absl::string_view method = info->method() != nullptr ? info->method() : "";
    const bool excluded = shared_.options.filter.Excludes(method);
    if (excluded && !shared_.options.filter.count_excluded) return nullptr;
    Series* series = SeriesFor(shared_.telemetry->metrics(), Side::kClient, method);
    return new ClientCallInterceptor(&shared_, info, series, shared_.options.tracing && !excluded);
  }

 private:
  const ClientShared shared_;
};

}  // namespace

bool GrpcMethodFilter::Excludes(absl::string_view full_method) const noexcept {
  for (const std::string& entry : excluded) {
    if (!entry.empty() && entry.back() == '*') {
      if (absl::StartsWith(full_method, absl::string_view(entry).substr(0, entry.size() - 1))) {
        return true;
      }
    } else if (full_method == entry) {
      return true;
    }
  }
  return false;
}

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
