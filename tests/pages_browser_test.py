#!/usr/bin/python3
"""The admin pages in a real headless Chromium, over the demo's three services.

Starts inventory, orders and gateway as the demo does, the gateway with
--peers naming the other two's admin gRPC ports, drives a known mix of
requests, then loads the gateway's and orders' pages in Debian's Chromium,
driven over the DevTools protocol on --remote-debugging-pipe (no WebSocket
client needed), and checks the rendered DOM:

  - /traces/<id> of a two-line POST /orders: 7 spans across the three
    services nested gateway server > gateway client > orders server >
    2 x (orders client > inventory server); clicking a span shows its
    attributes;
  - a request with a hostile path and User-Agent: its values are shown as
    text, nothing injected runs or appears (no dialog, no flag set, no extra
    element, no CSP violation, no script error);
  - /rpcz: the counts, errors and status codes the traffic implies; a
    histogram bucket's exemplar opens its trace; a row links to /tracez
    filtered to its method;
  - /tracez filtered by name, errors only and slower-than;
  - a trace of 1,000 spans: the time to render it is reported (not asserted).

Screenshots and the render times go to $TEST_UNDECLARED_OUTPUTS_DIR.

Usage: pages_browser_test.py <gateway> <orders> <inventory>
"""

import base64
import json
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from prometheus_scrape_test import Failure, Service, free_port, http, poll

CHROMIUM = "/usr/bin/chromium"
# Bounds on waits for what should happen within seconds; reaching one is a
# failure, not a measurement.
START_TIMEOUT = 30
CDP_TIMEOUT = 30
SPANS_TIMEOUT = 30

HOSTILE_UA = ('<script>window.__pwned="ua-script"</script>'
              '<img src=x onerror="window.__pwned=\'ua-img\'">\u2028</title>')
# The order id is a path segment (no '/', no space): markup that would
# create elements if it were ever parsed.
HOSTILE_ID = '"><img><i>injected<svg>'

# (method, path, body, expected status). POST /orders reserves each line in
# inventory; "broken" makes inventory fail, so the order fails with 503.
TRAFFIC = (
    [("GET", "/orders/1", None, 200)] * 2
    + [("GET", "/orders/999", None, 404)]
    + [("POST", "/orders", "sku-103:1", 201)]
    + [("POST", "/orders", "broken:1", 503)]
)
SHOWN = ("POST", "/orders", "sku-101:2,sku-102:1", 201)  # the trace the README shows
ORDERS = "tracebridge.examples.Orders"
INVENTORY = "tracebridge.examples.Inventory"
# The shown trace, in display order: (service, kind, name, depth).
SHOWN_ROWS = [
    ("gateway", "server", "POST /orders", 0),
    ("gateway", "client", f"{ORDERS}/CreateOrder", 1),
    ("orders", "server", f"{ORDERS}/CreateOrder", 2),
    ("orders", "client", f"{INVENTORY}/Reserve", 3),
    ("inventory", "server", f"{INVENTORY}/Reserve", 4),
    ("orders", "client", f"{INVENTORY}/Reserve", 3),
    ("inventory", "server", f"{INVENTORY}/Reserve", 4),
]
BULK_REQUESTS = 200  # one-line orders in one trace: 5 spans each


