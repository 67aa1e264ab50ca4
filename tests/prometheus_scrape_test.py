#!/usr/bin/python3
"""A real Prometheus scrapes the demo's three services and counts what the test sent.

Starts the example services (inventory, orders, gateway) as the demo does,
sends a known mix of requests through the gateway, then starts Debian's
Prometheus server on loopback with a generated config that scrapes every
service's admin listener (/metrics on a loopback port of its own, announced
on the service's LISTENING line) every second. Once the first scrape of each
is in, queries through Prometheus' HTTP API must return exactly the counts
the test produced: the gateway's per route and status code and the gRPC calls
it made, the orders service's calls served and made to inventory, and the
inventory service's calls served. The gateway's public port does not serve
/metrics.

Prometheus runs with --enable-feature=exemplar-storage, so it negotiates
OpenMetrics and keeps the exemplars on the duration histograms:
/api/v1/query_exemplars must return trace ids for the routes the test
called, each one of the traces the gateway answered with (X-Trace-ID), and
each resolves at /traces/:id on the gateway's admin listener.

With --metrics_naming=grpc_prometheus the services are started with that
flag, and the gRPC checks go through go-grpc-prometheus' names
(grpc_server_handled_total{grpc_code="NotFound"}, ...). Either way the test
then sends the traffic a second time while Prometheus scrapes, and runs the
queries a well-known dashboard for the naming runs: request and error rates,
histogram_quantile over the duration buckets, an `le` SLO ratio, messages
per stream.

Usage: prometheus_scrape_test.py <gateway> <orders> <inventory> [--metrics_naming=NAME]
Every process the test starts is killed when it ends, pass or fail.
"""

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

PROMETHEUS = "/usr/bin/prometheus"
# Bounds on waits for things that should happen within a few seconds;
# reaching one is a failure, not a timing measurement.
START_TIMEOUT = 30
SCRAPE_TIMEOUT = 60
STOP_TIMEOUT = 10

# The traffic: (method, path, body, expected status). The gateway answers
# GET /orders/:id from the orders service (orders 1-3 exist), and POST /orders
# by reserving stock in inventory ("broken" makes inventory fail).
TRAFFIC = (
    [("GET", "/orders/1", None, 200)] * 3
    + [("GET", "/orders/2", None, 200)]
    + [("GET", "/orders/999", None, 404)] * 2
    + [("POST", "/orders", "sku-101:1", 201)] * 2
    + [("POST", "/orders", "broken:1", 503)]
)
ROUTES = {"GET": "/orders/:id", "POST": "/orders"}
# The gRPC method behind each route, and the status code behind each HTTP one.
GRPC_METHODS = {"GET": "GetOrder", "POST": "CreateOrder"}
GRPC_CODES = {200: 0, 201: 0, 404: 5, 503: 14}
# The inventory call orders makes for each answer: an existing order streams
# its stock (WatchStock), an unknown one makes no call, an order of one line
# reserves it (Reserve), failing for the "broken" SKU.
INVENTORY_CALLS = {200: ("WatchStock", 0), 404: None, 201: ("Reserve", 0),
                   503: ("Reserve", 14)}
SERVICES = ("gateway", "orders", "inventory")


class GrpcNaming:
    """How a metrics naming spells the gRPC figures the test queries, and the
    PromQL a well-known dashboard for those names runs."""

    def __init__(self, name, handled, started, duration, msg_sent, code_label, codes,
                 method_label, service_selector, method_of, errors, unary_selector):
        self.name = name
        self.handled = handled      # format with side=server|client
        self.started = started
        self.duration = duration    # the histogram family
        self.msg_sent = msg_sent
        self.code_label = code_label
        self.codes = codes          # gRPC code -> label value
        self.method_label = method_label
        self.service_selector = service_selector  # service -> label matcher
        self.method_of = method_of  # method label value -> method name
        self.errors = errors        # matcher of failed calls
        self.unary_selector = unary_selector

    def calls(self, prometheus_port, job, side, service):
        """{(method, code label): count} of `job`'s handled `side` calls of `service`."""
        result = query(prometheus_port, (
            f"sum by ({self.method_label}, {self.code_label}) "
            f'({self.handled.format(side=side)}{{job="{job}",{self.service_selector(service)}}})'))
        return {(self.method_of(method), code): count for (method, code), count in
                by_labels(result, self.method_label, self.code_label).items()}

    def expected(self, pairs):
        """count_by of (method, gRPC code) pairs, codes spelled as this naming does."""
        return count_by((method, self.codes[code]) for method, code in pairs)


