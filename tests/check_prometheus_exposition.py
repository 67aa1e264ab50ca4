"""Validates a Prometheus text exposition read from stdin.

Parses it with python3-prometheus-client's parser, then checks what the parser
does not: every family has help text; every histogram series has cumulative
buckets, a +Inf bucket equal to _count, and a _sum; the families tracebridge
promises are present; hostile label values survive escaping.
Run with /usr/bin/python3 (Debian's python3-prometheus-client).
"""

import math
import sys
from collections import defaultdict

from prometheus_client.parser import text_string_to_metric_families

EXPECTED = {
    "rpc_server_call_duration_seconds": "histogram",
    "rpc_server_calls_started": "counter",
    "rpc_server_calls_handled": "counter",
    "rpc_server_calls_in_flight": "gauge",
    "rpc_server_messages_received": "counter",
    "rpc_server_messages_sent": "counter",
    "rpc_client_call_duration_seconds": "histogram",
    "http_server_request_duration_seconds": "histogram",
    "http_server_requests_handled": "counter",
    "http_server_active_requests": "gauge",
    "http_client_request_duration_seconds": "histogram",
    "tracebridge_uptime_seconds": "gauge",
    "tracebridge_spans_started": "counter",
    "tracebridge_spans_dropped": "counter",
    "tracebridge_span_queue_length": "gauge",
}
HOSTILE_ROUTE = '/we"ird\\path\n\x01/\ufffd\ufffd(/caf\u00e9'
# Under the grpc_prometheus naming (`--naming grpc_prometheus`), the gRPC
# families go-grpc-prometheus defines replace their otel counterparts.
GRPC_PROMETHEUS_NAMES = {
    "rpc_server_call_duration_seconds": "grpc_server_handling_seconds",
    "rpc_server_calls_started": "grpc_server_started",
    "rpc_server_calls_handled": "grpc_server_handled",
    "rpc_server_messages_received": "grpc_server_msg_received",
    "rpc_server_messages_sent": "grpc_server_msg_sent",
    "rpc_client_call_duration_seconds": "grpc_client_handling_seconds",
}


def naming_arg(args):
    """The --naming argument (otel when absent)."""
    naming = args[args.index("--naming") + 1] if "--naming" in args else "otel"
    if naming not in ("otel", "grpc_prometheus"):
        sys.exit(f"unknown naming {naming!r}")
    return naming


def expected_for(expected, naming):
    """`expected` with the families renamed as `naming` names them."""
    if naming == "otel":
        return dict(expected)
    return {GRPC_PROMETHEUS_NAMES.get(name, name): kind for name, kind in expected.items()}

errors = []


def fail(message):
    errors.append(message)


def check_histogram(family):
    series = defaultdict(lambda: {"buckets": [], "sum": None, "count": None})
    for sample in family.samples:
        labels = {k: v for k, v in sample.labels.items() if k != "le"}
        key = tuple(sorted(labels.items()))
        if sample.name.endswith("_bucket"):
            series[key]["buckets"].append((float(sample.labels["le"]), sample.value))
        elif sample.name.endswith("_sum"):
            series[key]["sum"] = sample.value
        elif sample.name.endswith("_count"):
            series[key]["count"] = sample.value
    if not series:
        fail(f"{family.name}: histogram without samples")
    for key, s in series.items():
        where = f"{family.name}{dict(key)}"
        buckets = sorted(s["buckets"])
        if not buckets:
            fail(f"{where}: no _bucket samples")
            continue
        if not math.isinf(buckets[-1][0]):
            fail(f"{where}: no le=\"+Inf\" bucket")
        for (_, a), (_, b) in zip(buckets, buckets[1:]):
            if b < a:
                fail(f"{where}: buckets not cumulative")
                break
        if s["count"] is None:
            fail(f"{where}: no _count")
        elif math.isinf(buckets[-1][0]) and buckets[-1][1] != s["count"]:
            fail(f"{where}: +Inf bucket {buckets[-1][1]} != _count {s['count']}")
        if s["sum"] is None:
            fail(f"{where}: no _sum")


def main():
    text = sys.stdin.buffer.read().decode("utf-8")
    families = list(text_string_to_metric_families(text))
    seen = {}
    routes = set()
    for family in families:
        if family.name in seen:
            fail(f"{family.name}: family appears twice")
        seen[family.name] = family.type
        if not family.documentation:
            fail(f"{family.name}: no help text")
        if family.type == "histogram":
            check_histogram(family)
        for sample in family.samples:
            if "http_route" in sample.labels:
                routes.add(sample.labels["http_route"])
    for name, kind in expected_for(EXPECTED, naming_arg(sys.argv[1:])).items():
        if seen.get(name) != kind:
            fail(f"{name}: expected a {kind} family, found {seen.get(name)}")
    if HOSTILE_ROUTE not in routes:
        fail(f"hostile route did not round-trip; routes: {sorted(routes)!r}")
    if errors:
        for message in errors:
            print("FAIL:", message, file=sys.stderr)
        sys.exit(1)
    print(f"prometheus_client: {len(families)} families OK")


if __name__ == "__main__":
    main()
