// File: tests/testing/sample_spans.h
//
// Builders for `SpanData` values with fixed ids and times, for exporter tests
// and benchmarks that need spans without running a tracer.

#ifndef TRACEBRIDGE_TESTS_TESTING_SAMPLE_SPANS_H_
#define TRACEBRIDGE_TESTS_TESTING_SAMPLE_SPANS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tracebridge/core/export/span_exporter.h"
#include "tracebridge/core/trace/span_data.h"

namespace tracebridge {
namespace testing {

// A span of trace `trace_hex` (32 hex digits) with span id `span_hex` (16)
// and no parent, named `name`, from `start` to `start + duration` nanoseconds.
inline std::unique_ptr<SpanData> MakeSpan(const std::string& trace_hex, const std::string& span_hex,
                                          std::string name, int64_t start = 1700000000000000000,
                                          int64_t duration = 1500000) {
  auto span = std::make_unique<SpanData>();
  span->name = std::move(name);
  span->context = SpanContext(TraceId::FromHex(trace_hex), SpanId::FromHex(span_hex),
                              TraceFlags::Sampled(), /*is_remote=*/false);
  span->start_unix_nanos = start;
  span->end_unix_nanos = start + duration;
  return span;
}

// A server span shaped like one HTTP request: six attributes (method, route,
// path, status, client address, a double), OK status, a parent.
inline std::unique_ptr<SpanData> MakeTypicalServerSpan(uint64_t n = 1) {
  auto span = MakeSpan("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "GET /orders/:id");
  span->kind = SpanKind::kServer;
  span->parent_span_id = SpanId::FromHex("b7ad6b7169203331");
  span->attributes.push_back({"http.request.method", std::string("GET")});
  span->attributes.push_back({"http.route", std::string("/orders/:id")});
  span->attributes.push_back({"url.path", "/orders/" + std::to_string(n)});
  span->attributes.push_back({"http.response.status_code", int64_t{200}});
  span->attributes.push_back({"client.address", std::string("10.1.2.3")});
  span->attributes.push_back({"tracebridge.queue_ratio", 0.25});
  span->status = StatusCode::kOk;
  return span;
}

// A resource with a service name and two attributes.
inline Resource MakeResource(std::string service_name = "orders") {
  Resource resource;
  resource.service_name = std::move(service_name);
  resource.attributes.push_back({"service.version", std::string("1.4.2")});
  resource.attributes.push_back({"deployment.environment", std::string("test")});
  return resource;
}

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_SAMPLE_SPANS_H_
