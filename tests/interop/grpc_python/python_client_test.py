#!/usr/bin/python3
"""A gRPC client that is not ours against a tracebridge-instrumented server.

Debian's python3-grpcio starts traced_echo_server, calls Echo/Unary with and
without a W3C traceparent (and with a malformed one, and once asking for an
INTERNAL failure), checks the x-trace-id response header, then reads the calls
back through tracebridge.v1.Query on the server's admin listener: GetMetrics
counts, ListSpans (by trace, errors only, paging, bad requests) and
GetServiceInfo. The business port does not serve the query service
(UNIMPLEMENTED), and the admin listener, started with a bearer token, refuses
gRPC calls and HTTP /metrics requests without it or with another one.

Exits 0 when every check holds; otherwise prints what failed and exits 1.
Every wait is bounded; the server is stopped (stdin closed, then killed if it
lingers) whatever happens.
"""

import argparse
import os
import queue
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import grpc

import echo_pb2
import query_pb2

RPC_TIMEOUT = 10.0  # seconds, per call
START_TIMEOUT = 30.0  # server start-up, generous for sanitizer builds
STOP_TIMEOUT = 10.0

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN_ID = "00f067aa0ba902b7"
FAILING_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
FAILING_PARENT_SPAN_ID = "b7ad6b7169203331"

METHOD_PREFIX = "tracebridge.testing.Echo/"
UNARY = "tracebridge.testing.Echo/Unary"
STATUS_OK = 0
STATUS_INTERNAL = 13

HEX32 = re.compile(r"^[0-9a-f]{32}$")

# The admin listener's bearer token (the server is started with it).
ADMIN_TOKEN = "python-interop-0123456789abcdef"


class CheckFailed(Exception):
  pass


def check(condition, message):
  if not condition:
    raise CheckFailed(message)


def start_server(path):
  """Starts the server; returns (process, port, admin gRPC port, admin HTTP port)."""
  env = dict(os.environ)
  process = subprocess.Popen([path, "--admin_token=" + ADMIN_TOKEN], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=env)
  lines = queue.Queue()

  def read_stdout():
    for line in process.stdout:
      lines.put(line.decode("utf-8", "replace").strip())
    lines.put(None)

  threading.Thread(target=read_stdout, daemon=True).start()
  try:
    first = lines.get(timeout=START_TIMEOUT)
  except queue.Empty:
    raise CheckFailed("server printed no PORT line within %.0fs" % START_TIMEOUT)
  match = re.match(r"^PORT (\d+) ADMIN_GRPC (\d+) ADMIN_HTTP (\d+)$", first or "")
  check(match is not None,
        "server's first line is %r, expected 'PORT <n> ADMIN_GRPC <n> ADMIN_HTTP <n>'" % first)
  return process, int(match.group(1)), int(match.group(2)), int(match.group(3))


def stop_server(process):
  """Closes stdin and waits; kills the server if it does not stop in time."""
  if process.poll() is not None:
    return process.returncode
  try:
    process.stdin.close()
  except OSError:
    pass
  try:
    return process.wait(timeout=STOP_TIMEOUT)
  except subprocess.TimeoutExpired:
    process.kill()
    process.wait(timeout=STOP_TIMEOUT)
    raise CheckFailed("server did not exit within %.0fs of stdin closing" % STOP_TIMEOUT)


def with_metadata(method, metadata):
  """`method` with `metadata` added to every call."""
  def call(request, **kwargs):
    return method(request, metadata=metadata, **kwargs)
  return call


def query_methods(channel):
  """tracebridge.v1.Query's methods on `channel`, by name."""
  return {
      "get_metrics": channel.unary_unary(
          "/tracebridge.v1.Query/GetMetrics",
          request_serializer=query_pb2.GetMetricsRequest.SerializeToString,
          response_deserializer=query_pb2.GetMetricsResponse.FromString),
      "list_spans": channel.unary_unary(
          "/tracebridge.v1.Query/ListSpans",
          request_serializer=query_pb2.ListSpansRequest.SerializeToString,
          response_deserializer=query_pb2.ListSpansResponse.FromString),
      "get_service_info": channel.unary_unary(
          "/tracebridge.v1.Query/GetServiceInfo",
          request_serializer=query_pb2.GetServiceInfoRequest.SerializeToString,
          response_deserializer=query_pb2.ServiceInfo.FromString),
  }


