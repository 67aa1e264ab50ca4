#include "tracebridge/interceptors/grpc_interceptors.h"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <tuple>
#include <utility>
#include <vector>

#include <grpc/grpc.h>
#include <grpc/support/alloc.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tracebridge/core/call_metrics.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/trace/clock.h"
#include "tracebridge/interceptors/message_size.h"
#include "tracebridge/interceptors/metadata_capture.h"
#include "tracebridge/interceptors/metadata_carrier.h"
#include "tracebridge/interceptors/method_table.h"
#include "tracebridge/interceptors/span_directory.h"

namespace tracebridge {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;

// The private metadata entry that carries an explicit client parent from
// `SetParent` to the interceptor, which removes it before the call is sent.
constexpr char kParentKey[] = "tracebridge-parent";
constexpr char kTraceIdHeader[] = "x-trace-id";

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

// "ipv4:127.0.0.1:5000" / "ipv6:[::1]:5000" → address and port (0 when
// there is none); `address` points into `peer`.
void ParsePeer(absl::string_view peer, absl::string_view* address, int* port) {
  *port = 0;
  absl::string_view rest = peer;
  if (!absl::ConsumePrefix(&rest, "ipv4:") && !absl::ConsumePrefix(&rest, "ipv6:")) {
    *address = peer;
    return;
  }
  const size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) {
    *address = rest;
    return;
  }
  absl::string_view host = rest.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  *address = host;
  // A port is 1-5 digits up to 65535.
  const absl::string_view digits = rest.substr(colon + 1);
  if (digits.empty() || digits.size() > 5) return;
  int value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return;
    value = value * 10 + (c - '0');
  }
  if (value <= 65535) *port = value;
}

// The attributes every span of a method starts with.
PreparedAttributes MethodSpanAttributes(const internal::MethodInfo& info,
                                        const std::string& server_address, int server_port) {
  std::vector<Attribute> attributes;
  attributes.push_back({"rpc.system", std::string("grpc")});
  if (!info.service.empty()) {
    attributes.push_back({"rpc.service", std::string(info.service)});
    attributes.push_back({"rpc.method", std::string(info.method)});
  }
  if (!server_address.empty()) {
    attributes.push_back({"server.address", server_address});
    if (server_port > 0) attributes.push_back({"server.port", int64_t{server_port}});
  }
  return PreparedAttributes(std::move(attributes));
}

// The sent message's serialised size: measured on the message object where
// it is of the method's generated type (see interceptors/message_size.h),
// else the length of the buffer gRPC serialises it into.
// -1 when neither is there.
int64_t SentSize(InterceptorBatchMethods* methods, const google::protobuf::Message* type) {
  const int64_t size = internal::MessageSize(methods->GetSendMessage(), type);
  if (size >= 0) return size;
  const grpc::ByteBuffer* buffer = methods->GetSerializedSendMessage();
  return buffer != nullptr ? static_cast<int64_t>(buffer->Length()) : -1;
}

// What both sides keep for one call: its method, its span and the counts.
//
// Hooks for one call can run on different threads (a bidi stream's reads
// and writes, a cancellation). The call's start and end are ordered by one
// atomic state, so each happens once and the end sees what the start
// wrote; message counts are relaxed atomics in the series. Only message
// events, which write to the span while the call runs, take a lock.
class CallRecorder {
 protected:
  CallRecorder(const Telemetry& telemetry, const internal::MethodInfo* info,
               std::unique_ptr<internal::MethodInfo> owned, Side side, bool message_events,
               uint32_t max_message_events)
      : capture_(telemetry),
        owned_info_(std::move(owned)),
        info_(info != nullptr ? *info : *owned_info_),
        series_(info_.series),
        side_(side),
        message_events_(message_events),
        max_message_events_(max_message_events) {}

  // Counts one message each way with its size (-1: unknown, counted without
  // bytes) in the series' counters and size histogram, and, when enabled,
  // adds a capped `message` event to the span.
  void RecordMessage(bool sent, int64_t size) {
    const size_t bytes = size > 0 ? static_cast<size_t>(size) : 0;
    if (sent) {
      size >= 0 ? series_->RecordMessageSent(bytes) : series_->AddMessagesSent();
    } else {
      size >= 0 ? series_->RecordMessageReceived(bytes) : series_->AddMessagesReceived();
    }
    if (StreamWatch* watch = watch_ptr_.load(std::memory_order_acquire)) {
      watch->OnMessage(sent, bytes);
    }
    if (message_events_) AddMessageEvent(sent);
  }

