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

// The ids and trace states of `MakeFullSpan`.
inline constexpr char kFullSpanTraceIdHex[] = "4bf92f3577b34da6a3ce929d0e0e4736";
inline constexpr char kFullSpanSpanIdHex[] = "00f067aa0ba902b7";
inline constexpr char kFullSpanParentIdHex[] = "b7ad6b7169203331";
inline constexpr char kFullSpanLinkTraceIdHex[] = "0af7651916cd43dd8448eb211c80319c";
inline constexpr char kFullSpanLinkSpanIdHex[] = "53995c3f42cd8ad8";
inline constexpr char kFullSpanTraceState[] = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
inline constexpr char kFullSpanLinkTraceState[] = "vendor=abc";

// A span with every field set to a distinct, recognisable value: a server
// span with a remote parent, four attributes of the four types (3 dropped),
// two events (4 dropped), a link with a trace state (5 dropped), error
// status with a message.
inline std::unique_ptr<SpanData> MakeFullSpan() {
  TraceState state, link_state;
  TraceState::Parse(kFullSpanTraceState, &state);
  TraceState::Parse(kFullSpanLinkTraceState, &link_state);
  auto span = std::make_unique<SpanData>();
  span->name = "POST /orders";
  span->kind = SpanKind::kServer;
  span->context =
      SpanContext(TraceId::FromHex(kFullSpanTraceIdHex), SpanId::FromHex(kFullSpanSpanIdHex),
                  TraceFlags(TraceFlags::kSampled | TraceFlags::kRandom),
                  /*is_remote=*/false, state);
  span->parent_span_id = SpanId::FromHex(kFullSpanParentIdHex);
  span->parent_is_remote = true;
  span->start_unix_nanos = 1700000000123456789;
  span->end_unix_nanos = 1700000000987654321;
  span->attributes.push_back({"http.method", std::string("POST")});
  span->attributes.push_back({"http.status_code", int64_t{503}});
  span->attributes.push_back({"retry.ratio", 0.25});
  span->attributes.push_back({"cache.hit", true});
  span->dropped_attributes = 3;
  span->events.push_back(
      SpanEvent{"exception",
                1700000000500000000,
                {{"exception.type", std::string("Timeout")}, {"attempt", int64_t{2}}},
                /*dropped_attributes=*/1});
  span->events.push_back(SpanEvent{"retrying", 1700000000600000000, {}, 0});
  span->dropped_events = 4;
  span->links.push_back(SpanLink{
      SpanContext(TraceId::FromHex(kFullSpanLinkTraceIdHex),
                  SpanId::FromHex(kFullSpanLinkSpanIdHex), TraceFlags(TraceFlags::kSampled),
                  /*is_remote=*/true, link_state),
      {{"link.reason", std::string("caller")}, {"link.weight", 1.5}},
      /*dropped_attributes=*/2});
  span->dropped_links = 5;
  span->status = StatusCode::kError;
  span->status_description = "backend unavailable";
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