class Client:
  """The methods the test calls, named by path (no generated stubs): Echo on
  the business channel, the query service on the admin channel, with the
  admin token."""

  def __init__(self, channel, admin_channel):
    self.unary = channel.unary_unary(
        "/tracebridge.testing.Echo/Unary",
        request_serializer=echo_pb2.EchoRequest.SerializeToString,
        response_deserializer=echo_pb2.EchoResponse.FromString)
    token = [("authorization", "Bearer " + ADMIN_TOKEN)]
    for name, method in query_methods(admin_channel).items():
      setattr(self, name, with_metadata(method, token))


def expect_code(code, description, call):
  """`call()` must fail with `code`."""
  try:
    call()
  except grpc.RpcError as error:
    check(error.code() == code, "%s: expected %s, got %s (%s)" %
          (description, code, error.code(), error.details()))
    return
  raise CheckFailed("%s: expected %s, the call succeeded" % (description, code))


def check_query_is_not_public(channel, admin_channel):
  """The business port has no query service; the admin listener wants the
  token over gRPC and over HTTP."""
  business = query_methods(channel)
  expect_code(grpc.StatusCode.UNIMPLEMENTED, "GetMetrics on the business port",
              lambda: business["get_metrics"](query_pb2.GetMetricsRequest(),
                                              timeout=RPC_TIMEOUT))
  expect_code(grpc.StatusCode.UNIMPLEMENTED, "ListSpans on the business port",
              lambda: business["list_spans"](query_pb2.ListSpansRequest(), timeout=RPC_TIMEOUT))
  admin = query_methods(admin_channel)
  for description, metadata in (("no token", []),
                                ("a wrong token", [("authorization", "Bearer not-the-token")]),
                                ("a truncated token", [("authorization",
                                                        "Bearer " + ADMIN_TOKEN[:-1])]),
                                ("another scheme", [("authorization", "Basic " + ADMIN_TOKEN)])):
    expect_code(grpc.StatusCode.UNAUTHENTICATED, "ListSpans on the admin port with " + description,
                lambda: admin["list_spans"](query_pb2.ListSpansRequest(), metadata=metadata,
                                            timeout=RPC_TIMEOUT))


def check_admin_http(admin_http_port):
  """/metrics on the admin listener: 401 without the token or with another,
  200 with it."""
  url = "http://127.0.0.1:%d/metrics" % admin_http_port
  for description, headers, expected in (
      ("no token", {}, 401),
      ("a wrong token", {"Authorization": "Bearer not-the-token"}, 401),
      ("the token", {"Authorization": "Bearer " + ADMIN_TOKEN}, 200)):
    request = urllib.request.Request(url, headers=headers)
    try:
      with urllib.request.urlopen(request, timeout=RPC_TIMEOUT) as response:
        status, body = response.status, response.read().decode()
        challenge = None
    except urllib.error.HTTPError as error:
      status, body = error.code, error.read().decode()
      challenge = error.headers.get("WWW-Authenticate")
    check(status == expected, "GET /metrics with %s: HTTP %d, expected %d" %
          (description, status, expected))
    if expected == 401:
      check(challenge is not None and challenge.startswith("Bearer"),
            "401 without a Bearer challenge: %r" % challenge)
    else:
      check("rpc_server_call_duration_seconds" in body,
            "GET /metrics with the token: no rpc_server_call_duration_seconds in the body")


def trace_id_header(call):
  values = [v for k, v in (call.initial_metadata() or ()) if k == "x-trace-id"]
  check(len(values) == 1, "expected one x-trace-id header, got %r" % values)
  return values[0]


