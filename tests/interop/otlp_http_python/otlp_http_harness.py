"""The harness of the OTLP/HTTP interop tests: a scripted receiver on Python's
own http.server (HTTP/1.1, keep-alive) that decodes every request body with
python3-protobuf, and a runner for a sender binary that configures
tracebridge's exporter from OTEL_EXPORTER_OTLP_* and prints what it saw.

Sender output, one line each: "EXPORT <n> <absl status code> <elapsed ms>
<message>" per export, "STATS <name>=<value> ...", "PARTIAL <message>",
"CONNECTIONS <n>", "URL <url>", "RETRY_WAIT_MS <ms>".
"""

import argparse
import gzip
import http.server
import os
import subprocess
import sys
import threading
import time

SENDER_TIMEOUT = 60.0  # seconds per sender run, generous for sanitizer builds
MAX_BODY = 64 << 20

# absl::StatusCode numbers the sender prints.
OK, CANCELLED, INVALID_ARGUMENT, DEADLINE_EXCEEDED = 0, 1, 3, 4
FAILED_PRECONDITION, UNAVAILABLE, RESOURCE_EXHAUSTED = 9, 14, 8


class CheckFailed(Exception):
  pass


def check(condition, message):
  if not condition:
    raise CheckFailed(message)


class Reply:
  """How the receiver answers one request."""

  def __init__(self, status=200, headers=(), body=b"", chunked=False, close_connection=False,
               hang_up=False, stall=0.0, content_type="application/x-protobuf"):
    self.status = status
    self.headers = list(headers)
    self.body = body
    self.chunked = chunked
    self.close_connection = close_connection
    self.hang_up = hang_up  # close without answering
    self.stall = stall  # seconds to hold the request, then hang up
    self.content_type = content_type


class Received:
  def __init__(self, handler, raw, arrival, message):
    self.path = handler.path
    self.headers = {k.lower(): v for k, v in handler.headers.items()}
    self.client_port = handler.client_address[1]
    self.raw = raw
    self.arrival = arrival
    self.body = gzip.decompress(raw) if self.headers.get("content-encoding") == "gzip" else raw
    self.request = message.FromString(self.body)


class Receiver:
  """http.server on 127.0.0.1:0 answering from a script (200 when empty),
  decoding each request body as `message` (an Export*ServiceRequest class)."""

  def __init__(self, message):
    self.lock = threading.Lock()
    self.replies = []
    self.received = []
    self.stopping = threading.Event()
    receiver = self

    class Handler(http.server.BaseHTTPRequestHandler):
      protocol_version = "HTTP/1.1"

      def do_POST(self):
        arrival = time.monotonic()
        length = int(self.headers.get("Content-Length", "0"))
        if length > MAX_BODY:
          self.send_error(413)
          return
        raw = self.rfile.read(length)
        with receiver.lock:
          receiver.received.append(Received(self, raw, arrival, message))
          reply = receiver.replies.pop(0) if receiver.replies else Reply()
        if reply.stall:
          receiver.stopping.wait(reply.stall)
        if reply.hang_up or reply.stall:
          self.close_connection = True
          return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
          self.send_header(name, value)
        if reply.close_connection:
          self.send_header("Connection", "close")
          self.close_connection = True
        if reply.chunked:
          self.send_header("Transfer-Encoding", "chunked")
          self.end_headers()
          # Uneven chunks, an extension and a trailer: the whole grammar.
          pieces = [reply.body[:3], reply.body[3:]] if len(reply.body) > 3 else [reply.body]
          for i, piece in enumerate(p for p in pieces if p):
            ext = ";note=x" if i == 0 else ""
            self.wfile.write(b"%x%s\r\n%s\r\n" % (len(piece), ext.encode(), piece))
          self.wfile.write(b"0\r\nX-Trailer: done\r\n\r\n")
        else:
          self.send_header("Content-Length", str(len(reply.body)))
          self.end_headers()
          self.wfile.write(reply.body)

      def log_message(self, *args):
        pass

    self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    self.server.daemon_threads = True
    self.port = self.server.server_address[1]
    self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
    self.thread.start()

  def script(self, replies):
    with self.lock:
      self.replies = list(replies)
      self.received = []

  def requests(self):
    with self.lock:
      return list(self.received)

  def stop(self):
    self.stopping.set()
    self.server.shutdown()
    self.server.server_close()


class Result:
  def __init__(self, stdout):
    self.exports = []
    self.stats = {}
    self.partial = ""
    self.connections = None
    self.url = None
    self.lines = stdout.splitlines()
    for line in self.lines:
      word, _, rest = line.partition(" ")
      if word == "EXPORT":
        _, code, millis, message = (rest.split(" ", 3) + [""])[:4]
        self.exports.append((int(code), int(millis), message))
      elif word == "STATS":
        self.stats = {k: int(v) for k, v in (item.split("=") for item in rest.split())}
      elif word == "PARTIAL":
        self.partial = rest
      elif word == "CONNECTIONS":
        self.connections = int(rest)
      elif word == "URL":
        self.url = rest


class Harness:
  def __init__(self, sender, receiver):
    self.sender = sender
    self.receiver = receiver

  def run(self, env, args=(), replies=()):
    self.receiver.script(replies)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    full_env.update(env)
    completed = subprocess.run([self.sender] + list(args), env=full_env, capture_output=True,
                               text=True, timeout=SENDER_TIMEOUT)
    check(completed.returncode == 0, "sender exited %d:\n%s\n%s" %
          (completed.returncode, completed.stdout, completed.stderr))
    return Result(completed.stdout), self.receiver.requests()

  def base_env(self, **extra):
    env = {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
           "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:%d" % self.receiver.port}
    env.update(extra)
    return env


def attributes(message):
  out = {}
  for kv in message.attributes:
    out[kv.key] = getattr(kv.value, kv.value.WhichOneof("value"))
  return out


def fast_retries(*extra):
  return ["--initial_backoff_ms=10", "--max_backoff_ms=40"] + list(extra)



def run_cases(cases, message, description):
  """Runs each case against one receiver of `message` requests; the exit code."""
  parser = argparse.ArgumentParser(description=description)
  parser.add_argument("--sender", required=True)
  args = parser.parse_args()
  receiver = Receiver(message)
  failures = []
  try:
    harness = Harness(args.sender, receiver)
    for case in cases:
      start = time.monotonic()
      try:
        case(harness)
        print("ok   %-34s %.2fs" % (case.__name__, time.monotonic() - start))
      except (CheckFailed, subprocess.TimeoutExpired) as failure:
        failures.append(case.__name__)
        print("FAIL %-34s %s" % (case.__name__, failure), file=sys.stderr)
  finally:
    receiver.stop()
  if failures:
    print("FAIL: %d of %d cases: %s" % (len(failures), len(cases), ", ".join(failures)),
          file=sys.stderr)
    return 1
  print("PASS: %d cases against Python %s http.server" % (len(cases), sys.version.split()[0]))
  return 0