GRPC_NAMES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
              "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
              "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
              "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"]
# grpc-go's codes.Code.String(), which go-grpc-prometheus puts in grpc_code.
GO_GRPC_NAMES = ["OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
                 "AlreadyExists", "PermissionDenied", "ResourceExhausted",
                 "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal",
                 "Unavailable", "DataLoss", "Unauthenticated"]

NAMINGS = {
    # The OpenTelemetry semantic conventions (v1.44): a fully qualified
    # rpc_method, status codes as names, error_type on failed calls.
    "otel": GrpcNaming(
        "otel", handled="rpc_{side}_calls_handled_total",
        started="rpc_{side}_calls_started_total", duration="rpc_{side}_call_duration_seconds",
        msg_sent="rpc_{side}_messages_sent_total", code_label="rpc_response_status_code",
        codes=dict(enumerate(GRPC_NAMES)), method_label="rpc_method",
        service_selector=lambda service: f'rpc_method=~"{service}/.*"',
        method_of=lambda method: method.split("/", 1)[1], errors='error_type!=""',
        unary_selector=""),
    # go-grpc-prometheus, so its dashboards (and its README's queries) apply.
    "grpc_prometheus": GrpcNaming(
        "grpc_prometheus", handled="grpc_{side}_handled_total",
        started="grpc_{side}_started_total", duration="grpc_{side}_handling_seconds",
        msg_sent="grpc_{side}_msg_sent_total", code_label="grpc_code",
        codes=dict(enumerate(GO_GRPC_NAMES)), method_label="grpc_method",
        service_selector=lambda service: f'grpc_service="{service}"',
        method_of=lambda method: method, errors='grpc_code!="OK"',
        unary_selector='grpc_type="unary"'),
}


class Failure(Exception):
    pass


class Service:
    """A child process with its stderr in a log file. It stays in the test's
    process group, so that Bazel killing the test on a timeout kills it too."""

    def __init__(self, name, argv, log_path, stdin=True):
        self.name = name
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=log)
        self.pending = b""

    def read_listening(self, what, timeout=START_TIMEOUT):
        """(port, admin HTTP host:port) of the child's
        "LISTENING <what> <port> admin_http=<host:port> admin_grpc=<host:port>" line."""
        prefix = f"LISTENING {what} ".encode()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while True:
                while b"\n" in self.pending:
                    line, self.pending = self.pending.split(b"\n", 1)
                    if line.startswith(prefix):
                        fields = line.decode().split()
                        admin = dict(field.split("=", 1) for field in fields[3:])
                        return int(fields[2]), admin["admin_http"]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"{self.name}: no '{prefix.decode()}' line in {timeout}s;"
                                  f" log:\n{self.log()}")
                if not selector.select(left):
                    continue
                chunk = os.read(self.process.stdout.fileno(), 4096)
                if not chunk:
                    raise Failure(f"{self.name} exited before listening; log:\n{self.log()}")
                self.pending += chunk

    def log(self):
        try:
            with open(self.log_path, errors="replace") as log:
                return log.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        """Ends the child, killing it if it is still there after STOP_TIMEOUT.
        Closing stdin asks our services to exit; Prometheus gets SIGTERM."""
        if self.process.stdin:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        elif self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            print(f"{self.name} did not stop within {STOP_TIMEOUT}s; killing it")
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