def attributes(span):
  result = {}
  for attribute in span.attributes:
    result[attribute.key] = getattr(attribute, attribute.WhichOneof("value"))
  return result


def list_spans(client, **fields):
  return client.list_spans(query_pb2.ListSpansRequest(**fields), timeout=RPC_TIMEOUT)


def expect_invalid_argument(client, description, **fields):
  try:
    list_spans(client, **fields)
  except grpc.RpcError as error:
    check(error.code() == grpc.StatusCode.INVALID_ARGUMENT,
          "%s: expected INVALID_ARGUMENT, got %s (%s)" %
          (description, error.code(), error.details()))
    return
  raise CheckFailed("%s: expected INVALID_ARGUMENT, the call succeeded" % description)


def run(client):
  """Makes the calls, then checks what the server says about them."""
  # Status code → how many Unary calls ended with it.
  made = {STATUS_OK: 0, STATUS_INTERNAL: 0}

  # 1. A caller's trace: the server joins it and reports its trace id.
  traceparent = "00-%s-%s-01" % (TRACE_ID, PARENT_SPAN_ID)
  response, call = client.unary.with_call(
      echo_pb2.EchoRequest(message="traced"), metadata=[("traceparent", traceparent)],
      timeout=RPC_TIMEOUT)
  made[STATUS_OK] += 1
  check(response.message == "traced", "echo returned %r" % response.message)
  check(trace_id_header(call) == TRACE_ID,
        "x-trace-id is %r, expected the trace id sent (%s)" % (trace_id_header(call), TRACE_ID))

  # 2. No context: the server starts a trace of its own.
  _, call = client.unary.with_call(echo_pb2.EchoRequest(message="untraced"),
                                   timeout=RPC_TIMEOUT)
  made[STATUS_OK] += 1
  fresh_trace_id = trace_id_header(call)
  check(HEX32.match(fresh_trace_id) and fresh_trace_id != TRACE_ID,
        "x-trace-id of a call without context is %r" % fresh_trace_id)

  # 3. A malformed traceparent (uppercase hex is not W3C) is ignored, never
  # an error: a new trace again.
  malformed = "00-%s-%s-01" % (TRACE_ID.upper(), PARENT_SPAN_ID)
  _, call = client.unary.with_call(echo_pb2.EchoRequest(message="malformed"),
                                   metadata=[("traceparent", malformed)], timeout=RPC_TIMEOUT)
  made[STATUS_OK] += 1
  malformed_trace_id = trace_id_header(call)
  check(HEX32.match(malformed_trace_id) and
        malformed_trace_id not in (TRACE_ID, fresh_trace_id),
        "x-trace-id after a malformed traceparent is %r" % malformed_trace_id)

  # 4. A failing call, in a trace of its own so it can be found again.
  failing_parent = "00-%s-%s-01" % (FAILING_TRACE_ID, FAILING_PARENT_SPAN_ID)
  try:
    client.unary(echo_pb2.EchoRequest(message="fail", status_code=STATUS_INTERNAL),
                 metadata=[("traceparent", failing_parent)], timeout=RPC_TIMEOUT)
    raise CheckFailed("the call asking for INTERNAL succeeded")
  except grpc.RpcError as error:
    check(error.code() == grpc.StatusCode.INTERNAL,
          "the failing call ended with %s, expected INTERNAL" % error.code())
  made[STATUS_INTERNAL] += 1

  # 5. A few more plain calls, so the counts are not all ones.
  for i in range(3):
    client.unary(echo_pb2.EchoRequest(message="more %d" % i), timeout=RPC_TIMEOUT)
    made[STATUS_OK] += 1
  total_calls = sum(made.values())

  # Metrics. The server records a call before it sends the status, so the
  # counts are final once the calls above have returned.
  metrics = client.get_metrics(
      query_pb2.GetMetricsRequest(protocol=query_pb2.PROTOCOL_GRPC, side=query_pb2.SIDE_SERVER,
                                  name_prefix=METHOD_PREFIX),
      timeout=RPC_TIMEOUT)
  check(metrics.service_name == "echo-server",
        "GetMetrics service_name is %r" % metrics.service_name)
  by_name = {s.name: s for s in metrics.series}
  check(UNARY in by_name, "no %s series in GetMetrics: %r" % (UNARY, sorted(by_name)))
  for series in metrics.series:
    check(series.protocol == query_pb2.PROTOCOL_GRPC and series.side == query_pb2.SIDE_SERVER,
          "filter let through %s (protocol %d, side %d)" %
          (series.name, series.protocol, series.side))
    check(series.name.startswith(METHOD_PREFIX), "filter let through %s" % series.name)
    if series.name != UNARY:
      check(series.count == 0, "%s counted %d calls; none were made" %
            (series.name, series.count))
  unary = by_name[UNARY]
  check(unary.service == "tracebridge.testing.Echo" and unary.method == "Unary",
        "series service/method are %r/%r" % (unary.service, unary.method))
  check(unary.count == total_calls, "count is %d, expected %d" % (unary.count, total_calls))
  check(unary.started == total_calls,
        "started is %d, expected %d" % (unary.started, total_calls))
  check(unary.errors == made[STATUS_INTERNAL],
        "errors is %d, expected %d" % (unary.errors, made[STATUS_INTERNAL]))
  check(unary.in_flight == 0, "in_flight is %d" % unary.in_flight)
  codes = {c.code: c.count for c in unary.status_codes if c.count}
  check(codes == made, "status codes are %r, expected %r" % (codes, made))
  check(unary.messages_received == total_calls and unary.messages_sent == made[STATUS_OK],
        "messages received/sent are %d/%d, expected %d/%d" %
        (unary.messages_received, unary.messages_sent, total_calls, made[STATUS_OK]))

  # ListSpans by the caller's trace: the one server span, child of the
  # caller's span.
  spans = list_spans(client, trace_id=TRACE_ID).spans
  check(len(spans) == 1, "ListSpans(trace_id) returned %d spans, expected 1" % len(spans))
  span = spans[0]
  check(span.trace_id == TRACE_ID, "span trace_id is %r" % span.trace_id)
  check(span.parent_span_id == PARENT_SPAN_ID,
        "span parent_span_id is %r, expected %s" % (span.parent_span_id, PARENT_SPAN_ID))
  check(span.kind == "server", "span kind is %r" % span.kind)
  check(span.name == UNARY, "span name is %r" % span.name)
  check(span.service_name == "echo-server", "span service_name is %r" % span.service_name)
  check(span.status != "error", "span status is %r" % span.status)
  attrs = attributes(span)
  for key, value in (("rpc.system", "grpc"), ("rpc.service", "tracebridge.testing.Echo"),
                     ("rpc.method", "Unary"), ("rpc.grpc.status_code", STATUS_OK)):
    check(attrs.get(key) == value, "attribute %s is %r, expected %r" % (key, attrs.get(key), value))

  # The calls without a usable context are roots of new traces.
  for trace_id in (fresh_trace_id, malformed_trace_id):
    spans = list_spans(client, trace_id=trace_id).spans
    check(len(spans) == 1 and spans[0].parent_span_id == "",
          "trace %s: expected one root span, got %r" %
          (trace_id, [(s.name, s.parent_span_id) for s in spans]))

  # errors_only finds the failing call and nothing else.
  spans = list_spans(client, errors_only=True).spans
  check(len(spans) == 1, "errors_only returned %d spans, expected 1" % len(spans))
  check(spans[0].trace_id == FAILING_TRACE_ID and
        spans[0].parent_span_id == FAILING_PARENT_SPAN_ID,
        "errors_only returned trace %s parent %s" % (spans[0].trace_id, spans[0].parent_span_id))
  check(spans[0].status == "error", "failing span status is %r" % spans[0].status)
  check(attributes(spans[0]).get("rpc.grpc.status_code") == STATUS_INTERNAL,
        "failing span rpc.grpc.status_code is %r" %
        attributes(spans[0]).get("rpc.grpc.status_code"))

  # Bad requests.
  expect_invalid_argument(client, "page_size=5000", page_size=5000)
  expect_invalid_argument(client, "page_size=-1", page_size=-1)
  expect_invalid_argument(client, "trace_id='xyz'", trace_id="xyz")
  expect_invalid_argument(client, "uppercase trace_id", trace_id=TRACE_ID.upper())
  expect_invalid_argument(client, "all-zero trace_id", trace_id="0" * 32)
  expect_invalid_argument(client, "page_token='bogus'", page_token="bogus")

  # Paging one span at a time visits every span exactly once. The query
  # service itself is not traced, so the store holds only the Echo calls.
  everything = list_spans(client, page_size=1000)
  check(not everything.next_page_token, "one page of 1000 left a next_page_token")
  all_ids = [s.span_id for s in everything.spans]
  check(len(all_ids) == total_calls,
        "the store holds %d spans, expected %d (one per call)" % (len(all_ids), total_calls))
  walked = []
  token = ""
  for _ in range(total_calls + 2):  # bounded: one page per span, plus slack
    page = list_spans(client, page_size=1, page_token=token)
    check(len(page.spans) <= 1, "page_size=1 returned %d spans" % len(page.spans))
    walked.extend(s.span_id for s in page.spans)
    token = page.next_page_token
    if not token:
      break
  check(not token, "paging did not end after %d pages" % (total_calls + 2))
  check(len(walked) == len(set(walked)), "paging returned a span twice: %r" % walked)
  check(sorted(walked) == sorted(all_ids),
        "paging visited %d spans, the store holds %d" % (len(walked), len(all_ids)))

  # Who the server says it is.
  info = client.get_service_info(query_pb2.GetServiceInfoRequest(), timeout=RPC_TIMEOUT)
  check(info.service_name == "echo-server", "GetServiceInfo service_name is %r" % info.service_name)
  check(list(info.propagators) == ["tracecontext", "baggage"],
        "GetServiceInfo propagators are %r" % list(info.propagators))
  check(info.library_version != "", "GetServiceInfo library_version is empty")
  check(info.pipeline.spans_ended >= total_calls,
        "pipeline spans_ended is %d, expected at least %d" %
        (info.pipeline.spans_ended, total_calls))
  return total_calls


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--server", required=True, help="the traced_echo_server binary")
  args = parser.parse_args()

  process = None
  try:
    process, port, admin_grpc_port, admin_http_port = start_server(args.server)
    with grpc.insecure_channel("127.0.0.1:%d" % port) as channel, \
        grpc.insecure_channel("127.0.0.1:%d" % admin_grpc_port) as admin_channel:
      grpc.channel_ready_future(channel).result(timeout=RPC_TIMEOUT)
      grpc.channel_ready_future(admin_channel).result(timeout=RPC_TIMEOUT)
      calls = run(Client(channel, admin_channel))
      check_query_is_not_public(channel, admin_channel)
      check_admin_http(admin_http_port)
    code = stop_server(process)
    check(code == 0, "server exited with %d" % code)
  except CheckFailed as failure:
    print("FAIL: %s" % failure, file=sys.stderr)
    return 1
  except grpc.RpcError as error:
    print("FAIL: unexpected RPC error %s: %s" % (error.code(), error.details()), file=sys.stderr)
    return 1
  except grpc.FutureTimeoutError:
    print("FAIL: could not connect to the server within %.0fs" % RPC_TIMEOUT, file=sys.stderr)
    return 1
  finally:
    if process is not None and process.poll() is None:
      process.kill()
      process.wait(timeout=STOP_TIMEOUT)
  print("PASS: python3-grpcio %s made %d Echo calls; traceparent, x-trace-id, GetMetrics, "
        "ListSpans and GetServiceInfo all agree; the query service is only on the admin "
        "listener, behind its token (gRPC and HTTP)" % (grpc.__version__, calls))
  return 0


if __name__ == "__main__":
  sys.exit(main())
