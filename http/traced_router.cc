// File: http/traced_router.cc

#include "tracebridge/http/traced_router.h"

#include <cxxabi.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include <pistache/peer.h>

#include "absl/strings/str_cat.h"
#include "tracebridge/core/call_metrics.h"
#include "tracebridge/core/propagation/propagator.h"
#include "tracebridge/core/propagation/w3c_propagators.h"
#include "tracebridge/core/trace/clock.h"
#include "tracebridge/http/captured_headers.h"
#include "tracebridge/http/header_carrier.h"

namespace tracebridge {
namespace internal {
namespace {

// Pistache 0.0.5 knows nine request methods (OPTIONS … CONNECT).
constexpr size_t kMethodSlots = 9;

constexpr char kNoResponse[] = "handler did not respond";

// The demangled name of an exception's dynamic type ("std::runtime_error").
std::string ExceptionTypeName(const std::exception& e) {
  const char* mangled = typeid(e).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && demangled != nullptr ? demangled : mangled;
  std::free(demangled);
  return name;
}

// The attributes every request of a route (empty: of no route) starts
// with: prepared once per route, so each request copies them unchecked.
PreparedAttributes RouteAttributes(absl::string_view method_name, absl::string_view route) {
  std::vector<Attribute> attributes;
  attributes.push_back({"http.request.method", std::string(method_name)});
  if (!route.empty()) attributes.push_back({"http.route", std::string(route)});
  attributes.push_back({"url.scheme", std::string("http")});
  return PreparedAttributes(std::move(attributes));
}

// Sets the request attributes every server span carries: the route's
// prepared ones, then the request's own.
void SetRequestAttributes(Span& span, const Pistache::Http::Request& request,
                          const CarrierReader& headers, const PreparedAttributes& route_attributes,
                          const TracedRouterOptions& options) {
  span.SetAttributes(route_attributes);
  span.SetAttribute("url.path", RequestPath(request.resource()));
  const std::string query = RedactQuery(request.query(), options.redacted_query_keys);
  if (!query.empty()) span.SetAttribute("url.query", query);
  const Pistache::Address& address = request.address();
  const std::string host = address.host();
  if (!host.empty()) span.SetAttribute("client.address", host);
  const int port = static_cast<uint16_t>(address.port());
  if (port > 0) span.SetAttribute("client.port", port);
  bool found = false;
  const absl::string_view user_agent = headers.Get("user-agent", &found);
  if (found) span.SetAttribute("user_agent.original", user_agent);
}

// Sets the response attributes and the status of a server span.
void SetResponseAttributes(Span& span, int code, absl::string_view error_description) {
  if (!span.IsRecording()) return;
  span.SetAttribute("http.response.status_code", code);
  if (IsErrorStatus(Protocol::kHttp, Side::kServer, code)) {
    span.SetAttribute("error.type", std::to_string(code));
    span.SetStatus(StatusCode::kError, error_description);
  }
}

}  // namespace

// One request/response: the span, the series (null for a route left out of
// the metrics), the writer. Shared by the traced handler wrapper (for the
// length of the handler call) and every `TracedResponse` handle; whoever
// sends first records.
class ServerExchange final {
 public:
  ServerExchange(std::shared_ptr<RouterShared> shared, Series* series,
                 Pistache::Http::ResponseWriter writer)
      : shared_(std::move(shared)), series_(series), writer_(std::move(writer)) {}

  // The last handle is gone: answer for a handler that never did.
  ~ServerExchange() {
    if (responded_.exchange(true, std::memory_order_acq_rel)) return;
    static constexpr char kBody[] = "Internal Server Error";
    Record(500, sizeof(kBody) - 1, kNoResponse);
    try {
      writer_.send(Pistache::Http::Code::Internal_Server_Error, kBody, sizeof(kBody) - 1);
    } catch (...) {
      // The connection is gone; nothing is left to answer.
    }
  }

  ServerExchange(const ServerExchange&) = delete;
  ServerExchange& operator=(const ServerExchange&) = delete;

  // Starts timing, counts the request and starts the span (when `traced`)
  // with the route's attributes (null: a request no route matched).
  void Begin(const Pistache::Http::Request& request, absl::string_view method_name,
             absl::string_view span_name, absl::string_view route,
             const PreparedAttributes* route_attributes, bool traced);

