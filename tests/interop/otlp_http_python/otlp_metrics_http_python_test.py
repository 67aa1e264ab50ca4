#!/usr/bin/python3
"""tracebridge's OTLP metric exporter over OTLP/HTTP against an independent receiver.

The receiver is Python's own http.server (otlp_http_harness.py), decoding
every request with python3-protobuf and message classes generated from the
repository's OTLP protos (whose field numbers tests/otlp_js_metrics_interop_test
holds to upstream's). The sender is otlp_metrics_http_sender, which
configures the exporter from OTEL_EXPORTER_OTLP_[METRICS_]* as a user would
and exports a fixed recording. Each case checks what arrived (path,
headers, gzip, every field of the data points) and what the exporter
reported.

Exits 0 when every check holds; otherwise prints what failed and exits 1.
"""

import math
import sys
import time

from otlp_http_harness import (INVALID_ARGUMENT, OK, Reply, attributes, check, fast_retries,
                               run_cases)
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2

CUMULATIVE = metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE
DELTA = metrics_pb2.AGGREGATION_TEMPORALITY_DELTA
# Data points per export: the gRPC series (a histogram, five counters, a
# gauge, two statuses, two message-size histograms) and the HTTP one (a
# histogram, three counters, a gauge, one status).
POINTS = 11 + 6
GET = {"rpc.system.name": "grpc", "rpc.method": "shop.Orders/Get"}


def index(seconds):
  """The scale-5 bucket of a duration that is not a bucket boundary."""
  return math.ceil(math.log2(seconds) * 32) - 1


def metrics_of(request):
  check(len(request.resource_metrics) == 1, "%d ResourceMetrics" % len(request.resource_metrics))
  scopes = request.resource_metrics[0].scope_metrics
  check(len(scopes) == 1 and scopes[0].scope.name == "tracebridge", "scopes %r" % scopes)
  return {metric.name: metric for metric in scopes[0].metrics}


def point(metric, attrs):
  data = getattr(metric, metric.WhichOneof("data"))
  found = [p for p in data.data_points if attributes(p) == attrs]
  check(len(found) == 1, "%s: %d points with %r" % (metric.name, len(found), attrs))
  return found[0]


def base_env(h, **extra):
  return h.base_env(OTEL_EXPORTER_OTLP_METRICS_PROTOCOL="http/protobuf", **extra)


# ---- cases ----