class Browser:
    """Headless Chromium driven over --remote-debugging-pipe: JSON messages
    separated by NUL, Chromium reading fd 3 and writing fd 4."""

    def __init__(self, profile_dir, log_path):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def give_pipes():  # in the child, before exec: fds 3 and 4
            read_end, write_end = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                 f"--user-data-dir={profile_dir}", "--remote-debugging-pipe", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=False,
                preexec_fn=give_pipes)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events = []  # (session, method, params) not yet looked at
        self.session = None

    def _send(self, method, params=None, session=None):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _read_message(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise Failure("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session="page", timeout=CDP_TIMEOUT):
        """The result of one DevTools command; events met meanwhile are kept."""
        target_session = self.session if session == "page" else session
        wanted = self._send(method, params, target_session)
        deadline = time.monotonic() + timeout
        while True:
            message = self._read_message(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise Failure(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self._on_event(message)

    def _on_event(self, message):
        method, params = message["method"], message.get("params", {})
        if method == "Page.javascriptDialogOpening":
            self._send("Page.handleJavaScriptDialog", {"accept": True}, message.get("sessionId"))
        self.events.append((message.get("sessionId"), method, params))

    def wait_event(self, method, timeout=CDP_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            for i, (_, name, params) in enumerate(self.events):
                if name == method:
                    del self.events[i]
                    return params
            message = self._read_message(deadline)
            if "method" in message:
                self._on_event(message)

    def open_page(self, width, height):
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=None)
        attached = self.call("Target.attachToTarget",
                             {"targetId": target["targetId"], "flatten": True}, session=None)
        self.session = attached["sessionId"]
        for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.call(domain)
        self.resize(width, height)

    def resize(self, width, height):
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def navigate(self, url):
        self.events = [e for e in self.events if e[1] != "Page.loadEventFired"]
        result = self.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise Failure(f"navigating to {url}: {result['errorText']}")
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate",
                           {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise Failure(f"evaluating {expression[:80]!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector):
        """A real mouse click at the centre of the first element `selector` matches."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return [r.x + Math.min(r.width / 2, 200), r.y + r.height / 2]; })()")
        if box is None:
            raise Failure(f"nothing to click at {selector}")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent",
                      {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1})

    def screenshot(self, path, width):
        height = self.evaluate("Math.ceil(document.documentElement.scrollHeight)")
        self.resize(width, min(max(height, 300), 4000))
        shot = self.call("Page.captureScreenshot", {"format": "png"})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    def problems(self):
        """Dialogs, script exceptions and security (CSP) messages seen so far."""
        found = []
        for _, method, params in self.events:
            if method == "Page.javascriptDialogOpening":
                found.append(f"dialog: {params.get('message')}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails'].get('text')}"
                             f" {params['exceptionDetails'].get('exception', {}).get('description')}")
            elif method == "Log.entryAdded" and params["entry"].get("source") == "security":
                found.append(f"security: {params['entry'].get('text')}")
        return found

    def close(self):
        try:
            self.call("Browser.close", session=None, timeout=5)
        except (Failure, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


def raw_get(port, target, user_agent):
    """A GET sent byte for byte (urllib would refuse or re-encode the target):
    (status, x-trace-id)."""
    request = (f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {user_agent}\r\n"
               "Connection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        answer = b""
        # Until the head and the body its Content-Length announces are in.
        while True:
            head_end = answer.find(b"\r\n\r\n")
            if head_end >= 0:
                length = 0
                for line in answer[:head_end].split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if len(answer) >= head_end + 4 + length:
                    break
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    headers = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
    return status, {k.lower(): v for k, v in headers.items()}.get("x-trace-id", "")


def send(port, method, path, body, traceparent=None):
    """(status, x-trace-id) of a request to the gateway."""
    headers = {}
    request_headers = {"traceparent": traceparent} if traceparent else None
    status, _ = http_with_headers(method, f"http://127.0.0.1:{port}{path}", body,
                                  request_headers, headers)
    return status, headers.get("x-trace-id", "")


def http_with_headers(method, url, body, request_headers, response_headers):
    """(status, body) of one request with headers; the response's land in
    `response_headers` (names lowercased)."""
    request = urllib.request.Request(url, data=body.encode() if body is not None else None,
                                     method=method, headers=request_headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response_headers.update((k.lower(), v) for k, v in response.headers.items())
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        response_headers.update((k.lower(), v) for k, v in error.headers.items())
        return error.code, error.read().decode()


def stored_spans(admin_http, trace_id):
    """How many spans of the trace a service's /traces/:id JSON lists (every page)."""
    count, token = 0, ""
    while True:
        url = f"http://{admin_http}/traces/{trace_id}" + (f"?page_token={token}" if token else "")
        status, body = http("GET", url)
        if status == 404:
            return count
        if status != 200:
            raise Failure(f"{url}: HTTP {status}: {body[:200]}")
        document = json.loads(body)
        count += len(document["spans"])
        token = document.get("next_page_token", "")
        if not token:
            return count


def wait_for_spans(admins, trace_id, expected):
    """Waits until the services together store `expected` spans of the trace."""
    return poll(lambda: sum(stored_spans(a, trace_id) for a in admins) >= expected,
                SPANS_TIMEOUT, f"{expected} spans of trace {trace_id}")


def check(condition, message):
    if not condition:
        raise Failure(message)


def rows_of(browser):
    return browser.evaluate(
        "[...document.querySelectorAll('#waterfall .wf-row.span')].map(r =>"
        " [r.dataset.service, r.dataset.kind, r.dataset.name, Number(r.dataset.depth)])")


def rpcz_row(browser, protocol, side, name):
    """{count, errors, in_flight, statuses: {label: count}} of one /rpcz row."""
    selector = (f"tr[data-protocol={json.dumps(protocol)}][data-side={json.dumps(side)}]"
                f"[data-name={json.dumps(name)}]")
    return browser.evaluate(
        f"(() => {{ const r = document.querySelector({json.dumps(selector)});"
        " if (!r) return null; const f = (n) => Number(r.querySelector(`[data-field=${n}]`).textContent);"
        " const s = {}; for (const b of r.querySelectorAll('[data-field=statuses] [data-code]'))"
        " s[b.dataset.code] = Number(b.dataset.count);"
        " return {count: f('count'), errors: f('errors'), in_flight: f('in_flight'), statuses: s}; })()")


def expect_no_injection(browser, where):
    state = browser.evaluate(
        "({pwned: window.__pwned === undefined ? null : String(window.__pwned),"
        " images: document.querySelectorAll('img, svg, i').length,"
        " scripts: document.querySelectorAll('script').length})")
    check(state["pwned"] is None, f"{where}: injected code ran ({state['pwned']})")
    check(state["images"] == 0, f"{where}: {state['images']} injected img/svg/i elements")
    check(state["scripts"] == 3, f"{where}: {state['scripts']} script elements, expected 3")
    problems = browser.problems()
    check(not problems, f"{where}: " + "; ".join(problems))


def run(binaries, tmp, outputs):
    gateway_bin, orders_bin, inventory_bin = binaries
    services = []
    try:
        def start(name, binary, *flags):
            """(business port, admin HTTP host:port) of a started service."""
            service = Service(name, [binary, "--exit_on_stdin_eof", f"--span_dir={tmp}", *flags],
                              os.path.join(tmp, f"{name}.log"))
            services.append(service)
            return service.read_listening(name)

        # Admin gRPC ports chosen here, for the gateway's --peers.
        inventory_admin_grpc, orders_admin_grpc = free_port(), free_port()
        inventory_port, inventory_admin = start(
            "inventory", inventory_bin, f"--admin_grpc_port={inventory_admin_grpc}")
        orders_port, orders_admin = start(
            "orders", orders_bin, f"--inventory=127.0.0.1:{inventory_port}",
            f"--admin_grpc_port={orders_admin_grpc}")
        gateway_port, gateway_admin = start(
            "gateway", gateway_bin, f"--orders=127.0.0.1:{orders_port}",
            f"--peers=orders=127.0.0.1:{orders_admin_grpc},"
            f"inventory=127.0.0.1:{inventory_admin_grpc}")
        admins = [gateway_admin, orders_admin, inventory_admin]

        # Traffic: the shown order, a mix, and a hostile request.
        status, shown_trace = send(gateway_port, *SHOWN[:3])
        check(status == SHOWN[3] and shown_trace, f"{SHOWN}: HTTP {status}")
        # Traces with a failed span: the gateway's gRPC client span fails for
        # an unknown order (NOT_FOUND) and a failed reservation.
        failed_traces = set()
        for method, path, body, expected in TRAFFIC:
            status, trace = send(gateway_port, method, path, body)
            check(status == expected, f"{method} {path} {body}: HTTP {status}, not {expected}")
            if status >= 400:
                failed_traces.add(trace)
        status, hostile_trace = raw_get(gateway_port, "/orders/" + HOSTILE_ID, HOSTILE_UA)
        check(status == 404 and hostile_trace, f"hostile request: HTTP {status}")
        failed_traces.add(hostile_trace)
        wait_for_spans(admins, shown_trace, len(SHOWN_ROWS))
        # gateway server + client, orders server (NOT_FOUND: no inventory call)
        wait_for_spans(admins, hostile_trace, 3)

        browser = Browser(os.path.join(tmp, "chromium-profile"), os.path.join(tmp, "chromium.log"))
        try:
            browser.open_page(1440, 900)
            report = check_pages(browser, gateway_port, gateway_admin, orders_admin, admins,
                                 shown_trace, failed_traces, hostile_trace, outputs)
        finally:
            browser.close()
        return report
    finally:
        for service in reversed(services):
            service.stop()


def check_pages(browser, gateway_port, gateway_admin, orders_admin, admins, shown_trace,
                failed_traces, hostile_trace, outputs):
    base = f"http://{gateway_admin}"
    report = []

    # The waterfall across the three services.
    browser.navigate(f"{base}/traces/{shown_trace}")
    rows = [tuple(row) for row in rows_of(browser)]
    check(rows == SHOWN_ROWS, "waterfall rows:\n  " + "\n  ".join(map(str, rows)))
    sources = browser.evaluate(
        "[...document.querySelectorAll('#sources .chip')].map(c => [c.dataset.service, c.dataset.state])")
    check(sorted(map(tuple, sources)) == [("gateway", "ok"), ("inventory", "ok"), ("orders", "ok")],
          f"sources: {sources}")
    check(browser.evaluate("document.querySelectorAll('.badge.warn').length") == 0,
          "a span of the shown trace is marked 'parent span not found'")
    # Clicking the orders server span opens its details.
    browser.click("#waterfall .wf-row.span[data-service=orders][data-kind=server]")
    detail = browser.evaluate(
        "(() => { const d = document.querySelector('#waterfall .detail');"
        " return d && {keys: [...d.querySelectorAll('td.key')].map(k => k.textContent),"
        " text: d.textContent}; })()")
    check(detail is not None, "clicking a span showed no details")
    check("order.id" in detail["keys"] and "rpc.method" in detail["keys"],
          f"span details lack its attributes: {detail['keys']}")
    expect_no_injection(browser, "trace page")
    browser.screenshot(os.path.join(outputs, "trace.png"), 1440)
    browser.resize(1440, 900)

    # The hostile request: its values are text in the page, nothing runs.
    browser.navigate(f"{base}/traces/{hostile_trace}")
    browser.click("#waterfall .wf-row.span[data-service=gateway][data-kind=server]")
    text = browser.evaluate("document.querySelector('#waterfall .detail').textContent")
    check(HOSTILE_UA.replace("\u2028", "") in text.replace("\u2028", ""),
          "the hostile User-Agent is not shown as text")
    browser.click("#waterfall .wf-row.span[data-service=orders][data-kind=server]")
    text = browser.evaluate("document.querySelector('#waterfall .detail').textContent")
    check(HOSTILE_ID in text, "the hostile order id is not shown as text")
    expect_no_injection(browser, "hostile trace page")

    # /rpcz of the gateway and of orders: the counts the traffic implies.
    requests = [SHOWN] + TRAFFIC
    posts = [r for r in requests if r[0] == "POST"]
    gets = [r for r in requests if r[0] == "GET"] + [("GET", "hostile", None, 404)]
    browser.navigate(f"{base}/rpcz")
    post_row = rpcz_row(browser, "http", "server", "POST /orders")
    check(post_row == {"count": len(posts), "errors": 1, "in_flight": 0,
                       "statuses": {"201": len(posts) - 1, "503": 1}}, f"POST /orders: {post_row}")
    get_row = rpcz_row(browser, "http", "server", "GET /orders/:id")
    check(get_row == {"count": len(gets), "errors": 0, "in_flight": 0,
                      "statuses": {"200": 2, "404": len(gets) - 2}}, f"GET /orders/:id: {get_row}")
    create = rpcz_row(browser, "grpc", "client", f"{ORDERS}/CreateOrder")
    check(create == {"count": len(posts), "errors": 1, "in_flight": 0,
                     "statuses": {"0": len(posts) - 1, "14": 1}}, f"CreateOrder client: {create}")
    expect_no_injection(browser, "gateway rpcz")
    browser.screenshot(os.path.join(outputs, "rpcz.png"), 1440)
    browser.resize(1440, 900)
    # An exemplar bucket of POST /orders opens a trace of that route.
    exemplar = browser.evaluate(
        "(() => { const a = document.querySelector('tr[data-name=\"POST /orders\"] a.b[data-exemplar]');"
        " return a && a.getAttribute('href'); })()")
    check(exemplar, "no exemplar link on POST /orders")
    browser.navigate(base + exemplar)
    rows = rows_of(browser)
    check(rows and rows[0][2] == "POST /orders", f"exemplar trace rows: {rows}")
    # The row's link: recent traces of that route, filtered.
    browser.navigate(f"{base}/rpcz")
    link = browser.evaluate(
        "document.querySelector('tr[data-name=\"POST /orders\"] td:last-child a').getAttribute('href')")
    browser.navigate(base + link)
    roots = browser.evaluate("[...document.querySelectorAll('#traces tr[data-trace-id]')].map(r => r.dataset.root)")
    check(roots == ["POST /orders"] * len(posts), f"tracez from rpcz: {roots}")

    # /tracez filters: errors only, slower than.
    browser.navigate(f"{base}/tracez?errors=1")
    ids = browser.evaluate("[...document.querySelectorAll('#traces tr[data-trace-id]')].map(r => r.dataset.traceId)")
    check(sorted(ids) == sorted(failed_traces), f"errors only: {ids}, expected {failed_traces}")
    browser.navigate(f"{base}/tracez?min_ms=100000")
    ids = browser.evaluate("[...document.querySelectorAll('#traces tr[data-trace-id]')].map(r => r.dataset.traceId)")
    check(ids == [], f"slower than 100 s: {ids}")
    browser.navigate(f"{base}/tracez")
    listed = browser.evaluate("document.querySelectorAll('#traces tr[data-trace-id]').length")
    check(listed == len(requests) + 1, f"tracez lists {listed} traces, sent {len(requests) + 1}")
    expect_no_injection(browser, "tracez")
    browser.screenshot(os.path.join(outputs, "tracez.png"), 1440)
    browser.resize(1440, 900)

    # orders' own /rpcz: what it served and what it asked of inventory.
    browser.navigate(f"http://{orders_admin}/rpcz")
    served = rpcz_row(browser, "grpc", "server", f"{ORDERS}/CreateOrder")
    check(served["count"] == len(posts) and served["errors"] == 1, f"orders CreateOrder: {served}")
    reserve = rpcz_row(browser, "grpc", "client", f"{INVENTORY}/Reserve")
    lines = sum(len(r[2].split(",")) for r in posts)
    check(reserve["count"] == lines and reserve["errors"] == 1, f"orders Reserve: {reserve} ({lines} lines)")
    expect_no_injection(browser, "orders rpcz")

    # A trace of 1,000 spans: every bulk order continues one traceparent.
    bulk_trace = secrets.token_hex(16)
    traceparent = f"00-{bulk_trace}-{secrets.token_hex(8)}-01"
    for _ in range(BULK_REQUESTS):
        status, _ = send(gateway_port, "POST", "/orders", "sku-101:1", traceparent)
        check(status == 201, f"bulk order: HTTP {status}")
    wait_for_spans(admins, bulk_trace, 5 * BULK_REQUESTS)
    browser.navigate(f"{base}/traces/{bulk_trace}")
    count = browser.evaluate("document.querySelectorAll('#waterfall .wf-row.span').length")
    check(count == 5 * BULK_REQUESTS, f"the bulk trace shows {count} spans")
    render_ms = float(browser.evaluate("document.body.dataset.renderMs"))
    load_ms = browser.evaluate(
        "(() => { const n = performance.getEntriesByType('navigation')[0];"
        " return n ? n.loadEventEnd - n.startTime : null; })()")
    report.append(f"trace page with {count} spans: rendered in {render_ms:.1f} ms"
                  f" (script), page loaded in {load_ms:.1f} ms (navigation start to load end)")
    browser.screenshot(os.path.join(outputs, "trace_1000_spans.png"), 1440)
    expect_no_injection(browser, "1000-span trace")
    return report


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    if not os.path.exists(CHROMIUM):
        sys.exit(f"{CHROMIUM} is missing: ./bazelw installs Debian's chromium")
    outputs = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR") or tempfile.mkdtemp()
    tmp = tempfile.mkdtemp(prefix="pages-", dir=os.environ.get("TEST_TMPDIR"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        report = run([os.path.abspath(b) for b in sys.argv[1:]], tmp, outputs)
    except (Failure, OSError) as failure:
        print(f"FAIL: {failure!r}")
        for name in ("gateway", "orders", "inventory", "chromium"):
            path = os.path.join(tmp, f"{name}.log")
            if os.path.exists(path):
                with open(path, errors="replace") as log:
                    print(f"--- {name}.log (end)\n{log.read()[-3000:]}")
        sys.exit(1)
    finally:
        shutil.rmtree(os.path.join(tmp, "chromium-profile"), ignore_errors=True)
    with open(os.path.join(outputs, "render_times.txt"), "w") as f:
        f.write("\n".join(report) + "\n")
    for line in report:
        print(line)
    print(f"screenshots in {outputs}")
    print("PASS")


if __name__ == "__main__":
    main()
