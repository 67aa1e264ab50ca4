// File: tests/testing/pistache_server.cc

#include "tests/testing/pistache_server.h"

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/types/variant.h"

namespace tracebridge {
namespace testing {

PistacheServer::PistacheServer(std::shared_ptr<Pistache::Http::Handler> handler, int threads,
                               size_t max_request_size)
    : endpoint_(Pistache::Address(Pistache::IP::loopback(), Pistache::Port(0))) {
  auto options = Pistache::Http::Endpoint::options().threads(threads);
  if (max_request_size > 0) options.maxRequestSize(max_request_size);
  endpoint_.init(options);
  endpoint_.setHandler(std::move(handler));
  endpoint_.serveThreaded();
  port_ = static_cast<uint16_t>(endpoint_.getPort());
}

PistacheServer::~PistacheServer() { endpoint_.shutdown(); }

HttpOutcome AwaitResponse(Pistache::Async::Promise<Pistache::Http::Response> promise,
                          absl::Duration timeout) {
  // A std::mutex, not absl::Mutex: ThreadSanitizer sees only the former
  // (Debian's Abseil is not instrumented).
  struct Shared {
    std::mutex mutex;
    std::condition_variable settled;
    HttpOutcome outcome;
  };
  auto shared = std::make_shared<Shared>();
  promise.then(
      [shared](Pistache::Http::Response response) {
        std::lock_guard<std::mutex> lock(shared->mutex);
        shared->outcome.status = static_cast<int>(response.code());
        shared->outcome.body = response.body();
        shared->outcome.done = true;
        shared->settled.notify_all();
      },
      [shared](std::exception_ptr error) {
        std::lock_guard<std::mutex> lock(shared->mutex);
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          shared->outcome.error = e.what();
        } catch (...) {
          shared->outcome.error = "unknown";
        }
        shared->outcome.done = true;
        shared->settled.notify_all();
      });
  std::unique_lock<std::mutex> lock(shared->mutex);
  shared->settled.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                           [&] { return shared->outcome.done; });
  return shared->outcome;
}

std::vector<StoredSpan> SpansOfTrace(Telemetry& telemetry, const std::string& trace_id) {
  const TraceId id = TraceId::FromHex(trace_id);
  if (!id.IsValid() || telemetry.span_store() == nullptr) return {};
  return telemetry.span_store()->FindTrace(id);
}

SeriesSnapshot FindHttpSeries(Telemetry& telemetry, Side side, const std::string& method,
                              const std::string& route) {
  for (SeriesSnapshot& series : telemetry.metrics().Snapshot().series) {
    if (series.protocol == Protocol::kHttp && series.side == side && series.scope == method &&
        series.name == route) {
      return series;
    }
  }
  return SeriesSnapshot();
}

std::string AttributeText(const SpanData& span, absl::string_view key) {
  const AttributeValue* value = span.FindAttribute(key);
  if (value == nullptr) return "";
  if (const std::string* text = absl::get_if<std::string>(value)) return *text;
  if (const int64_t* number = absl::get_if<int64_t>(value)) return std::to_string(*number);
  if (const bool* flag = absl::get_if<bool>(value)) return *flag ? "true" : "false";
  if (const double* real = absl::get_if<double>(value)) return std::to_string(*real);
  return "";
}

}  // namespace testing
}  // namespace tracebridge
