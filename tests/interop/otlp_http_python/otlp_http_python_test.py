#!/usr/bin/python3
"""tracebridge's OTLP/HTTP exporter against an independent receiver.

The receiver is Python's own http.server (HTTP/1.1, keep-alive), decoding
every request with python3-protobuf and message classes generated from the
repository's OTLP protos. The sender is otlp_http_sender, which configures
the exporter from OTEL_EXPORTER_OTLP_* exactly as a user would. Each case
scripts the receiver's answers, runs the sender once, and checks both sides:
what arrived (path, headers, gzip, every span field) and what the exporter
reported (status, attempts, counts).

Exits 0 when every check holds; otherwise prints what failed and exits 1.
Every wait is bounded: the sender runs under a timeout, stalled handlers end
when the receiver stops.
"""

import email.utils
import math
import sys
import time

from otlp_http_harness import (DEADLINE_EXCEEDED, INVALID_ARGUMENT, OK, RESOURCE_EXHAUSTED,
                               UNAVAILABLE, Reply, attributes, check, fast_retries, run_cases)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from tracebridge.internal import rpc_status_pb2

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"
PARENT_ID = "b7ad6b7169203331"
LINK_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
LINK_SPAN_ID = "53995c3f42cd8ad8"
ROOT_TRACE_ID = "0123456789abcdef0123456789abcdef"

# ---- cases ----

