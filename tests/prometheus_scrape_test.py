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

Usage: prometheus_scrape_test.py <gateway> <orders> <inventory>
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
GRPC_CODES = {200: "0", 201: "0", 404: "5", 503: "14"}
# The inventory call orders makes for each answer: an existing order streams
# its stock (WatchStock), an unknown one makes no call, an order of one line
# reserves it (Reserve), failing for the "broken" SKU.
INVENTORY_CALLS = {200: ("WatchStock", "0"), 404: None, 201: ("Reserve", "0"),
                   503: ("Reserve", "14")}
SERVICES = ("gateway", "orders", "inventory")


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


def check_exemplars(prometheus_port, base, routes, trace_ids, check):
    server = poll(lambda: query_exemplars(
        prometheus_port, f"http_server_request_duration_seconds_bucket{{{routes}}}"),
        SCRAPE_TIMEOUT, "exemplars of the gateway's routes")
    client = query_exemplars(
        prometheus_port,
        'rpc_client_call_duration_seconds_bucket{rpc_service="tracebridge.examples.Orders"}')
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


def run(binaries, tmp):
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
    common = [f"--span_dir={span_dir}", "--exit_on_stdin_eof"]
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
        for method, path, body, expected in TRAFFIC:
            headers = {}
            status, text = http(method, base + path, body, headers=headers)
            if status != expected:
                raise Failure(f"{method} {path}: {status} (expected {expected}): {text}")
            trace_ids.add(headers.get("x-trace-id", ""))
        if "" in trace_ids or len(trace_ids) != len(TRAFFIC):
            raise Failure(f"not one X-Trace-ID per request: {sorted(trace_ids)}")

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
        calls = by_labels(query(prometheus_port, (
            "sum by (rpc_method, rpc_grpc_status_code) "
            '(rpc_client_calls_handled_total{job="tracebridge-gateway",'
            'rpc_service="tracebridge.examples.Orders"})')),
            "rpc_method", "rpc_grpc_status_code")
        expected_calls = count_by((GRPC_METHODS[method], GRPC_CODES[status])
                                  for method, _, _, status in TRAFFIC)
        check(calls == expected_calls, f"gRPC calls: {calls}, expected {expected_calls}")

        # The orders service, from its own admin listener: the same calls
        # served, and the inventory calls it made for them.
        served = by_labels(query(prometheus_port, (
            "sum by (rpc_method, rpc_grpc_status_code) "
            '(rpc_server_calls_handled_total{job="tracebridge-orders",'
            'rpc_service="tracebridge.examples.Orders"})')),
            "rpc_method", "rpc_grpc_status_code")
        check(served == expected_calls, f"orders served: {served}, expected {expected_calls}")
        expected_inventory = count_by(INVENTORY_CALLS[status] for _, _, _, status in TRAFFIC
                                      if INVENTORY_CALLS[status])
        for job, metric in (("tracebridge-orders", "rpc_client_calls_handled_total"),
                            ("tracebridge-inventory", "rpc_server_calls_handled_total")):
            inventory_calls = by_labels(query(prometheus_port, (
                "sum by (rpc_method, rpc_grpc_status_code) "
                f'({metric}{{job="{job}",rpc_service="tracebridge.examples.Inventory"}})')),
                "rpc_method", "rpc_grpc_status_code")
            check(inventory_calls == expected_inventory,
                  f"{job} {metric}: {inventory_calls}, expected {expected_inventory}")
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

        # Exemplars: OpenMetrics was negotiated and Prometheus stored them.
        check_exemplars(prometheus_port, f"http://{admin_http['gateway']}", routes, trace_ids, check)
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
    tmp = os.environ.get("TEST_TMPDIR") or os.path.abspath("prometheus-scrape-tmp")
    os.makedirs(tmp, exist_ok=True)
    try:
        failures = run(binaries, tmp)
    except Failure as failure:
        print("FAIL:", failure)
        return 1
    if failures:
        return 1
    print("PASS: Prometheus scraped each service's admin listener; its queries return the "
          "counts the test produced")
    return 0


if __name__ == "__main__":
    sys.exit(main())
