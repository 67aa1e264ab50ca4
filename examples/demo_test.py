#!/usr/bin/python3
"""Runs the demo as a newcomer would and checks what it prints.

- The printed trace holds spans from all three services under one trace id,
  each row's parent is the row above it in the tree, and the same spans are
  in the services' exported JSON-lines files.
- The metrics tables' counts equal the traffic the demo drove.
- Each service's telemetry is on an admin listener on loopback: the demo
  prints the three, and with --keep_running each answers /metrics while the
  gateway's public port does not.
- With --keep_running the demo also prints a Prometheus scrape_configs block
  for the three admin listeners (promtool accepts it) and, when influxd is
  installed, the collector's per-route counts from InfluxDB, which equal the
  gateway traffic.
- No service process survives the demo (nor its collector or InfluxDB): after
  a normal run, after a failure, and after Ctrl-C (SIGINT) with --keep_running.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

DEMO = sys.argv[1]
BIN_DIR = os.path.dirname(os.path.realpath(DEMO))
SERVICES = [os.path.join(BIN_DIR, name) for name in ("gateway", "orders", "inventory")]
SERVICES.append(os.path.realpath(os.path.join(BIN_DIR, "..", "collector", "collector")))
INFLUXD = shutil.which("influxd") or "/usr/bin/influxd"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)


# Directories of the demo runs: an influxd whose configuration is in one is
# the demo's (other tests may run influxd of their own meanwhile).
DEMO_DIRS = []


def surviving_services():
    """PIDs of processes running one of the demo's binaries or its InfluxDB."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except OSError:
            continue
        if exe in SERVICES or (os.path.basename(exe) == "influxd" and
                               any(d in cmdline for d in DEMO_DIRS)):
            found.append((int(pid), exe))
    return found


def wait_no_survivors(what):
    deadline = time.monotonic() + 10
    while surviving_services() and time.monotonic() < deadline:
        time.sleep(0.05)  # polling /proc: processes give no notification
    check(not surviving_services(), f"service processes survive the demo ({what}): {surviving_services()}")


def parse_tree(output):
    match = re.search(r"one request's trace: .* trace ([0-9a-f]{32}), (\d+) spans", output)
    check(match is not None, "no trace header in the output")
    if not match:
        return None, []
    rows = []
    for line in output[match.end():].splitlines()[2:]:
        cells = re.match(r"  (.{10}) (.*?)\s+(server|client|internal)\s+([\d.]+ ms)\s+(\S+)\s+"
                         r"([0-9a-f-]{8})/([0-9a-f-]{8}) \|", line)
        if not cells:
            break
        name_field = cells.group(2)
        stripped = name_field.lstrip(" ")
        depth = 0
        if stripped.startswith("└ "):
            depth = (len(name_field) - len(stripped)) // 2
            stripped = stripped[2:]
        rows.append({"service": cells.group(1).strip(), "depth": depth, "name": stripped,
                     "kind": cells.group(3), "status": cells.group(5), "span": cells.group(6),
                     "parent": cells.group(7)})
    return match.group(1), rows


def parse_metrics(output):
    """{service: {(proto, side, name): (count, errors, {status: n})}}"""
    tables, service = {}, None
    section = output[output.find("metrics, from each service"):]
    for line in section.splitlines()[1:]:
        if re.match(r"^  \S+$", line):
            service = line.strip()
            tables[service] = {}
            continue
        row = re.match(r"^    (grpc|http)\s+(server|client)\s+(.+?)\s+(\d+)\s+(\d+)\s+[\d.]+ ms\s+[\d.]+ ms  (.*)$", line)
        if row and service:
            codes = dict(item.rsplit(":", 1) for item in row.group(6).split())
            tables[service][(row.group(1), row.group(2), row.group(3))] = (
                int(row.group(4)), int(row.group(5)), {k: int(v) for k, v in codes.items()})
        if line.startswith("spans are in"):
            break
    return tables


ADMIN_LINE = re.compile(r"^  (gateway|orders|inventory)\s+scrape http://(127\.0\.0\.1:\d+)/metrics"
                        r"\s+query gRPC (127\.0\.0\.1:\d+)$", re.M)