def every_field_arrives_as_set(h):
  env = h.base_env(OTEL_EXPORTER_OTLP_HEADERS="Api-Key=s%3Dcret,x-tenant=blue%20team")
  result, requests = h.run(env, ["--batches=3"])
  check([e[0] for e in result.exports] == [OK] * 3, "exports: %r" % result.exports)
  check(len(requests) == 3, "received %d requests, sent 3" % len(requests))
  request = requests[0]
  check(request.path == "/v1/traces", "path %r: the generic endpoint gets /v1/traces" %
        request.path)
  check(result.url == "http://127.0.0.1:%d/v1/traces" % h.receiver.port, "url %r" % result.url)
  hdr = request.headers
  check(hdr.get("content-type") == "application/x-protobuf", "content-type %r" %
        hdr.get("content-type"))
  check("content-encoding" not in hdr, "compressed without being asked")
  check(hdr.get("api-key") == "s=cret", "api-key header %r" % hdr.get("api-key"))
  check(hdr.get("x-tenant") == "blue team", "x-tenant header %r" % hdr.get("x-tenant"))
  check(hdr.get("user-agent", "").startswith("tracebridge-otlp-exporter/"),
        "user-agent %r" % hdr.get("user-agent"))
  check(hdr.get("host") == "127.0.0.1:%d" % h.receiver.port, "host %r" % hdr.get("host"))
  # Keep-alive: one connection for the three requests.
  check(len({r.client_port for r in requests}) == 1 and result.connections == 1,
        "keep-alive: client ports %r, connections %r" %
        ({r.client_port for r in requests}, result.connections))

  rs = request.request.resource_spans
  check(len(rs) == 1, "%d ResourceSpans" % len(rs))
  resource = attributes(rs[0].resource)
  check(resource == {"service.name": "http-sender", "service.version": "1.4.2",
                     "deployment.environment": "test"}, "resource %r" % resource)
  check(rs[0].resource.attributes[0].key == "service.name", "service.name is not first")
  check(len(rs[0].scope_spans) == 1 and rs[0].scope_spans[0].scope.name == "tracebridge",
        "scope %r" % rs[0].scope_spans[0].scope)
  check(rs[0].scope_spans[0].scope.version != "", "scope version empty")
  spans = rs[0].scope_spans[0].spans
  check(len(spans) == 2, "%d spans" % len(spans))
  s = spans[0]
  check(s.trace_id.hex() == TRACE_ID and s.span_id.hex() == SPAN_ID, "ids %s/%s" %
        (s.trace_id.hex(), s.span_id.hex()))
  check(s.parent_span_id.hex() == PARENT_ID, "parent %s" % s.parent_span_id.hex())
  check(s.trace_state == "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", "tracestate %r" %
        s.trace_state)
  check(s.flags == 0x303, "flags %#x (sampled, random, parent remote)" % s.flags)
  check(s.name == "POST /orders" and s.kind == trace_pb2.Span.SPAN_KIND_SERVER,
        "name/kind %r/%r" % (s.name, s.kind))
  check(s.start_time_unix_nano == 1700000000123456789 and
        s.end_time_unix_nano == 1700000000987654321, "times %d..%d" %
        (s.start_time_unix_nano, s.end_time_unix_nano))
  kinds = [kv.value.WhichOneof("value") for kv in s.attributes]
  check(kinds == ["string_value", "int_value", "double_value", "bool_value"],
        "attribute types %r" % kinds)
  check(attributes(s) == {"http.method": "POST", "http.status_code": 503, "retry.ratio": 0.25,
                          "cache.hit": True}, "attributes %r" % attributes(s))
  check(s.dropped_attributes_count == 3, "dropped attributes %d" % s.dropped_attributes_count)
  check(len(s.events) == 2, "%d events" % len(s.events))
  e = s.events[0]
  check(e.name == "exception" and e.time_unix_nano == 1700000000500000000 and
        attributes(e) == {"exception.type": "Timeout", "attempt": 2} and
        e.dropped_attributes_count == 1, "event %r" % e)
  check(s.events[1].name == "retrying" and not s.events[1].attributes, "second event %r" %
        s.events[1])
  check(s.dropped_events_count == 4, "dropped events %d" % s.dropped_events_count)
  check(len(s.links) == 1, "%d links" % len(s.links))
  link = s.links[0]
  check(link.trace_id.hex() == LINK_TRACE_ID and link.span_id.hex() == LINK_SPAN_ID and
        link.trace_state == "vendor=abc" and link.flags == 0x301 and
        attributes(link) == {"link.reason": "caller", "link.weight": 1.5} and
        link.dropped_attributes_count == 2, "link %r" % link)
  check(s.dropped_links_count == 5, "dropped links %d" % s.dropped_links_count)
  check(s.status.code == trace_pb2.Status.STATUS_CODE_ERROR and
        s.status.message == "backend unavailable", "status %r" % s.status)
  root = spans[1]
  check(root.trace_id.hex() == ROOT_TRACE_ID and root.parent_span_id == b"" and
        root.flags == 0x103 and root.kind == trace_pb2.Span.SPAN_KIND_INTERNAL and
        root.status.code == trace_pb2.Status.STATUS_CODE_OK and root.status.message == "",
        "root span %r" % root)
  check(result.stats == {"batches_exported": 3, "spans_exported": 6, "batches_failed": 0,
                         "spans_failed": 0, "retries": 0, "spans_rejected": 0},
        "stats %r" % result.stats)


def gzip_on_the_wire(h):
  env = h.base_env(OTEL_EXPORTER_OTLP_COMPRESSION="gzip")
  result, requests = h.run(env, ["--spans=many:200"])
  check(result.exports and result.exports[0][0] == OK, "export %r" % result.exports)
  check(len(requests) == 1, "%d requests" % len(requests))
  r = requests[0]
  check(r.headers.get("content-encoding") == "gzip", "content-encoding %r" %
        r.headers.get("content-encoding"))
  check(r.raw[:2] == b"\x1f\x8b", "body does not start with the gzip magic")
  check(len(r.raw) * 3 < len(r.body), "gzip saved little: %d -> %d bytes" %
        (len(r.body), len(r.raw)))
  spans = r.request.resource_spans[0].scope_spans[0].spans
  check(len(spans) == 200, "%d spans after gunzip" % len(spans))
  check(attributes(spans[199])["url.path"] == "/orders/199", "last span %r" % spans[199])


def endpoint_variables(h):
  port = h.receiver.port
  cases = [
      ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:%d/base" % port}, "/base/v1/traces"),
      ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:%d/base/" % port}, "/base/v1/traces"),
      ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:%d/custom/path" % port,
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1/ignored"}, "/custom/path"),
      ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:%d" % port}, "/"),
      ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, "/v1/traces"),
  ]
  for extra, path in cases:
    result, requests = h.run(h.base_env(**extra))
    check(len(requests) == 1 and requests[0].path == path,
          "%r: requests to %r, expected %r" % (extra, [r.path for r in requests], path))
    check(result.exports[0][0] == OK, "%r: export %r" % (extra, result.exports))