  // Watches a streaming call's progress when the telemetry records it
  // (core/stream_monitor.h); called once, after the span started and before
  // the call is marked started (so an end sees the watch).
  void WatchStream(StreamMonitor& streams) {
    if (info_.type == RpcType::kUnary || !streams.enabled()) return;
    watch_ = streams.Watch(side_, info_.span_name, span_);
    watch_ptr_.store(watch_.get(), std::memory_order_release);
  }

  // Response metadata passes on any hook's thread: gathered under its own
  // lock, and only until the call ends.
  template <typename Map>
  void CaptureResponse(const Map* metadata) {
    // Nothing to gather for a call whose span does not record.
    if (!Recording() || !capture_.records_response()) return;
    std::lock_guard<std::mutex> lock(capture_mutex_);
    if (state_.load(std::memory_order_acquire) != kFinished) capture_.Response(metadata);
  }

  // True until the call started: a call's initial-metadata hook runs once,
  // this guards against anything else.
  bool MayStart() const { return state_.load(std::memory_order_acquire) == kIdle; }

  // The call's start: its span's where it records one (one clock read for
  // both), else now.
  int64_t StartTime() const {
    return span_.IsRecording() ? span_.start_monotonic_nanos() : MonotonicNanosNow();
  }

  // Marks the call started at `now`, after its span (if any) is in place:
  // from here on an end sees the span. An end that came before found
  // nothing started and left it to a later end (the destructor's).
  void MarkStarted(int64_t now) {
    recording_ = span_.IsRecording();
    start_nanos_ = now;
    series_->Start();
    state_.store(kStarted, std::memory_order_release);
  }

  // Ends a started call once: the series records the status and duration,
  // the span gets the status code (error status for the codes
  // `IsErrorStatus` names on this side) and ends. False if there was nothing
  // to end. `before_end` runs first, only for the call that ends it.
  template <typename BeforeEnd>
  bool Finish(grpc::StatusCode code, absl::string_view message, BeforeEnd before_end) {
    uint8_t expected = kStarted;
    if (state_.load(std::memory_order_acquire) != kStarted ||
        !state_.compare_exchange_strong(expected, kFinished, std::memory_order_acq_rel)) {
      return false;
    }
    before_end();
    const int status = static_cast<int>(code);
    std::unique_lock<std::mutex> lock = LockSpan();
    // Progress first: a child span it ends must end before its parent.
    if (watch_ != nullptr) watch_->End(&span_);
    // One clock read ends both the measurement and the span.
    const int64_t end = MonotonicNanosNow();
    FinishCallMetricsAt(*series_, status, start_nanos_, end, span_);
    if (span_.IsRecording()) {
      if (capture_.enabled()) {
        std::lock_guard<std::mutex> capture_lock(capture_mutex_);
        capture_.Finish(span_);
      }
      span_.SetAttribute("rpc.grpc.status_code", status);
      if (IsErrorStatus(Protocol::kGrpc, side_, status)) {
        span_.SetStatus(StatusCode::kError,
                        message.empty() ? absl::StrCat("gRPC status ", status) : message);
      }
    }
    span_.End(end);
    return true;
  }

  // Held while the span changes when message events may be added to it from
  // another hook's thread; otherwise not taken.
  std::unique_lock<std::mutex> LockSpan() {
    return message_events_ ? std::unique_lock<std::mutex>(events_mutex_)
                           : std::unique_lock<std::mutex>();
  }

  internal::CallMetadataCapture capture_;
  const std::unique_ptr<internal::MethodInfo> owned_info_;  // for names past the table's bound
  const internal::MethodInfo& info_;
  Series* const series_;
  const Side side_;
  const bool message_events_;
  const uint32_t max_message_events_;

  Span span_;

 private:
  static constexpr uint8_t kIdle = 0, kStarted = 1, kFinished = 2;

  // Whether the call started with a recording span (published by the
  // release store of its start).
  bool Recording() const { return state_.load(std::memory_order_acquire) != kIdle && recording_; }