  Pistache::Async::Promise<ssize_t> Send(Pistache::Http::Code code, const char* data, size_t size,
                                         const Pistache::Http::Mime::MediaType& mime) {
    if (responded_.exchange(true, std::memory_order_acq_rel)) {
      return Pistache::Async::Promise<ssize_t>::rejected(
          std::runtime_error("tracebridge: a response was already sent for this request"));
    }
    Record(static_cast<int>(code), size, {});
    try {
      return writer_.send(code, data, size, mime);
    } catch (const std::exception& e) {
      return Pistache::Async::Promise<ssize_t>::rejected(std::runtime_error(e.what()));
    }
  }

  // The handler threw: answer 500 unless someone already answered.
  void Fail(absl::string_view type, absl::string_view message) {
    if (responded_.exchange(true, std::memory_order_acq_rel)) return;
    span_.RecordError(type, message);
    static constexpr char kBody[] = "Internal Server Error";
    Record(500, sizeof(kBody) - 1, message);
    try {
      writer_.send(Pistache::Http::Code::Internal_Server_Error, kBody, sizeof(kBody) - 1);
    } catch (...) {
    }
  }

  Span& span() noexcept { return span_; }
  const Baggage& baggage() const noexcept { return baggage_; }
  Pistache::Http::ResponseWriter& writer() noexcept { return writer_; }
  bool responded() const noexcept { return responded_.load(std::memory_order_acquire); }

 private:
  // Adds the trace headers, records the metrics, finishes the span. Called
  // once, by whoever won `responded_`.
  void Record(int code, size_t response_bytes, absl::string_view error_description);

  const std::shared_ptr<RouterShared> shared_;
  Series* const series_;
  Pistache::Http::ResponseWriter writer_;
  std::atomic<bool> responded_{false};
  int64_t start_nanos_ = 0;
  Span span_;
  Baggage baggage_;
};

// What every handler registered through one `TracedRouter` shares.
struct RouterShared {
  RouterShared(Telemetry& telemetry_in, TracedRouterOptions options_in)
      : telemetry(&telemetry_in), options(std::move(options_in)) {}

  // The `unknown` series of `method`, registered on first use.
  Series* UnknownSeries(Pistache::Http::Method method) {
    const size_t index = static_cast<size_t>(method);
    const char* name = Pistache::Http::methodString(method);
    if (index >= kMethodSlots) return telemetry->metrics().HttpOther(Side::kServer, name);
    return UnknownSeries(index, name);
  }

  // The `unknown` series of a request method as received (any token): the
  // method's own for Pistache's nine, else the one of `_OTHER`.
  Series* UnknownSeries(absl::string_view method_token) {
    const absl::string_view canonical = CanonicalHttpMethod(method_token);
    for (size_t index = 0; index < kMethodSlots; ++index) {
      const char* name = Pistache::Http::methodString(static_cast<Pistache::Http::Method>(index));
      if (canonical == name) return UnknownSeries(index, name);
    }
    return UnknownSeries(kMethodSlots, kOtherName);
  }

  Series* UnknownSeries(size_t index, absl::string_view name) {
    Series* series = unknown[index].load(std::memory_order_acquire);
    if (series != nullptr) return series;
    // Registration is idempotent, so two threads racing here get one series.
    series = telemetry->metrics().RegisterHttpRoute(Side::kServer, name, kUnknownRoute);
    unknown[index].store(series, std::memory_order_release);
    return series;
  }

  // Runs `handler` for one request, traced and counted in `series`.
  static void Serve(const std::shared_ptr<RouterShared>& self,
                    const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter writer,
                    Series* series, absl::string_view method_name, absl::string_view span_name,
                    absl::string_view route, const PreparedAttributes* route_attributes,
                    bool traced, const TracedHandler& handler) noexcept {
    std::shared_ptr<ServerExchange> exchange;
    try {
      exchange = std::make_shared<ServerExchange>(self, series, std::move(writer));
      exchange->Begin(request, method_name, span_name, route, route_attributes, traced);
    } catch (...) {
      // Out of memory before the handler ran; the exchange (if any) answers
      // 500 as it goes.
      return;
    }
    try {
      Scope scope(exchange->span(), exchange->baggage());
      handler(request, TracedResponse(exchange));
    } catch (const std::exception& e) {
      exchange->Fail(ExceptionTypeName(e), e.what());
    } catch (...) {
      exchange->Fail("unknown", "a non-standard exception was thrown");
    }
  }