def free_port():
    """A loopback port nothing listens on now (Prometheus cannot report the
    port it would pick itself, so the test chooses one)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=10, headers=None):
    """(status, body) of one request; HTTP errors are answers, not failures.
    `headers`, if given, is a dict that receives the response headers (names
    lowercased)."""
    request = urllib.request.Request(url, data=body.encode() if body is not None else None,
                                     method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if headers is not None:
                headers.update((k.lower(), v) for k, v in response.headers.items())
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        if headers is not None:
            headers.update((k.lower(), v) for k, v in error.headers.items())
        return error.code, error.read().decode()


def poll(ready, timeout, what):
    """Calls `ready` until it returns a true value, which it returns; fails
    after `timeout`. For state that offers no notification (another process'
    readiness), polled in short slices."""
    deadline = time.monotonic() + timeout
    last_error = None
    pause = threading.Event()  # never set: a timed pause between polls
    while time.monotonic() < deadline:
        try:
            value = ready()
            if value:
                return value
        except (OSError, ValueError) as error:  # not up yet
            last_error = error
        pause.wait(0.1)
    raise Failure(f"{what} not within {timeout}s (last error: {last_error})")


def query(prometheus_port, promql):
    """The instant-query result vector of `promql`."""
    url = (f"http://127.0.0.1:{prometheus_port}/api/v1/query?"
           + urllib.parse.urlencode({"query": promql}))
    status, body = http("GET", url)
    if status != 200:
        raise Failure(f"query {promql!r}: HTTP {status}: {body}")
    answer = json.loads(body)
    if answer.get("status") != "success" or answer["data"]["resultType"] != "vector":
        raise Failure(f"query {promql!r}: {body}")
    return answer["data"]["result"]


def by_labels(result, *labels):
    """{(label values...): int value} of a query result."""
    return {tuple(sample["metric"].get(label, "") for label in labels): int(sample["value"][1])
            for sample in result}


def write_config(path, admin_http):
    """Scrapes each service's admin listener, `admin_http[service]`, as job
    tracebridge-<service>."""
    jobs = "".join(f"""  - job_name: tracebridge-{service}
    metrics_path: /metrics
    static_configs:
      - targets: ["{admin_http[service]}"]
""" for service in SERVICES)
    with open(path, "w") as config:
        config.write(f"""# Generated by tests/prometheus_scrape_test.py
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
{jobs}""")


def count_by(pairs):
    """{key: how many times it occurs} of an iterable of keys."""
    counts = {}
    for key in pairs:
        counts[key] = counts.get(key, 0) + 1
    return counts


def start_prometheus(tmp, config_path, services):
    """Starts Prometheus on a free loopback port and waits until it is ready.
    A port taken between choosing and binding is retried (a few times)."""
    for attempt in range(3):
        port = free_port()
        prometheus = Service(
            "prometheus",
            [PROMETHEUS, f"--config.file={config_path}",
             "--enable-feature=exemplar-storage",
             f"--storage.tsdb.path={tmp}/prometheus-data-{attempt}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            f"{tmp}/prometheus-{attempt}.log", stdin=False)
        services.append(prometheus)

        def ready():
            if prometheus.process.poll() is not None:
                raise Failure(f"prometheus exited ({prometheus.process.returncode});"
                              f" log:\n{prometheus.log()}")
            return http("GET", f"http://127.0.0.1:{port}/-/ready", timeout=2)[0] == 200

        try:
            poll(ready, START_TIMEOUT, "Prometheus ready")
            return port
        except Failure as failure:
            if "address already in use" not in str(failure) or attempt == 2:
                raise
    raise AssertionError("unreachable")


def query_exemplars(prometheus_port, promql):
    """[(series labels, exemplar labels)] of /api/v1/query_exemplars over the
    last hour."""
    now = time.time()
    url = (f"http://127.0.0.1:{prometheus_port}/api/v1/query_exemplars?"
           + urllib.parse.urlencode({"query": promql, "start": now - 3600, "end": now + 60}))
    status, body = http("GET", url)
    if status != 200:
        raise Failure(f"query_exemplars {promql!r}: HTTP {status}: {body}")
    answer = json.loads(body)
    if answer.get("status") != "success":
        raise Failure(f"query_exemplars {promql!r}: {body}")
    return [(series["seriesLabels"], exemplar["labels"])
            for series in answer["data"] for exemplar in series["exemplars"]]


def check_exemplars(prometheus_port, base, routes, trace_ids, naming, check):
    server = poll(lambda: query_exemplars(
        prometheus_port, f"http_server_request_duration_seconds_bucket{{{routes}}}"),
        SCRAPE_TIMEOUT, "exemplars of the gateway's routes")
    client = query_exemplars(
        prometheus_port, naming.duration.format(side="client") + "_bucket{"
        + naming.service_selector("tracebridge.examples.Orders") + "}")
    check(client, "no exemplars on the gateway's gRPC client histogram")
    exemplar_routes = {labels.get("http_route") for labels, _ in server}
    check(exemplar_routes == {"/orders", "/orders/:id"},
          f"exemplars for routes {exemplar_routes}, expected both routes")
    seen = set()
    for series, exemplar in server + client:
        trace_id, span_id = exemplar.get("trace_id", ""), exemplar.get("span_id", "")
        check(len(trace_id) == 32 and len(span_id) == 16,
              f"exemplar labels {exemplar} on {series}")
        # Every exemplar is a call of the test's own requests...
        check(trace_id in trace_ids, f"exemplar trace {trace_id} is not one the test sent")
        seen.add((trace_id, span_id))
    # ...and its trace, with that very span, is at the gateway admin listener's /traces/:id
    # (the span store is fed by the batch processor: wait for it).
    for trace_id, span_id in sorted(seen):
        def stored():
            status, body = http("GET", f"{base}/traces/{trace_id}")
            if status == 404:
                return None
            if status != 200:
                raise Failure(f"/traces/{trace_id}: HTTP {status}: {body}")
            return json.loads(body)
        trace = poll(stored, SCRAPE_TIMEOUT, f"trace {trace_id} at the gateway")
        span_ids = {span.get("span_id") for span in trace["spans"]}
        check(span_id in span_ids, f"span {span_id} not in trace {trace_id}: {span_ids}")
    print(f"exemplars: {len(seen)} distinct, every one resolves to its trace and span")


def send_traffic(base, trace_ids):
    """Sends TRAFFIC through the gateway, checking each answer, and adds the
    X-Trace-ID of each to `trace_ids`."""
    seen = set()
    for method, path, body, expected in TRAFFIC:
        headers = {}
        status, text = http(method, base + path, body, headers=headers)
        if status != expected:
            raise Failure(f"{method} {path}: {status} (expected {expected}): {text}")
        seen.add(headers.get("x-trace-id", ""))
    if "" in seen or len(seen) != len(TRAFFIC):
        raise Failure(f"not one X-Trace-ID per request: {sorted(seen)}")
    trace_ids.update(seen)


def value_of(result):
    """The one value of an instant query's result, or None."""
    return float(result[0]["value"][1]) if len(result) == 1 else None