  void AddMessageEvent(bool sent) {
    if (!Recording()) return;  // events only go to a recording span
    std::lock_guard<std::mutex> lock(events_mutex_);
    const uint64_t id = sent ? ++sent_ : ++received_;
    if (!span_.IsRecording() || events_ >= max_message_events_) return;
    ++events_;
    span_.AddEvent("message", {Attribute{"message.type", std::string(sent ? "SENT" : "RECEIVED")},
                               Attribute{"message.id", static_cast<int64_t>(id)}});
  }

  std::atomic<uint8_t> state_{kIdle};
  bool recording_ = false;  // written before the start's release store
  int64_t start_nanos_ = 0;
  // Stream progress: set once before the call is marked started; the
  // message hooks read the raw pointer.
  std::shared_ptr<StreamWatch> watch_;
  std::atomic<StreamWatch*> watch_ptr_{nullptr};
  // Captured response metadata only.
  std::mutex capture_mutex_;
  // Message events only.
  std::mutex events_mutex_;
  uint64_t sent_ = 0;
  uint64_t received_ = 0;
  uint32_t events_ = 0;
};

// One factory shape for both sides: the method's information from the
// factory's table, then no interceptor for a method whose calls are not
// recorded (excluded, unless excluded methods are still counted), else one
// recording into the method's series.
template <typename Shared, typename Info, typename Recorder>
grpc::experimental::Interceptor* CreateRecorder(Shared& shared, Info* info) {
  const RpcType type = RpcTypeOf(info->type());
  const internal::MethodInfo* method = shared.methods.Find(info->method(), type);
  std::unique_ptr<internal::MethodInfo> owned;
  if (method == nullptr) {
    owned = std::make_unique<internal::MethodInfo>();
    shared.methods.Make(info->method() != nullptr ? info->method() : "", type, owned.get());
  }
  if ((method != nullptr ? method : owned.get())->series == nullptr) return nullptr;
  return new Recorder(&shared, info, method, std::move(owned));
}

// Fills in what one side records for a method (see internal::MethodInfo).
template <typename Options>
internal::MethodTable::Maker MethodMaker(Telemetry& telemetry, const Options& options, Side side) {
  return [&telemetry, &options, side](absl::string_view full_method, internal::MethodInfo* info) {
    info->excluded = options.filter.Excludes(full_method);
    info->traced = options.tracing && !info->excluded;
    if (!info->excluded || options.filter.count_excluded) {
      info->series = SeriesFor(telemetry.metrics(), side, full_method, info->type);
    }
    const Side other = side == Side::kServer ? Side::kClient : Side::kServer;
    info->received_type = internal::ReceivedMessageType(full_method, side);
    info->sent_type = internal::ReceivedMessageType(full_method, other);
    if (info->traced) {
      info->span_attributes =
          MethodSpanAttributes(*info, options.server_address, options.server_port);
    }
  };
}

// gRPC creates an interceptor object per call and deletes it at the call's
// end, so the interceptor classes recycle their memory: each thread keeps up
// to kKept freed blocks of a class for the next call it creates (freed back
// to the allocator when the thread ends), instead of a malloc and a free
// per call.
template <typename T>
class RecycledBlocks {
 public:
  static void* Allocate(size_t size) {
    if (size == sizeof(T) && !destroyed_) {
      Cache& cache = Local();
      if (cache.count > 0) return cache.blocks[--cache.count];
    }
    return ::operator new(size);
  }
  static void Free(void* block, size_t size) noexcept {
    if (size == sizeof(T) && !destroyed_) {
      Cache& cache = Local();
      if (cache.count < kKept) {
        cache.blocks[cache.count++] = block;
        return;
      }
    }
    ::operator delete(block);
  }

 private:
  static constexpr size_t kKept = 16;
  struct Cache {
    ~Cache() {
      destroyed_ = true;
      while (count > 0) ::operator delete(blocks[--count]);
    }
    void* blocks[kKept];
    size_t count = 0;
  };
  static Cache& Local() {
    thread_local Cache cache;
    return cache;
  }
  // Set once this thread's cache is gone (a call deleted during thread exit).
  static thread_local bool destroyed_;
};
template <typename T>
thread_local bool RecycledBlocks<T>::destroyed_ = false;

// ---- server ----

struct ServerShared {
  ServerShared(Telemetry& t, GrpcServerOptions o)
      : telemetry(&t), options(std::move(o)), methods(MethodMaker(t, options, Side::kServer)) {}
  Telemetry* const telemetry;
  const GrpcServerOptions options;
  internal::MethodTable methods;
};