  // A request no route matched (404 path, through the not-found handler).
  static void ServeUnmatched(const std::shared_ptr<RouterShared>& self,
                             const Pistache::Rest::Request& request,
                             Pistache::Http::ResponseWriter writer) noexcept {
    const Pistache::Http::Method method = request.method();
    const char* name = Pistache::Http::methodString(method);
    static const TracedHandler* const kDefault =
        new TracedHandler([](const Pistache::Rest::Request&, TracedResponse response) {
          response.Send(Pistache::Http::Code::Not_Found, "Not Found");
        });
    Serve(self, request, std::move(writer), self->UnknownSeries(method), name, name, {},
          /*route_attributes=*/nullptr, /*traced=*/true,
          self->not_found ? self->not_found : *kDefault);
  }

  // Pistache answered 405 by itself; record it after the fact.
  void RecordNotAllowed(const Pistache::Http::Request& request, int64_t start_nanos) noexcept {
    try {
      const Pistache::Http::Method method = request.method();
      const char* name = Pistache::Http::methodString(method);
      Series* series = UnknownSeries(method);
      series->Start();
      series->AddRequestBytes(request.body().size());
      if (options.tracing) {
        RequestHeaderReader reader(request.headers());
        PropagatedContext incoming;
        telemetry->Extract(reader, &incoming);
        Span span = telemetry->tracer().StartServerSpan(
            name, incoming, options.trust_incoming_context, SpanTarget{{}, name, {}});
        if (span.IsRecording()) {
          SetRequestAttributes(span, request, reader, RouteAttributes(name, {}), options);
          CaptureRequestHeaders(telemetry->header_capture(CaptureKind::kHttpRequest),
                                request.headers(), span);
          SetResponseAttributes(span, 405, {});
        }
      }
      series->Finish(405, MonotonicNanosNow() - start_nanos);
    } catch (...) {
    }
  }

  Telemetry* const telemetry;
  const TracedRouterOptions options;
  // One per Pistache method, then `_OTHER`.
  std::atomic<Series*> unknown[kMethodSlots + 1] = {};
  // Set during setup only, read while serving.
  TracedHandler not_found;
};

void ServerExchange::Begin(const Pistache::Http::Request& request, absl::string_view method_name,
                           absl::string_view span_name, absl::string_view route,
                           const PreparedAttributes* route_attributes, bool traced) {
  if (series_ != nullptr) {
    series_->Start();
    series_->AddRequestBytes(request.body().size());
  }
  const TracedRouterOptions& options = shared_->options;
  if (!options.tracing || !traced) {
    start_nanos_ = MonotonicNanosNow();
    return;
  }
  Telemetry& telemetry = *shared_->telemetry;
  RequestHeaderReader reader(request.headers());
  PropagatedContext incoming;
  telemetry.Extract(reader, &incoming);
  const bool trusted = options.trust_incoming_context;
  span_ = telemetry.tracer().StartServerSpan(span_name, incoming, trusted,
                                             SpanTarget{{}, method_name, route});
  baggage_ = IncomingBaggage(incoming, trusted);
  // One clock read starts both the measurement and a recording span.
  start_nanos_ = span_.IsRecording() ? span_.start_monotonic_nanos() : MonotonicNanosNow();
  if (span_.IsRecording()) {
    if (route_attributes != nullptr) {
      SetRequestAttributes(span_, request, reader, *route_attributes, options);
    } else {
      SetRequestAttributes(span_, request, reader, RouteAttributes(method_name, route), options);
    }
    CaptureRequestHeaders(telemetry.header_capture(CaptureKind::kHttpRequest), request.headers(),
                          span_);
  }
}

void ServerExchange::Record(int code, size_t response_bytes, absl::string_view error_description) {
  const TracedRouterOptions& options = shared_->options;
  if (options.tracing && options.trace_response_headers && span_.context().IsValid()) {
    try {
      char traceparent[kTraceparentSize];
      FormatTraceparent(span_.context(), traceparent);
      ResponseHeaderWriter headers(&writer_.headers());
      headers.Set("traceparent", absl::string_view(traceparent, sizeof(traceparent)));
      char trace_id[32];
      span_.context().trace_id().ToHex(trace_id);
      headers.Set(kTraceIdResponseHeader, absl::string_view(trace_id, sizeof(trace_id)));
    } catch (...) {
      // Out of memory: the response goes without trace headers.
    }
  }
  // One clock read ends both the measurement and the span.
  const int64_t end = MonotonicNanosNow();
  if (series_ != nullptr) {
    series_->AddResponseBytes(response_bytes);
    FinishCallMetricsAt(*series_, code, start_nanos_, end, span_);
  }
  const HeaderCapture& capture = shared_->telemetry->header_capture(CaptureKind::kHttpResponse);
  if (!capture.empty()) {
    try {
      CaptureHeaderCollection(capture, writer_.headers(), span_);
    } catch (...) {
      // Out of memory: the span goes without them.
    }
  }
  SetResponseAttributes(span_, code, error_description);
  span_.End(end);
}

// The per-connection request parser, which also keeps the raw head of the
// request being parsed (request line and header lines, as received, up to the
// parser's size limit): Pistache 0.0.5's parser keeps only the first of
// repeated header lines, and the method of a request it rejects is lost.
class HeadKeepingParser final : public Pistache::Http::RequestParser {
 public:
  explicit HeadKeepingParser(size_t max_size)
      : Pistache::Http::RequestParser(max_size), max_size_(max_size) {}

