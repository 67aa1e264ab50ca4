// File: http/outgoing.cc

#include "tracebridge/http/outgoing.h"

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <typeinfo>

#include "absl/strings/str_cat.h"
#include "tracebridge/core/call_metrics.h"
#include "tracebridge/core/metrics/registry.h"
#include "tracebridge/core/propagation/propagator.h"
#include "tracebridge/core/trace/clock.h"
#include "tracebridge/core/trace/span.h"
#include "tracebridge/http/captured_headers.h"
#include "tracebridge/http/header_carrier.h"

namespace tracebridge {
namespace {

constexpr char kNoResponse[] = "no response";

// The demangled dynamic type and the message of an exception.
void Describe(std::exception_ptr error, std::string* type, std::string* message) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    int status = 0;
    char* demangled = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
    *type = status == 0 && demangled != nullptr ? demangled : typeid(e).name();
    std::free(demangled);
    *message = e.what();
  } catch (...) {
    *type = "unknown";
    *message = "a non-standard exception";
  }
}

// The series of (client, method, route): the registered one, registered on
// first sight; the method's overflow series without a route.
Series* ClientSeries(Registry& registry, absl::string_view method, absl::string_view route) {
  if (route.empty()) return registry.HttpOther(Side::kClient, method);
  Series* series = registry.FindHttpRoute(Side::kClient, method, route);
  if (!series->is_other() || registry.registered_count() >= registry.max_series()) return series;
  return registry.RegisterHttpRoute(Side::kClient, method, route);
}

// One request in flight: whichever of the promise callbacks runs records it;
// if neither ever runs, the destructor does.
class ClientExchange final {
 public:
  ClientExchange(Series* series, Span span, size_t request_bytes,
                 const HeaderCapture* response_capture)
      : series_(series),
        span_(std::move(span)),
        // One clock read starts both the measurement and a recording span.
        start_nanos_(span_.IsRecording() ? span_.start_monotonic_nanos() : MonotonicNanosNow()),
        response_capture_(response_capture) {
    series_->Start();
    series_->AddRequestBytes(request_bytes);
  }
  ~ClientExchange() {
    if (!finished_) Finish(0, 0, "no_response", kNoResponse);
  }
  ClientExchange(const ClientExchange&) = delete;
  ClientExchange& operator=(const ClientExchange&) = delete;

  void OnResponse(const Pistache::Http::Response& response) noexcept {
    const int code = static_cast<int>(response.code());
    if (!response_capture_->empty()) {
      try {
        internal::CaptureHeaderCollection(*response_capture_, response.headers(), span_);
      } catch (...) {
        // Out of memory: the span goes without them.
      }
    }
    Finish(code, response.body().size(), {}, {});
  }

  void OnError(std::exception_ptr error) noexcept {
    std::string type, message;
    Describe(error, &type, &message);
    span_.RecordError(type, message);
    Finish(0, 0, type, message);
  }

 private:
  void Finish(int code, size_t response_bytes, absl::string_view error_type,
              absl::string_view message) noexcept {
    finished_ = true;
    series_->AddResponseBytes(response_bytes);
    const int64_t end = MonotonicNanosNow();  // ends the measurement and the span
    FinishCallMetricsAt(*series_, code, start_nanos_, end, span_);
    if (span_.IsRecording()) {
      if (code > 0) span_.SetAttribute("http.response.status_code", code);
      if (IsErrorStatus(Protocol::kHttp, Side::kClient, code)) {
        span_.SetAttribute("error.type",
                           error_type.empty() ? std::to_string(code) : std::string(error_type));
        span_.SetStatus(StatusCode::kError, message);
      }
    }
    span_.End(end);
  }

  Series* const series_;
  Span span_;
  const int64_t start_nanos_;
  const HeaderCapture* const response_capture_;
  bool finished_ = false;
};

}  // namespace

TracedRequest::TracedRequest(const TracedHttpClient* client, Pistache::Http::Method method,
                             std::string url, Pistache::Http::Experimental::RequestBuilder builder)
    : client_(client), method_(method), url_(std::move(url)), builder_(std::move(builder)) {}

TracedRequest& TracedRequest::SetRoute(std::string route) {
  route_ = std::move(route);
  return *this;
}

TracedRequest& TracedRequest::AddHeader(
    const std::shared_ptr<Pistache::Http::Header::Header>& header) {
  builder_.header(header);
  const HeaderCapture& capture = client_->telemetry().header_capture(CaptureKind::kHttpRequest);
  if (!capture.empty() && header != nullptr) internal::CaptureHeader(capture, *header, &captured_);
  return *this;
}

