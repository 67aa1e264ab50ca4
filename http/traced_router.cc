// File: http/traced_router.cc

#include "tracebridge/http/traced_router.h"

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tracebridge/core/call_metrics.h"
#include "tracebridge/core/propagation/propagator.h"
#include "tracebridge/core/propagation/w3c_propagators.h"
#include "tracebridge/core/trace/clock.h"
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

// Sets the request attributes every server span carries.
void SetRequestAttributes(Span& span, const Pistache::Http::Request& request,
                          const CarrierReader& headers, absl::string_view method_name,
                          absl::string_view route, const TracedRouterOptions& options) {
  span.SetAttribute("http.request.method", method_name);
  if (!route.empty()) span.SetAttribute("http.route", route);
  span.SetAttribute("url.scheme", "http");
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

// One request/response: the span, the series, the writer. Shared by the
// traced handler wrapper (for the length of the handler call) and every
// `TracedResponse` handle; whoever sends first records.
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

  // Starts timing, counts the request and starts the span.
  void Begin(const Pistache::Http::Request& request, absl::string_view method_name,
             absl::string_view span_name, absl::string_view route);

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
                    absl::string_view route, const TracedHandler& handler) noexcept {
    std::shared_ptr<ServerExchange> exchange;
    try {
      exchange = std::make_shared<ServerExchange>(self, series, std::move(writer));
      exchange->Begin(request, method_name, span_name, route);
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
        telemetry->propagator().Extract(reader, &incoming);
        Span span =
            telemetry->tracer().StartServerSpan(name, incoming, options.trust_incoming_context);
        if (span.IsRecording()) {
          SetRequestAttributes(span, request, reader, name, {}, options);
          SetResponseAttributes(span, 405, {});
        }
      }
      series->Finish(405, MonotonicNanosNow() - start_nanos);
    } catch (...) {
    }
  }

  Telemetry* const telemetry;
  const TracedRouterOptions options;
  std::atomic<Series*> unknown[kMethodSlots] = {};
  // Set during setup only, read while serving.
  TracedHandler not_found;
};

void ServerExchange::Begin(const Pistache::Http::Request& request, absl::string_view method_name,
                           absl::string_view span_name, absl::string_view route) {
  start_nanos_ = MonotonicNanosNow();
  series_->Start();
  series_->AddRequestBytes(request.body().size());
  const TracedRouterOptions& options = shared_->options;
  if (!options.tracing) return;
  Telemetry& telemetry = *shared_->telemetry;
  RequestHeaderReader reader(request.headers());
  PropagatedContext incoming;
  telemetry.propagator().Extract(reader, &incoming);
  const bool trusted = options.trust_incoming_context;
  span_ = telemetry.tracer().StartServerSpan(span_name, incoming, trusted);
  baggage_ = IncomingBaggage(incoming, trusted);
  if (span_.IsRecording()) {
    SetRequestAttributes(span_, request, reader, method_name, route, options);
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
      headers.Set(kTraceIdResponseHeader, span_.context().trace_id().ToHex());
    } catch (...) {
      // Out of memory: the response goes without trace headers.
    }
  }
  series_->AddResponseBytes(response_bytes);
  FinishCallMetrics(*series_, code, start_nanos_, span_);
  SetResponseAttributes(span_, code, error_description);
  span_.End();
}

// Serves a router and records the 405s Pistache answers by itself.
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
  Series* series =
      shared_->telemetry->metrics().RegisterHttpRoute(Side::kServer, method_name, route);
  std::shared_ptr<internal::RouterShared> shared = shared_;
  auto wrapped = [shared, series, method_name, span_name = absl::StrCat(method_name, " ", route),
                  route, handler = std::move(handler)](const Pistache::Rest::Request& request,
                                                       Pistache::Http::ResponseWriter writer) {
    internal::RouterShared::Serve(shared, request, std::move(writer), series, method_name,
                                  span_name, route, handler);
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