  // Pistache drops the last reference to a connection's parser on whichever
  // of its threads ends the connection; the reference count orders that
  // after the transport thread's last use, but inside Pistache, where
  // ThreadSanitizer cannot see it. This acquire pairs with `Release` after
  // each use, which says the same in a way it can.
  ~HeadKeepingParser() override { (void)used_.load(std::memory_order_acquire); }

  // Ends one use on the connection's transport thread (see the destructor).
  void Release() noexcept { used_.store(true, std::memory_order_release); }

  // Pistache resets the parser after each request (and on errors); the head
  // goes with it, keeping its capacity for the connection's next request.
  void reset() override {
    Pistache::Http::RequestParser::reset();
    head_.clear();
    head_complete_ = false;
  }

  // After a rejected request the rest of the connection's bytes cannot be
  // told apart from the next request (RFC 9112 section 2.2): they are
  // dropped until the connection closes.
  void DiscardTheRest() noexcept { discarding_ = true; }
  bool discarding() const noexcept { return discarding_; }

  // Keeps the bytes of one read that belong to the current request's head.
  void Keep(const char* data, size_t size) {
    if (head_complete_) return;
    if (head_.empty()) first_byte_nanos_ = MonotonicNanosNow();
    const size_t searched = head_.size() < 3 ? 0 : head_.size() - 3;
    head_.append(data, std::min(size, max_size_ - std::min(max_size_, head_.size())));
    const size_t end = head_.find("\r\n\r\n", searched);
    if (end != std::string::npos) {
      head_.resize(end + 4);
      head_complete_ = true;
    }
  }

  absl::string_view head() const noexcept { return head_; }
  // The request method as received: the head up to the first space.
  absl::string_view method_token() const noexcept {
    const absl::string_view head(head_);
    return head.substr(0, std::min(head.find(' '), head.find("\r\n")));
  }
  int64_t first_byte_nanos() const noexcept { return first_byte_nanos_; }

 private:
  const size_t max_size_;
  std::string head_;
  bool head_complete_ = false;
  bool discarding_ = false;
  int64_t first_byte_nanos_ = 0;
  std::atomic<bool> used_{false};
};

// Serves a router, records the 405s Pistache answers by itself and the
// requests its parser rejects before any routing, and folds repeated tracing
// headers (see `ApplyRepeatedTraceHeaders`). The connection and input
// handling is Pistache 0.0.5's `Http::Handler`'s, rebuilt on its public
// parts (the parser, `ResponseWriter`, the peer's data) because the base
// versions are private: this is where the raw request bytes are visible.
class TracedRouterHandler final : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(TracedRouterHandler)

  TracedRouterHandler(std::shared_ptr<Pistache::Rest::Router> router,
                      std::shared_ptr<RouterShared> shared)
      : router_(std::move(router)), shared_(std::move(shared)) {}

  void onRequest(const Pistache::Http::Request& request,
                 Pistache::Http::ResponseWriter response) override {
    const int64_t start = MonotonicNanosNow();
    if (router_->route(request, std::move(response)) == Pistache::Rest::Route::Status::NotAllowed) {
      shared_->RecordNotAllowed(request, start);
    }
  }

  void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    router_->disconnectPeer(peer);
  }