def every_field_arrives_as_set(h):
  env = base_env(h, OTEL_EXPORTER_OTLP_HEADERS="x-generic=1",
                 OTEL_EXPORTER_OTLP_METRICS_HEADERS="Api-Key=s%3Dcret")
  before = time.time_ns()
  result, requests = h.run(env)
  after = time.time_ns()
  check([e[0] for e in result.exports] == [OK], "exports: %r" % result.exports)
  check(len(requests) == 1, "%d requests" % len(requests))
  r = requests[0]
  check(r.path == "/v1/metrics", "path %r: the generic endpoint gets /v1/metrics" % r.path)
  check(result.url == "http://127.0.0.1:%d/v1/metrics" % h.receiver.port, "url %r" % result.url)
  check(r.headers.get("content-type") == "application/x-protobuf", "content-type %r" %
        r.headers.get("content-type"))
  check(r.headers.get("api-key") == "s=cret" and "x-generic" not in r.headers,
        "the METRICS headers replace the generic ones: %r" % r.headers)
  check(r.headers.get("user-agent", "").startswith("tracebridge-otlp-exporter/"),
        "user-agent %r" % r.headers.get("user-agent"))
  resource = attributes(r.request.resource_metrics[0].resource)
  check(resource == {"service.name": "http-metrics-sender", "service.version": "4.0"},
        "resource %r" % resource)
  metrics = metrics_of(r.request)

  duration = metrics["rpc.server.call.duration"]
  check(duration.unit == "s" and duration.description, "duration %r" % duration.unit)
  check(duration.WhichOneof("data") == "exponential_histogram", "duration data %r" %
        duration.WhichOneof("data"))
  check(duration.exponential_histogram.aggregation_temporality == CUMULATIVE, "temporality")
  p = point(duration, GET)
  check(before - 60 * 10**9 < p.start_time_unix_nano <= p.time_unix_nano <= after,
        "times %d..%d outside the run %d..%d" % (p.start_time_unix_nano, p.time_unix_nano,
                                                 before, after))
  check(p.count == 3 and abs(p.sum - 0.006) < 1e-12, "count %d sum %r" % (p.count, p.sum))
  check(p.scale == 5 and p.zero_count == 0 and p.zero_threshold == 2.0 ** -20,
        "scale %d zero %d/%r" % (p.scale, p.zero_count, p.zero_threshold))
  low, high = index(0.0015), index(0.003)
  expected = [2] + [0] * (high - low - 1) + [1]
  check(p.positive.offset == low and list(p.positive.bucket_counts) == expected,
        "buckets %d %r, expected %d %r" % (p.positive.offset, list(p.positive.bucket_counts),
                                           low, expected))
  check(p.HasField("min") and p.HasField("max") and p.min == 0.0015 and p.max == 0.003,
        "min %r max %r" % (p.min, p.max))
  check(not p.HasField("negative") and not p.exemplars, "negative buckets or exemplars")

  started = metrics["rpc.server.calls.started"]
  check(started.sum.is_monotonic and started.sum.aggregation_temporality == CUMULATIVE and
        started.unit == "{call}", "started %r" % started)
  s = point(started, GET)
  check(s.WhichOneof("value") == "as_int" and s.as_int == 3, "started %r" % s)
  check(s.start_time_unix_nano == p.start_time_unix_nano, "start times differ")
  handled = metrics["rpc.server.calls.handled"]
  ok = point(handled, dict(GET, **{"rpc.response.status_code": "OK"}))
  failed = point(handled, dict(GET, **{"rpc.response.status_code": "UNAVAILABLE",
                                       "error.type": "UNAVAILABLE"}))
  check(ok.as_int == 2 and failed.as_int == 1, "handled %d/%d" % (ok.as_int, failed.as_int))
  check(point(metrics["rpc.server.messages.received"], GET).as_int == 3, "messages received")
  size = metrics["rpc.server.request.size"]
  sp = point(size, GET)
  check(size.unit == "By" and size.histogram.aggregation_temporality == CUMULATIVE and
        len(sp.explicit_bounds) == 34 and sp.explicit_bounds[0] == 0 and
        sp.explicit_bounds[-1] == 2.0 ** 32 and len(sp.bucket_counts) == 35,
        "request size %r" % size)
  in_flight = metrics["rpc.server.calls.in_flight"]
  check(in_flight.WhichOneof("data") == "gauge" and point(in_flight, GET).as_int == 0,
        "in flight %r" % in_flight)
  pay = point(metrics["http.client.requests.handled"],
              {"http.request.method": "POST", "http.route": "/pay",
               "http.response.status_code": 402, "error.type": "402"})
  check(pay.as_int == 1, "POST /pay %r" % pay)
  check(point(metrics["http.client.request.duration"],
              {"http.request.method": "POST", "http.route": "/pay"}).count == 1, "pay duration")
  check(result.stats == {"batches_exported": 1, "points_exported": POINTS, "batches_failed": 0,
                         "points_failed": 0, "retries": 0, "points_rejected": 0},
        "stats %r" % result.stats)


def gzip_on_the_wire(h):
  result, requests = h.run(base_env(h, OTEL_EXPORTER_OTLP_METRICS_COMPRESSION="gzip"))
  check(result.exports[0][0] == OK and len(requests) == 1, "export %r" % result.exports)
  r = requests[0]
  check(r.headers.get("content-encoding") == "gzip" and r.raw[:2] == b"\x1f\x8b",
        "content-encoding %r" % r.headers.get("content-encoding"))
  check(point(metrics_of(r.request)["rpc.server.calls.started"], GET).as_int == 3,
        "after gunzip")