def retry_after_seconds(h):
  replies = [Reply(503, headers=[("Retry-After", "1")]), Reply(200)]
  result, requests = h.run(h.base_env(), fast_retries(), replies)
  check(result.exports[0][0] == OK, "export %r" % result.exports)
  check(len(requests) == 2, "%d requests, expected 2" % len(requests))
  gap = requests[1].arrival - requests[0].arrival
  check(gap >= 0.95, "retried after %.3fs; Retry-After asked for 1s" % gap)
  check(result.stats["retries"] == 1 and result.stats["batches_exported"] == 1,
        "stats %r" % result.stats)


def retry_after_http_date(h):
  # A whole second at least two seconds ahead: the wait is over one second
  # whatever the clock's fraction.
  when = math.ceil(time.time()) + 2
  date = email.utils.formatdate(when, usegmt=True)
  replies = [Reply(429, headers=[("Retry-After", date)]), Reply(200)]
  result, requests = h.run(h.base_env(), fast_retries(), replies)
  check(result.exports[0][0] == OK, "export %r" % result.exports)
  check(len(requests) == 2, "%d requests, expected 2" % len(requests))
  gap = requests[1].arrival - requests[0].arrival
  check(gap >= 0.95, "retried after %.3fs; Retry-After said %s" % (gap, date))
  check(result.stats["retries"] == 1, "stats %r" % result.stats)


def backoff_without_retry_after(h):
  replies = [Reply(502), Reply(504), Reply(200)]
  result, requests = h.run(h.base_env(), fast_retries(), replies)
  check(result.exports[0][0] == OK, "export %r" % result.exports)
  check(len(requests) == 3, "%d requests, expected 3" % len(requests))
  check(result.stats["retries"] == 2, "stats %r" % result.stats)


def other_statuses_are_not_retried(h):
  status = rpc_status_pb2.RpcStatus(code=3, message="bad data: span 7").SerializeToString()
  for code, expected in [(400, INVALID_ARGUMENT), (401, 16), (404, 5), (413, RESOURCE_EXHAUSTED),
                         (500, 13), (501, 12)]:
    result, requests = h.run(h.base_env(), fast_retries(), [Reply(code, body=status)] * 3)
    check(len(requests) == 1, "HTTP %d: %d requests, expected 1 (no retry)" %
          (code, len(requests)))
    got, _, message = result.exports[0]
    check(got == expected, "HTTP %d: status code %d, expected %d" % (code, got, expected))
    check(("HTTP %d" % code) in message and "bad data: span 7" in message,
          "HTTP %d: message %r" % (code, message))
    check(result.stats == {"batches_exported": 0, "spans_exported": 0, "batches_failed": 1,
                           "spans_failed": 2, "retries": 0, "spans_rejected": 0},
          "HTTP %d: stats %r" % (code, result.stats))


def retries_are_bounded(h):
  result, requests = h.run(h.base_env(), fast_retries("--max_attempts=3"), [Reply(503)] * 10)
  check(len(requests) == 3, "%d requests, expected max_attempts=3" % len(requests))
  code, _, message = result.exports[0]
  check(code == UNAVAILABLE and "retries exhausted" in message and "3 attempts" in message,
        "export %r" % (result.exports,))
  check(result.stats["batches_failed"] == 1 and result.stats["retries"] == 2,
        "stats %r" % result.stats)
  # A Retry-After past the deadline: given up at once, not waited for.
  result, requests = h.run(h.base_env(), fast_retries("--deadline_ms=3000"),
                           [Reply(503, headers=[("Retry-After", "3600")])])
  check(len(requests) == 1, "%d requests" % len(requests))
  check("no time left" in result.exports[0][2], "export %r" % (result.exports,))
  check(result.exports[0][1] < 3000, "waited %d ms for a retry it could not make" %
        result.exports[0][1])