 private:
  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    auto parser = std::make_shared<HeadKeepingParser>(getMaxRequestSize());
    parser->Release();
    peer->putData(ParserData, std::move(parser));
  }

  void onInput(const char* buffer, size_t length,
               const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    // onConnection put this parser there.
    auto* parser = static_cast<HeadKeepingParser*>(peer->getData(ParserData).get());
    struct ReleaseOnReturn {
      HeadKeepingParser* parser;
      ~ReleaseOnReturn() { parser->Release(); }
    } release{parser};
    if (parser->discarding()) return;
    Pistache::Http::Request& request = parser->request;
    try {
      parser->Keep(buffer, length);
      if (!parser->feed(buffer, length)) {
        throw Pistache::Http::HttpError(Pistache::Http::Code::Request_Entity_Too_Large,
                                        "Request exceeded maximum buffer size");
      }
      if (parser->parse() != Pistache::Http::Private::State::Done) return;
    } catch (const Pistache::Http::HttpError& error) {
      Reject(*parser, peer, error.code(), error.reason());
      return;
    } catch (const std::exception& error) {
      Reject(*parser, peer, 500, error.what());
      return;
    }
    ApplyRepeatedTraceHeaders(parser->head(), &request.headers());
    request.copyAddress(peer->address());
    try {
      Pistache::Http::ResponseWriter response(request.version(), transport(), this, peer);
      auto connection = request.headers().tryGet<Pistache::Http::Header::Connection>();
      response.headers().add<Pistache::Http::Header::Connection>(
          connection ? connection->control() : Pistache::Http::ConnectionControl::Close);
      peer->setIdle(false);
      // The traced routes and the not-found handler catch everything their
      // handlers throw, so nothing below is expected to throw; if Pistache
      // does, it is answered as Pistache would.
      const bool capture = !shared_->telemetry->header_capture(CaptureKind::kHttpRequest).empty();
      ScopedRequestHead head(capture ? parser->head() : absl::string_view());
      onRequest(request, std::move(response));
    } catch (const Pistache::Http::HttpError& error) {
      Answer(request, peer, error.code(), error.reason());
    } catch (const std::exception& error) {
      Answer(request, peer, 500, error.what());
    }
    parser->reset();
  }

  // A request the parser refused (unknown method, malformed line, too
  // large): counted under the `unknown` route of its method as received,
  // answered with Pistache's error, and the connection closed once the answer
  // is out, since its remaining bytes have no known request boundary.
  void Reject(HeadKeepingParser& parser, const std::shared_ptr<Pistache::Tcp::Peer>& peer, int code,
              const std::string& reason) noexcept {
    try {
      Series* series = shared_->UnknownSeries(parser.method_token());
      series->Start();
      series->Finish(code, MonotonicNanosNow() - parser.first_byte_nanos());
    } catch (...) {
    }
    parser.reset();
    parser.DiscardTheRest();
    try {
      Pistache::Http::ResponseWriter response(parser.request.version(), transport(), this, peer);
      response.headers().add<Pistache::Http::Header::Connection>(
          Pistache::Http::ConnectionControl::Close);
      // Runs on this connection's transport thread right after the write, so
      // the descriptor is still this peer's; the transport then sees the
      // end of the stream and removes the peer.
      const int fd = peer->fd();
      response.send(static_cast<Pistache::Http::Code>(code), reason)
          .then([fd](ssize_t) { ::shutdown(fd, SHUT_RDWR); }, [](std::exception_ptr) {});
    } catch (...) {
      // The connection is gone.
    }
  }

  void Answer(const Pistache::Http::Request& request,
              const std::shared_ptr<Pistache::Tcp::Peer>& peer, int code,
              const std::string& reason) noexcept {
    try {
      Pistache::Http::ResponseWriter response(request.version(), transport(), this, peer);
      response.send(static_cast<Pistache::Http::Code>(code), reason);
    } catch (...) {
      // The connection is gone.
    }
  }

  std::shared_ptr<Pistache::Rest::Router> router_;
  std::shared_ptr<RouterShared> shared_;
};

}  // namespace internal

// ---- TracedResponse ----

Pistache::Async::Promise<ssize_t> TracedResponse::Send(
    Pistache::Http::Code code, const std::string& body,
    const Pistache::Http::Mime::MediaType& mime) {
  return Send(code, body.data(), body.size(), mime);
}