def check_dashboard_queries(prometheus_port, naming, check):
    """The PromQL of a well-known dashboard for `naming`, over a window that
    holds the second round of traffic: every panel has data, and the
    figures agree with what the test sent."""
    n = naming
    unary = f"{{{n.unary_selector}}}" if n.unary_selector else ""
    server_started = n.started.format(side="server")
    rates = by_labels_float(query(prometheus_port, (
        f"sum(rate({server_started}{unary}[1m])) by (grpc_service)"
        if n.name == "grpc_prometheus" else
        f"sum(rate({server_started}[1m])) by (rpc_method)")),
        "grpc_service" if n.name == "grpc_prometheus" else "rpc_method")
    check(rates and all(rate > 0 for rate in rates.values()),
          f"{n.name}: request rate per service/method: {rates}")
    # Errors: NOT_FOUND counts as a failure to go-grpc-prometheus' dashboards
    # (grpc_code!="OK"); on a server, the semantic conventions count only
    # UNAVAILABLE here (error_type is set).
    errors = value_of(query(prometheus_port, (
        f'sum(rate({n.handled.format(side="server")}{{{n.errors}}}[1m]))')))
    check(errors is not None and errors > 0, f"{n.name}: error rate {errors}")
    bucket = n.duration.format(side="server") + "_bucket"
    p99 = value_of(query(prometheus_port,
                         f"histogram_quantile(0.99, sum(rate({bucket}[1m])) by (le))"))
    check(p99 is not None and 0 < p99 <= 1, f"{n.name}: p99 {p99} s")
    p50 = value_of(query(prometheus_port,
                         f"histogram_quantile(0.5, sum(rate({bucket}[1m])) by (le))"))
    check(p50 is not None and 0 < p50 <= p99, f"{n.name}: p50 {p50} s, p99 {p99} s")
    # The README SLO panel: the share of unary calls under 250 ms (a bound
    # both bucket layouts share). Every call here is that fast.
    count = n.duration.format(side="server") + "_count"
    matcher = f"{n.unary_selector}," if n.unary_selector else ""
    slo = by_labels_float(query(prometheus_port, (
        f'sum(rate({bucket}{{{matcher}le="0.25"}}[5m])) by (job) / '
        f"sum(rate({count}{unary}[5m])) by (job)")), "job")
    check(set(slo) == {("tracebridge-orders",), ("tracebridge-inventory",)}
          and all(ratio == 1 for ratio in slo.values()), f"{n.name}: le=0.25 share {slo}")
    # Messages per server stream: WatchStock streams three.
    streams = (f'{{grpc_type="server_stream"}}' if n.name == "grpc_prometheus" else
               '{rpc_method="tracebridge.examples.Inventory/WatchStock"}')
    per_stream = value_of(query(prometheus_port, (
        f"sum(rate({n.msg_sent.format(side='server')}{streams}[10m])) / "
        f"sum(rate({server_started}{streams}[10m]))")))
    check(per_stream is not None and abs(per_stream - 3) < 1e-9,
          f"{n.name}: messages per WatchStock stream {per_stream}")
    print(f"{n.name} dashboard queries: rates {sorted(rates.values())}, errors {errors:.3g}/s, "
          f"p50 {p50} s, p99 {p99} s, messages per stream {per_stream}")


