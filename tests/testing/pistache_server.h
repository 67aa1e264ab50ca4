// File: tests/testing/pistache_server.h
//
// Test fixtures for the HTTP layer: a Pistache endpoint on 127.0.0.1 with a
// free port that shuts down when destroyed, and a `Telemetry` set up for
// deterministic span checks (simple processor, every propagation format, the
// span file in TEST_TMPDIR).

#ifndef TRACEBRIDGE_TESTS_TESTING_PISTACHE_SERVER_H_
#define TRACEBRIDGE_TESTS_TESTING_PISTACHE_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include <pistache/client.h>
#include <pistache/endpoint.h>
#include <pistache/http.h>

#include "absl/time/time.h"

#include "tests/testing/test_telemetry.h"
#include "tracebridge/core/export/memory_exporter.h"
#include "tracebridge/core/telemetry.h"

namespace tracebridge {
namespace testing {

class PistacheServer {
 public:
  // Serves `handler` on 127.0.0.1:<free port> with `threads` worker threads;
  // `max_request_size` 0 keeps Pistache's default (4096 bytes).
  explicit PistacheServer(std::shared_ptr<Pistache::Http::Handler> handler, int threads = 2,
                          size_t max_request_size = 0);
  ~PistacheServer();
  PistacheServer(const PistacheServer&) = delete;
  PistacheServer& operator=(const PistacheServer&) = delete;

  int port() const { return port_; }

 private:
  Pistache::Http::Endpoint endpoint_;
  int port_ = 0;
};

// How an outgoing request sent through Pistache's client ended.
struct HttpOutcome {
  bool done = false;  // false: neither answered nor failed within the wait
  int status = 0;     // the response's status code
  std::string body;
  std::string error;  // the rejection's message, for a failed request
};

// Waits (at most `timeout`) for `promise` to settle.
HttpOutcome AwaitResponse(Pistache::Async::Promise<Pistache::Http::Response> promise,
                          absl::Duration timeout = absl::Seconds(20));

// Every stored span of the trace with the hex id `trace_id`, in start order.
std::vector<StoredSpan> SpansOfTrace(Telemetry& telemetry, const std::string& trace_id);

// The series snapshot for (protocol HTTP, side, method, route); a snapshot
// with `started == 0` and an empty `name` when absent.
SeriesSnapshot FindHttpSeries(Telemetry& telemetry, Side side, const std::string& method,
                              const std::string& route);

// The string value of attribute `key` of `span`, or "" (for int attributes,
// the decimal text).
std::string AttributeText(const SpanData& span, absl::string_view key);

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_PISTACHE_SERVER_H_