Pistache::Async::Promise<ssize_t> TracedResponse::Send(
    Pistache::Http::Code code, const char* data, size_t size,
    const Pistache::Http::Mime::MediaType& mime) {
  if (exchange_ == nullptr) {
    return Pistache::Async::Promise<ssize_t>::rejected(
        std::runtime_error("tracebridge: Send on an empty TracedResponse"));
  }
  return exchange_->Send(code, data, size, mime);
}

Pistache::Http::Header::Collection& TracedResponse::headers() {
  return exchange_->writer().headers();
}

Pistache::Http::CookieJar& TracedResponse::cookies() { return exchange_->writer().cookies(); }

Span& TracedResponse::span() { return exchange_->span(); }

const Baggage& TracedResponse::baggage() const { return exchange_->baggage(); }

bool TracedResponse::responded() const noexcept {
  return exchange_ != nullptr && exchange_->responded();
}

// ---- TracedRouter ----

TracedRouter::TracedRouter(Pistache::Rest::Router& router, Telemetry& telemetry,
                           TracedRouterOptions options)
    : router_(router),
      shared_(std::make_shared<internal::RouterShared>(telemetry, std::move(options))) {
  std::shared_ptr<internal::RouterShared> shared = shared_;
  router_.addNotFoundHandler(
      [shared](const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter writer) {
        internal::RouterShared::ServeUnmatched(shared, request, std::move(writer));
        return Pistache::Rest::Route::Result::Ok;
      });
}

TracedRouter::~TracedRouter() = default;

Telemetry& TracedRouter::telemetry() noexcept { return *shared_->telemetry; }

absl::Status TracedRouter::Route(Pistache::Http::Method method, const std::string& route,
                                 TracedHandler handler) {
  if (!handler) return absl::InvalidArgumentError("TracedRouter: empty handler");
  if (route.empty() || route.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("TracedRouter: route \"", route, "\" must start with '/'"));
  }
  const char* method_name = Pistache::Http::methodString(method);
  // Decided once per route: the filter costs nothing per request.
  const HttpRouteFilter& filter = shared_->options.filter;
  const bool traced = !filter.Excludes(route);
  Series* series =
      traced || filter.count_excluded
          ? shared_->telemetry->metrics().RegisterHttpRoute(Side::kServer, method_name, route)
          : nullptr;
  std::shared_ptr<internal::RouterShared> shared = shared_;
  auto attributes =
      std::make_shared<const PreparedAttributes>(internal::RouteAttributes(method_name, route));
  auto wrapped = [shared, series, method_name, span_name = absl::StrCat(method_name, " ", route),
                  route, attributes, traced,
                  handler = std::move(handler)](const Pistache::Rest::Request& request,
                                                Pistache::Http::ResponseWriter writer) {
    internal::RouterShared::Serve(shared, request, std::move(writer), series, method_name,
                                  span_name, route, attributes.get(), traced, handler);
    return Pistache::Rest::Route::Result::Ok;
  };
  try {
    router_.addRoute(method, route, std::move(wrapped));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("TracedRouter: Pistache rejected route \"", route, "\": ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status TracedRouter::Get(const std::string& route, TracedHandler handler) {
  return Route(Pistache::Http::Method::Get, route, std::move(handler));
}
absl::Status TracedRouter::Post(const std::string& route, TracedHandler handler) {
  return Route(Pistache::Http::Method::Post, route, std::move(handler));
}
absl::Status TracedRouter::Put(const std::string& route, TracedHandler handler) {
  return Route(Pistache::Http::Method::Put, route, std::move(handler));
}
absl::Status TracedRouter::Patch(const std::string& route, TracedHandler handler) {
  return Route(Pistache::Http::Method::Patch, route, std::move(handler));
}
absl::Status TracedRouter::Delete(const std::string& route, TracedHandler handler) {
  return Route(Pistache::Http::Method::Delete, route, std::move(handler));
}
absl::Status TracedRouter::Head(const std::string& route, TracedHandler handler) {
  return Route(Pistache::Http::Method::Head, route, std::move(handler));
}
absl::Status TracedRouter::Options(const std::string& route, TracedHandler handler) {
  return Route(Pistache::Http::Method::Options, route, std::move(handler));
}

void TracedRouter::SetNotFoundHandler(TracedHandler handler) {
  shared_->not_found = std::move(handler);
}

std::shared_ptr<Pistache::Http::Handler> TracedRouter::MakeHandler() const {
  return std::make_shared<internal::TracedRouterHandler>(
      std::make_shared<Pistache::Rest::Router>(router_), shared_);
}

}  // namespace tracebridge