def chunked_partial_success(h):
  response = trace_service_pb2.ExportTraceServiceResponse()
  response.partial_success.rejected_spans = 1
  response.partial_success.error_message = "span too large"
  replies = [Reply(200, body=response.SerializeToString(), chunked=True)]
  result, requests = h.run(h.base_env(), ["--batches=2"], replies)
  check([e[0] for e in result.exports] == [OK, OK], "exports %r" % result.exports)
  check(result.stats["spans_rejected"] == 1 and result.partial == "span too large",
        "stats %r, partial %r" % (result.stats, result.partial))
  # The chunked response was read to its end: the connection was reused.
  check(result.connections == 1 and len(requests) == 2, "connections %r, requests %d" %
        (result.connections, len(requests)))


def connection_handling(h):
  # The server closes after its answer: the next batch opens a new one.
  result, requests = h.run(h.base_env(), ["--batches=2"], [Reply(200, close_connection=True)])
  check([e[0] for e in result.exports] == [OK, OK], "exports %r" % result.exports)
  check(result.connections == 2 and len({r.client_port for r in requests}) == 2,
        "connections %r" % result.connections)
  # The server hangs up without answering: retried (the spec's "disconnects
  # without returning a response"), then accepted.
  result, requests = h.run(h.base_env(), fast_retries(), [Reply(hang_up=True), Reply(200)])
  check(result.exports[0][0] == OK and len(requests) == 2 and result.stats["retries"] == 1,
        "hang-up: exports %r, %d requests, stats %r" %
        (result.exports, len(requests), result.stats))


def limits_and_deadlines(h):
  # A response over the limit fails, and is not retried.
  big = Reply(200, body=b"\x00" * 4096)
  result, requests = h.run(h.base_env(), fast_retries("--max_response_bytes=1024"), [big] * 3)
  check(len(requests) == 1, "%d requests for an oversized response" % len(requests))
  check(result.exports[0][0] == RESOURCE_EXHAUSTED, "export %r" % (result.exports,))
  # A receiver that never answers: the export ends at its deadline.
  result, requests = h.run(h.base_env(), fast_retries("--deadline_ms=700"),
                           [Reply(stall=30)] * 3)
  code, millis, message = result.exports[0]
  check(code == DEADLINE_EXCEEDED, "stalled export %r" % (result.exports,))
  check(650 <= millis < 10000, "stalled export took %d ms for a 700 ms deadline" % millis)


def shutdown(h):
  # In flight: the request is cancelled at once.
  result, requests = h.run(h.base_env(), ["--shutdown_after_connect", "--deadline_ms=30000"],
                           [Reply(stall=30)])
  code, millis, _ = result.exports[0]
  check(code != OK and millis < 15000, "export during shutdown %r" % (result.exports,))
  check(len(requests) <= 1 and result.stats["batches_failed"] == 1, "stats %r" % result.stats)
  # Waiting 30 s to retry: Shutdown wakes it.
  result, requests = h.run(h.base_env(OTEL_EXPORTER_OTLP_TIMEOUT="120000"),
                           ["--shutdown_on_retry", "--deadline_ms=120000"],
                           [Reply(503, headers=[("Retry-After", "30")])])
  code, millis, message = result.exports[0]
  check(code == UNAVAILABLE and "shut down" in message and millis < 15000,
        "export during a backoff wait %r" % (result.exports,))
  check(len(requests) == 1, "%d requests" % len(requests))
  check(any(line == "RETRY_WAIT_MS 30000" for line in result.lines), "no 30 s wait announced")


CASES = [
    every_field_arrives_as_set,
    gzip_on_the_wire,
    endpoint_variables,
    retry_after_seconds,
    retry_after_http_date,
    backoff_without_retry_after,
    other_statuses_are_not_retried,
    retries_are_bounded,
    chunked_partial_success,
    connection_handling,
    limits_and_deadlines,
    shutdown,
]


def main():
  return run_cases(CASES, trace_service_pb2.ExportTraceServiceRequest, __doc__)


if __name__ == "__main__":
  sys.exit(main())