def by_labels_float(result, *labels):
    """{(label values...): float value} of a query result."""
    return {tuple(sample["metric"].get(label, "") for label in labels): float(sample["value"][1])
            for sample in result}


def run(binaries, tmp, naming):
    failures = []

    def check(condition, message):
        if not condition:
            failures.append(message)
            print("FAIL:", message)

    if not os.access(PROMETHEUS, os.X_OK):
        raise Failure(f"{PROMETHEUS} is missing: apt-get install prometheus"
                      " (./bazelw installs it)")
    span_dir = os.path.join(tmp, "spans")
    os.makedirs(span_dir, exist_ok=True)
    common = [f"--span_dir={span_dir}", "--exit_on_stdin_eof",
              f"--metrics_naming={naming.name}"]
    services = []
    try:
        # Started and wired as examples/demo.cc does.
        admin_http = {}
        inventory = Service("inventory", [binaries["inventory"]] + common,
                            f"{tmp}/inventory.log")
        services.append(inventory)
        inventory_port, admin_http["inventory"] = inventory.read_listening("inventory")
        orders = Service("orders", [binaries["orders"], f"--inventory=127.0.0.1:{inventory_port}"]
                         + common, f"{tmp}/orders.log")
        services.append(orders)
        orders_port, admin_http["orders"] = orders.read_listening("orders")
        gateway = Service("gateway", [binaries["gateway"], f"--orders=127.0.0.1:{orders_port}"]
                          + common, f"{tmp}/gateway.log")
        services.append(gateway)
        gateway_port, admin_http["gateway"] = gateway.read_listening("gateway")
        base = f"http://127.0.0.1:{gateway_port}"
        for service, address in admin_http.items():
            check(address.startswith("127.0.0.1:"),
                  f"{service}'s admin listener is not on loopback: {address}")

        # The traffic, each answer checked, so the test knows what it produced,
        # down to the trace of every request.
        trace_ids = set()
        send_traffic(base, trace_ids)

        # The public port has no telemetry (a 404 of route "unknown", which
        # the checks below leave out).
        status, _ = http("GET", base + "/metrics")
        check(status == 404, f"the gateway's public port answered /metrics with {status}")

        config_path = os.path.join(tmp, "prometheus.yml")
        write_config(config_path, admin_http)
        prometheus_port = start_prometheus(tmp, config_path, services)

        # Every request finished before Prometheus started, so its first
        # scrape already holds the final counts: wait for that scrape only.
        poll(lambda: len(query(prometheus_port, 'up{job=~"tracebridge-.*"} == 1')) == 3,
             SCRAPE_TIMEOUT, "a successful scrape of every service")
        routes = 'http_route=~"/orders|/orders/:id"'
        handled = by_labels(query(prometheus_port, (
            "sum by (http_request_method, http_route, http_response_status_code) "
            f"(http_server_requests_handled_total{{{routes}}})")),
            "http_request_method", "http_route", "http_response_status_code")
        expected = count_by((method, ROUTES[method], str(status))
                            for method, _, _, status in TRAFFIC)
        check(handled == expected, f"handled by status: {handled}, expected {expected}")

        total = by_labels(query(prometheus_port, (
            'sum(http_server_requests_handled_total{http_route="/orders/:id"})')))
        gets = sum(1 for method, *_ in TRAFFIC if method == "GET")
        check(total == {(): gets}, f"GET /orders/:id total: {total}, expected {gets}")

        started = by_labels(query(prometheus_port, (
            f"sum by (http_route) (http_server_requests_started_total{{{routes}}})")),
            "http_route")
        expected_started = count_by((ROUTES[method],) for method, *_ in TRAFFIC)
        check(started == expected_started,
              f"started: {started}, expected {expected_started}")
        active = by_labels(query(prometheus_port, (
            f"sum(http_server_active_requests{{{routes}}})")))
        check(active == {(): 0}, f"active requests: {active}, expected 0")

        # The gateway's gRPC calls behind those requests, by status code.
        calls = naming.calls(prometheus_port, "tracebridge-gateway", "client",
                             "tracebridge.examples.Orders")
        expected_calls = naming.expected((GRPC_METHODS[method], GRPC_CODES[status])
                                         for method, _, _, status in TRAFFIC)
        check(calls == expected_calls, f"gRPC calls: {calls}, expected {expected_calls}")

        # The orders service, from its own admin listener: the same calls
        # served, and the inventory calls it made for them.
        served = naming.calls(prometheus_port, "tracebridge-orders", "server",
                              "tracebridge.examples.Orders")
        check(served == expected_calls, f"orders served: {served}, expected {expected_calls}")
        expected_inventory = naming.expected(INVENTORY_CALLS[status] for _, _, _, status in TRAFFIC
                                             if INVENTORY_CALLS[status])
        for job, side in (("tracebridge-orders", "client"), ("tracebridge-inventory", "server")):
            inventory_calls = naming.calls(prometheus_port, job, side,
                                           "tracebridge.examples.Inventory")
            check(inventory_calls == expected_inventory,
                  f"{job} {side} calls: {inventory_calls}, expected {expected_inventory}")
        # Each service's own series only: no HTTP series off the gateway.
        http_jobs = by_labels(query(prometheus_port, (
            "count by (job) (http_server_requests_started_total)")), "job")
        check(set(http_jobs) == {("tracebridge-gateway",)}, f"HTTP series by job: {http_jobs}")

        # Prometheus' own view of the scrape: the histogram counts agree too.
        durations = by_labels(query(prometheus_port, (
            "sum by (http_route) "
            f"(http_server_request_duration_seconds_count{{{routes}}})")), "http_route")
        check(durations == expected_started,
              f"duration histogram counts: {durations}, expected {expected_started}")

        # The traffic once more while Prometheus scrapes, so that rates over
        # a window see it; then a dashboard's queries.
        # Every service's scrape must hold the second round (each is scraped
        # on its own schedule) before the rates mean anything.
        started_totals = [
            f'sum({naming.started.format(side="server")}{{job="tracebridge-{service}"}})'
            for service in ("orders", "inventory")] + [
            f'sum(http_server_requests_started_total{{job="tracebridge-gateway",{routes}}})']
        before = [value_of(query(prometheus_port, total)) for total in started_totals]
        if not all(before):
            raise Failure(f"{started_totals}: {before} before the second round")
        send_traffic(base, trace_ids)
        poll(lambda: all(value_of(query(prometheus_port, total)) == 2 * count
                         for total, count in zip(started_totals, before)),
             SCRAPE_TIMEOUT, "a scrape of the second round of traffic by every service")
        check_dashboard_queries(prometheus_port, naming, check)

        # Exemplars: OpenMetrics was negotiated and Prometheus stored them.
        check_exemplars(prometheus_port, f"http://{admin_http['gateway']}", routes, trace_ids,
                        naming, check)
    finally:
        # Prometheus first (it scrapes the services), then the services in
        # reverse order of start.
        for service in reversed(services):
            service.stop()
    return failures