def admin_listeners(output):
    """{service: (admin HTTP host:port, admin gRPC host:port)} as the demo prints them."""
    found = {match.group(1): (match.group(2), match.group(3))
             for match in ADMIN_LINE.finditer(output)}
    check(set(found) == {"gateway", "orders", "inventory"},
          f"admin listeners printed for {sorted(found)}")
    return found


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def expect_row(tables, service, key, count, errors, codes):
    row = tables.get(service, {}).get(key)
    check(row is not None, f"{service}: no metrics row {key}")
    if row:
        check(row[0] == count, f"{service} {key}: count {row[0]} != {count}")
        check(row[1] == errors, f"{service} {key}: errors {row[1]} != {errors}")
        check(row[2] == codes, f"{service} {key}: status codes {row[2]} != {codes}")


def normal_run():
    span_dir = tempfile.mkdtemp(prefix="demo-test-")
    result = subprocess.run([DEMO, f"--span_dir={span_dir}"], capture_output=True, text=True,
                            timeout=120)
    print(result.stdout)
    print(result.stderr, file=sys.stderr)
    check(result.returncode == 0, f"demo exited {result.returncode}")
    output = result.stdout
    wait_no_survivors("normal run")

    trace_id, rows = parse_tree(output)
    check(len(rows) == 7, f"expected 7 spans in the printed trace, got {len(rows)}")
    check({row["service"] for row in rows} == {"gateway", "orders", "inventory"},
          f"services in the trace: {sorted({row['service'] for row in rows})}")
    # The tree: each row's parent is the nearest row above it one level up.
    stack = []
    for row in rows:
        del stack[row["depth"]:]
        if row["depth"] == 0:
            check(row["service"] == "gateway" and row["kind"] == "server",
                  f"the root is not the gateway's server span: {row}")
        else:
            check(stack and stack[-1]["span"] == row["parent"],
                  f"span {row['span']} ({row['service']} {row['name']}) has parent "
                  f"{row['parent']}, expected {stack[-1]['span'] if stack else None}")
        stack.append(row)
    expected_shape = [("gateway", "server"), ("gateway", "client"), ("orders", "server"),
                      ("orders", "client"), ("inventory", "server"), ("orders", "client"),
                      ("inventory", "server")]
    check([(r["service"], r["kind"]) for r in rows] == expected_shape,
          f"trace shape {[(r['service'], r['kind']) for r in rows]}")

    # The same trace in the exported files, under one trace id.
    exported = {}
    for service in ("gateway", "orders", "inventory"):
        path = os.path.join(span_dir, f"{service}.jsonl")
        check(os.path.exists(path), f"no span file {path}")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as spans:
                for line in spans:
                    span = json.loads(line)
                    if span["trace_id"] == trace_id:
                        exported[span["span_id"][:8]] = span
    for row in rows:
        span = exported.get(row["span"])
        check(span is not None, f"span {row['span']} is not in the exported files")
        if span:
            check(span["service_name"] == row["service"], f"span {row['span']} service differs")
            check(span["parent_span_id"][:8] == row["parent"] or row["depth"] == 0,
                  f"span {row['span']} parent differs in the export")

    # Metrics equal the traffic (the demo's readiness probes hit /metrics only).
    admin_listeners(output)
    tables = parse_metrics(output)
    expect_row(tables, "gateway", ("http", "server", "GET /orders/:id"), 4, 0, {"200": 3, "404": 1})
    expect_row(tables, "gateway", ("http", "server", "POST /orders"), 4, 1, {"201": 3, "503": 1})
    expect_row(tables, "gateway", ("http", "server", "GET unknown"), 1, 0, {"404": 1})
    expect_row(tables, "gateway", ("grpc", "client", "tracebridge.examples.Orders/GetOrder"), 4, 1,
               {"OK": 3, "NOT_FOUND": 1})
    expect_row(tables, "gateway", ("grpc", "client", "tracebridge.examples.Orders/CreateOrder"), 4, 1,
               {"OK": 3, "UNAVAILABLE": 1})
    expect_row(tables, "orders", ("grpc", "server", "tracebridge.examples.Orders/GetOrder"), 4, 0,
               {"OK": 3, "NOT_FOUND": 1})
    expect_row(tables, "orders", ("grpc", "server", "tracebridge.examples.Orders/CreateOrder"), 4, 1,
               {"OK": 3, "UNAVAILABLE": 1})
    expect_row(tables, "orders", ("grpc", "client", "tracebridge.examples.Inventory/Reserve"), 5, 1,
               {"OK": 4, "UNAVAILABLE": 1})
    expect_row(tables, "orders", ("grpc", "client", "tracebridge.examples.Inventory/WatchStock"), 3, 0,
               {"OK": 3})
    expect_row(tables, "inventory", ("grpc", "server", "tracebridge.examples.Inventory/Reserve"), 5, 1,
               {"OK": 4, "UNAVAILABLE": 1})
    expect_row(tables, "inventory", ("grpc", "server", "tracebridge.examples.Inventory/WatchStock"), 3,
               0, {"OK": 3})


