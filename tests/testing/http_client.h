// File: tests/testing/http_client.h
//
// A blocking HTTP/1.1 client for tests: one request per connection, every
// header sent exactly as given (repeated, malformed or oversized ones too), so
// tests can say precisely what crosses the wire. Loopback only.

#ifndef TRACEBRIDGE_TESTS_TESTING_HTTP_CLIENT_H_
#define TRACEBRIDGE_TESTS_TESTING_HTTP_CLIENT_H_

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tracebridge {
namespace testing {

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;

  // The first value of `name` (lowercase), or "" when absent.
  std::string Header(const std::string& name) const;
};

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Sends `request` to 127.0.0.1:`port` and reads the whole response (the
// server's Content-Length, or until it closes). Fails after `timeout`.
absl::StatusOr<HttpResponse> SendHttp(int port, const HttpRequest& request,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Shorthand for a GET with optional headers.
absl::StatusOr<HttpResponse> HttpGet(int port, const std::string& target,
                                     std::vector<std::pair<std::string, std::string>> headers = {});

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_HTTP_CLIENT_H_