def on_sigterm(signum, frame):
    # Bazel ends a test that overruns with SIGTERM: unwind through the
    # `finally` that stops every child.
    raise Failure(f"signal {signum}")


def main():
    signal.signal(signal.SIGTERM, on_sigterm)
    binaries = dict(zip(("gateway", "orders", "inventory"),
                        (os.path.abspath(path) for path in sys.argv[1:4])))
    naming = NAMINGS["otel"]
    for arg in sys.argv[4:]:
        if not arg.startswith("--metrics_naming=") or arg.split("=", 1)[1] not in NAMINGS:
            print(f"usage: {sys.argv[0]} <gateway> <orders> <inventory> "
                  f"[--metrics_naming={'|'.join(NAMINGS)}]")
            return 2
        naming = NAMINGS[arg.split("=", 1)[1]]
    tmp = os.environ.get("TEST_TMPDIR") or os.path.abspath("prometheus-scrape-tmp")
    os.makedirs(tmp, exist_ok=True)
    try:
        failures = run(binaries, tmp, naming)
    except Failure as failure:
        print("FAIL:", failure)
        return 1
    if failures:
        return 1
    print(f"PASS ({naming.name} names): Prometheus scraped each service's admin listener; its "
          "queries return the counts the test produced")
    return 0


if __name__ == "__main__":
    sys.exit(main())