class ServerCallInterceptor final : public grpc::experimental::Interceptor, CallRecorder {
 public:
  ServerCallInterceptor(const ServerShared* shared, grpc::experimental::ServerRpcInfo* info,
                        const internal::MethodInfo* method,
                        std::unique_ptr<internal::MethodInfo> owned)
      : CallRecorder(*shared->telemetry, method, std::move(owned), Side::kServer,
                     shared->options.message_events, shared->options.max_message_events),
        shared_(shared),
        context_(info->server_context()) {}

  static void* operator new(size_t size) {
    return RecycledBlocks<ServerCallInterceptor>::Allocate(size);
  }
  static void operator delete(void* block, size_t size) {
    RecycledBlocks<ServerCallInterceptor>::Free(block, size);
  }

  ~ServerCallInterceptor() override {
    // A call torn down before its status went out was cancelled.
    Finish(grpc::StatusCode::CANCELLED, "call ended before a status was sent");
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    bool scoped = false;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      Begin(methods);
      scoped = span_.context().IsValid();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      if (const void* message = methods->GetRecvMessage()) {
        RecordMessage(/*sent=*/false, internal::MessageSize(message, info_.received_type));
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA) &&
        shared_->options.trace_id_response_header && span_.context().IsValid()) {
      char hex[32];
      span_.context().trace_id().ToHex(hex);
      methods->GetSendInitialMetadata()->emplace(std::piecewise_construct,
                                                 std::forward_as_tuple(kTraceIdHeader),
                                                 std::forward_as_tuple(hex, sizeof(hex)));
    }
    if (capture_.enabled()) CaptureServerResponse(methods);
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      RecordMessage(/*sent=*/true, SentSize(methods, info_.sent_type));
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
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
  void Begin(InterceptorBatchMethods* methods) {
    if (!MayStart()) return;
    std::unique_lock<std::mutex> lock = LockSpan();
    if (info_.traced) {
      Telemetry& telemetry = *shared_->telemetry;
      PropagatedContext incoming;
      // gRPC builds this map on first use: only a traced call asks for it.
      const auto* metadata = methods->GetRecvInitialMetadata();
      if (metadata != nullptr) telemetry.Extract(MetadataReader(metadata), &incoming);
      const bool trusted = shared_->options.trust_incoming_context;
      span_ = telemetry.tracer().StartServerSpan(info_.span_name, incoming, trusted,
                                                 SpanTarget{info_.full_method, {}, {}});
      baggage_ = IncomingBaggage(incoming, trusted);
      if (span_.IsRecording()) {
        SetServerAttributes();
        if (capture_.enabled() && metadata != nullptr) capture_.Request(metadata, span_);
      }
      WatchStream(telemetry.streams());
      ticket_ = internal::SpanDirectory::Global().Put(context_, &span_);
    }
    MarkStarted(StartTime());
  }

  void SetServerAttributes() {
    span_.SetAttributes(info_.span_attributes);
    // The peer's address straight from the call: ServerContext::peer() would
    // copy the same text into a std::string once more.
    grpc_call* call = context_->c_call();
    if (call == nullptr) return;
    const std::unique_ptr<char, void (*)(void*)> peer(grpc_call_get_peer(call), gpr_free);
    if (peer == nullptr) return;
    absl::string_view address;
    int port = 0;
    ParsePeer(peer.get(), &address, &port);
    if (!address.empty()) span_.SetAttribute("network.peer.address", address);
    if (port > 0) span_.SetAttribute("network.peer.port", port);
  }

  void CaptureServerResponse(InterceptorBatchMethods* methods) {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      CaptureResponse(methods->GetSendInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      CaptureResponse(methods->GetSendTrailingMetadata());
    }
  }

  void Finish(grpc::StatusCode code, absl::string_view message) {
    // Out of the directory before the span ends: ServerSpan must not hand
    // out an ended span.
    CallRecorder::Finish(code, message, [this] {
      if (info_.traced) internal::SpanDirectory::Global().Erase(context_, ticket_);
    });
  }

  const ServerShared* const shared_;
  grpc::ServerContextBase* const context_;
  Baggage baggage_;
  internal::SpanDirectory::Ticket ticket_ = 0;
};

class ServerFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  ServerFactory(Telemetry& telemetry, GrpcServerOptions options)
      : shared_(telemetry, std::move(options)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return CreateRecorder<ServerShared, grpc::experimental::ServerRpcInfo, ServerCallInterceptor>(
        shared_, info);
  }

 private:
  ServerShared shared_;
};