TracedRequest& TracedRequest::SetParams(const Pistache::Http::Uri::Query& query) {
  query_ = query.as_str();
  builder_.params(query);
  return *this;
}

TracedRequest& TracedRequest::SetBody(std::string body) {
  body_bytes_ = body.size();
  builder_.body(std::move(body));
  return *this;
}

TracedRequest& TracedRequest::SetTimeout(std::chrono::milliseconds timeout) {
  builder_.timeout(timeout);
  return *this;
}

TracedRequest& TracedRequest::SetParent(const SpanContext& parent) {
  explicit_parent_ = true;
  parent_ = parent;
  return *this;
}

Pistache::Async::Promise<Pistache::Http::Response> TracedRequest::Send() {
  using Promise = Pistache::Async::Promise<Pistache::Http::Response>;
  if (sent_) {
    return Promise::rejected(std::runtime_error("tracebridge: TracedRequest sent twice"));
  }
  sent_ = true;
  std::shared_ptr<ClientExchange> exchange;
  try {
    Telemetry& telemetry = client_->telemetry();
    const TracedClientOptions& options = client_->options();
    const char* method = Pistache::Http::methodString(method_);
    Span span;
    PropagatedContext outgoing;
    outgoing.baggage = CurrentBaggage();
    outgoing.span_context = explicit_parent_ ? parent_ : CurrentSpan().context();
    if (options.tracing) {
      StartSpanOptions start;
      start.kind = SpanKind::kClient;
      start.parent_choice = explicit_parent_ ? ParentChoice::kExplicit : ParentChoice::kCurrent;
      start.parent = parent_;
      span = telemetry.tracer().StartSpan(
          route_.empty() ? std::string(method) : absl::StrCat(method, " ", route_), start);
      outgoing.span_context = span.context();
      if (span.IsRecording()) {
        span.SetAttribute("http.request.method", method);
        span.SetAttribute("url.full",
                          RedactUrl(absl::StrCat(url_, query_), options.redacted_query_keys));
        if (!route_.empty()) span.SetAttribute("url.template", route_);
        telemetry.header_capture(CaptureKind::kHttpRequest).Apply(captured_, span);
        std::string host;
        int port = 0;
        if (SplitHostPort(url_, &host, &port)) {
          span.SetAttribute("server.address", host);
          if (port > 0) span.SetAttribute("server.port", port);
        }
      }
    }
    RequestBuilderWriter writer(&builder_);
    telemetry.Inject(outgoing, &writer, &span);
    exchange = std::make_shared<ClientExchange>(
        ClientSeries(telemetry.metrics(), method, route_), std::move(span), body_bytes_,
        &telemetry.header_capture(CaptureKind::kHttpResponse));
    return builder_.send().then(
        [exchange](Pistache::Http::Response response) {
          exchange->OnResponse(response);
          return response;
        },
        [exchange](std::exception_ptr error) {
          exchange->OnError(error);
          Pistache::Async::Throw(error);
        });
  } catch (const std::exception& e) {
    if (exchange != nullptr) exchange->OnError(std::current_exception());
    return Promise::rejected(std::runtime_error(e.what()));
  }
}

TracedHttpClient::TracedHttpClient(Pistache::Http::Experimental::Client& client,
                                   Telemetry& telemetry, TracedClientOptions options)
    : client_(&client), telemetry_(&telemetry), options_(std::move(options)) {}

TracedRequest TracedHttpClient::Get(const std::string& url) {
  return TracedRequest(this, Pistache::Http::Method::Get, url, client_->get(url));
}
TracedRequest TracedHttpClient::Post(const std::string& url) {
  return TracedRequest(this, Pistache::Http::Method::Post, url, client_->post(url));
}
TracedRequest TracedHttpClient::Put(const std::string& url) {
  return TracedRequest(this, Pistache::Http::Method::Put, url, client_->put(url));
}
TracedRequest TracedHttpClient::Patch(const std::string& url) {
  return TracedRequest(this, Pistache::Http::Method::Patch, url, client_->patch(url));
}
TracedRequest TracedHttpClient::Delete(const std::string& url) {
  return TracedRequest(this, Pistache::Http::Method::Delete, url, client_->del(url));
}

}  // namespace tracebridge