def endpoint_variables(h):
  port = h.receiver.port
  cases = [
      ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:%d/base/" % port}, "/base/v1/metrics"),
      ({"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://127.0.0.1:%d/custom" % port,
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1/ignored"}, "/custom"),
      ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, "/v1/metrics"),
  ]
  for extra, path in cases:
    result, requests = h.run(base_env(h, **extra))
    check(len(requests) == 1 and requests[0].path == path,
          "%r: requests to %r, expected %r" % (extra, [r.path for r in requests], path))
    check(result.exports[0][0] == OK, "%r: export %r" % (extra, result.exports))


def retry_after(h):
  replies = [Reply(503, headers=[("Retry-After", "1")]), Reply(200)]
  result, requests = h.run(base_env(h), fast_retries(), replies)
  check(result.exports[0][0] == OK and len(requests) == 2, "export %r, %d requests" %
        (result.exports, len(requests)))
  gap = requests[1].arrival - requests[0].arrival
  check(gap >= 0.95, "retried after %.3fs; Retry-After asked for 1s" % gap)
  check(result.stats["retries"] == 1 and result.stats["points_exported"] == POINTS,
        "stats %r" % result.stats)


def not_retried_and_partial_success(h):
  result, requests = h.run(base_env(h), fast_retries(), [Reply(400)] * 3)
  check(len(requests) == 1 and result.exports[0][0] == INVALID_ARGUMENT,
        "HTTP 400: %d requests, export %r" % (len(requests), result.exports))
  check(result.stats["points_failed"] == POINTS, "stats %r" % result.stats)
  response = metrics_service_pb2.ExportMetricsServiceResponse()
  response.partial_success.rejected_data_points = 4
  response.partial_success.error_message = "4 points out of order"
  result, _ = h.run(base_env(h), [], [Reply(200, body=response.SerializeToString())])
  check(result.exports[0][0] == OK and result.stats["points_rejected"] == 4 and
        result.partial == "4 points out of order", "stats %r partial %r" %
        (result.stats, result.partial))


def delta_temporality(h):
  env = base_env(h, OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE="delta")
  result, requests = h.run(env, ["--exports=2"])
  check([e[0] for e in result.exports] == [OK, OK] and len(requests) == 2,
        "exports %r" % result.exports)
  first, second = (metrics_of(r.request) for r in requests)
  started = second["rpc.server.calls.started"]
  check(started.sum.aggregation_temporality == DELTA and started.sum.is_monotonic, "temporality")
  s1 = point(first["rpc.server.calls.started"], GET)
  s2 = point(started, GET)
  check(s1.as_int == 3 and s2.as_int == 1, "started %d then %d" % (s1.as_int, s2.as_int))
  check(s2.start_time_unix_nano == s1.time_unix_nano, "the second interval starts where the "
        "first ended: %d vs %d" % (s2.start_time_unix_nano, s1.time_unix_nano))
  d = point(second["rpc.server.call.duration"], GET)
  check(second["rpc.server.call.duration"].exponential_histogram.aggregation_temporality == DELTA
        and d.count == 1 and d.positive.offset == index(0.0015) and
        list(d.positive.bucket_counts) == [1], "delta histogram %r" % d)
  check(point(second["rpc.server.calls.in_flight"], GET).as_int == 0, "in flight stays a gauge")


CASES = [
    every_field_arrives_as_set,
    gzip_on_the_wire,
    endpoint_variables,
    retry_after,
    not_retried_and_partial_success,
    delta_temporality,
]


def main():
  return run_cases(CASES, metrics_service_pb2.ExportMetricsServiceRequest, __doc__)


if __name__ == "__main__":
  sys.exit(main())