// ---- client ----

struct ClientShared {
  ClientShared(Telemetry& t, GrpcClientOptions o)
      : telemetry(&t), options(std::move(o)), methods(MethodMaker(t, options, Side::kClient)) {}
  Telemetry* const telemetry;
  const GrpcClientOptions options;
  internal::MethodTable methods;
};

// The private metadata key `SetParent` writes, as the metadata map's key
// type (so looking it up builds no string).
const std::string& ParentKey() {
  static const std::string* const key = new std::string(kParentKey);
  return *key;
}

class ClientCallInterceptor final : public grpc::experimental::Interceptor, CallRecorder {
 public:
  ClientCallInterceptor(const ClientShared* shared, grpc::experimental::ClientRpcInfo*,
                        const internal::MethodInfo* method,
                        std::unique_ptr<internal::MethodInfo> owned)
      : CallRecorder(*shared->telemetry, method, std::move(owned), Side::kClient,
                     shared->options.message_events, shared->options.max_message_events),
        shared_(shared),
        // Created on the calling thread (every client API creates the call
        // there), so this is the caller's current span and baggage.
        parent_(CurrentSpan().context()),
        baggage_(CurrentBaggage()) {}

  static void* operator new(size_t size) {
    return RecycledBlocks<ClientCallInterceptor>::Allocate(size);
  }
  static void operator delete(void* block, size_t size) {
    RecycledBlocks<ClientCallInterceptor>::Free(block, size);
  }

  ~ClientCallInterceptor() override {
    Finish(grpc::StatusCode::CANCELLED, "call destroyed before a status arrived", [] {});
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      Begin(methods->GetSendInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      RecordMessage(/*sent=*/true, SentSize(methods, info_.sent_type));
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      if (const void* message = methods->GetRecvMessage()) {
        RecordMessage(/*sent=*/false, internal::MessageSize(message, info_.received_type));
      }
    }
    if (capture_.enabled()) CaptureClientResponse(methods);
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_STATUS)) {
      if (grpc::Status* status = methods->GetRecvStatus()) {
        Finish(status->error_code(), status->error_message(), [] {});
      }
    }
    methods->Proceed();
  }

 private:
  void Begin(std::multimap<std::string, std::string>* metadata) {
    if (!MayStart()) return;
    std::unique_lock<std::mutex> lock = LockSpan();
    SpanContext parent = parent_;
    if (!metadata->empty()) {
      auto explicit_parent = metadata->find(ParentKey());
      if (explicit_parent != metadata->end()) {
        parent = DecodeParent(explicit_parent->second);
        metadata->erase(explicit_parent);
      }
    }
    Telemetry& telemetry = *shared_->telemetry;
    PropagatedContext outgoing;
    outgoing.baggage = baggage_;
    if (info_.traced) {
      StartSpanOptions options;
      options.kind = SpanKind::kClient;
      options.parent_choice = ParentChoice::kExplicit;
      options.parent = parent;
      options.target.rpc_method = info_.full_method;
      span_ = telemetry.tracer().StartSpan(info_.span_name, options);
      span_.SetAttributes(info_.span_attributes);
      // Before propagation adds its own entries.
      if (capture_.enabled() && span_.IsRecording()) capture_.Request(metadata, span_);
      outgoing.span_context = span_.context();
    } else {
      // Not traced here: pass the caller's context through unchanged.
      outgoing.span_context = parent;
    }
    MetadataWriter writer(metadata);
    telemetry.Inject(outgoing, &writer, &span_);
    if (info_.traced) WatchStream(telemetry.streams());
    MarkStarted(StartTime());
  }

  void CaptureClientResponse(InterceptorBatchMethods* methods) {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      CaptureResponse(methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_STATUS)) {
      CaptureResponse(methods->GetRecvTrailingMetadata());
    }
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
  const SpanContext parent_;
  const Baggage baggage_;
};

class ClientFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  ClientFactory(Telemetry& telemetry, GrpcClientOptions options)
      : shared_(telemetry, std::move(options)) {}

  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    return CreateRecorder<ClientShared, grpc::experimental::ClientRpcInfo, ClientCallInterceptor>(
        shared_, info);
  }

 private:
  ClientShared shared_;
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
  return context != nullptr ? internal::SpanDirectory::Global().Get(context) : nullptr;
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