def failed_run():
    # A span directory that does not exist: every service fails to start.
    missing = os.path.join(tempfile.mkdtemp(prefix="demo-test-"), "missing")
    result = subprocess.run([DEMO, f"--span_dir={missing}"], capture_output=True, text=True,
                            timeout=60)
    check(result.returncode != 0, "the demo succeeded with an unusable span directory")
    wait_no_survivors("failed start")


def check_scrape_config(output):
    """The scrape_configs block names the three admin listeners, and promtool takes it."""
    match = re.search(r"^scrape_configs:\n(?:  .*\n)+", output, re.M)
    check(match is not None, "no scrape_configs block printed")
    if not match:
        return
    block = match.group(0)
    targets = set(re.findall(r"targets: \['(127\.0\.0\.1:\d+)'\]", block))
    expected = {http for http, _ in admin_listeners(output).values()}
    check(targets == expected, f"scrape targets {sorted(targets)} != admin listeners {sorted(expected)}")
    if os.path.exists(PROMTOOL):
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as config:
            config.write(block)
        result = subprocess.run([PROMTOOL, "check", "config", config.name], capture_output=True,
                                text=True, timeout=60)
        check(result.returncode == 0, f"promtool check config: {result.stdout} {result.stderr}")


def check_influx_answer(output):
    """The collector's per-route counts, read back from InfluxDB, equal the traffic."""
    check("InfluxDB (database tracebridge_demo" in output, "no InfluxDB section printed")
    if not os.path.exists(INFLUXD):
        return
    rows = dict(re.findall(r"^  (method=\S+)\s+(\d+)$", output, re.M))
    check(rows == {"method=GET,route=/orders/:id": "4", "method=POST,route=/orders": "4",
                   "method=GET,route=unknown": "1"}, f"InfluxDB per-route counts: {rows}")


def interrupted_run():
    demo_dir = tempfile.mkdtemp()
    DEMO_DIRS.append(demo_dir)
    demo = subprocess.Popen([DEMO, "--keep_running", f"--span_dir={demo_dir}"],
                            stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        output = ""
        for line in demo.stdout:
            output += line
            if "services keep running" in line or time.monotonic() > deadline:
                break
        check(surviving_services(), "--keep_running left no service running")
        check_scrape_config(output)
        check_influx_answer(output)
        # While they run, every admin listener answers /metrics; the
        # gateway's public port has none.
        for service, (http, _) in admin_listeners(output).items():
            status, body = http_status(f"http://{http}/metrics")
            check(status == 200 and "rpc_" in body,
                  f"{service}'s admin /metrics answered {status}")
        public = re.search(r"gateway http://(127\.0\.0\.1:\d+)", output)
        check(public is not None, "no gateway address in the --keep_running line")
        if public:
            status, _ = http_status(f"http://{public.group(1)}/metrics")
            check(status == 404, f"the gateway's public port answered /metrics with {status}")
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    wait_no_survivors("Ctrl-C")


passed = failed = 0
for scenario in (normal_run, failed_run, interrupted_run):
    before = len(failures)
    scenario()
    if len(failures) == before:
        passed += 1
    else:
        failed += 1
print(f"demo_test: {passed} passed, {failed} failed")
sys.exit(1 if failures else 0)
