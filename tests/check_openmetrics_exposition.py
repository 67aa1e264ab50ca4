"""Validates an OpenMetrics 1.0 text exposition read from stdin.

Parses it with python3-prometheus-client's OpenMetrics parser (strict: `# EOF`,
counter `_total` samples, escaping, exemplar syntax), then checks what the
parser does not: every family has help text; the families tracebridge promises
are there with their types and units; every histogram series has cumulative
buckets, +Inf equal to _count, and a _sum (check_prometheus_exposition.py's
checks); every exemplar names a trace and a span (32 and 16 lowercase hex
digits, not all zero), carries a timestamp, and its value lies inside its
bucket; and at least `--min-exemplars` exist.
Run with /usr/bin/python3 (Debian's python3-prometheus-client).

Usage: check_openmetrics_exposition.py [--min-exemplars N] [--naming otel|grpc_prometheus] < text
"""

import re
import sys
from collections import defaultdict

from prometheus_client.openmetrics.parser import text_string_to_metric_families

# The histogram structure checks (cumulative, +Inf == _count, _sum) and the
# error list are the text-format checker's.
import check_prometheus_exposition as common

# family -> (type, unit), for the fixture's mix (tests/testing/metrics_fixture.cc).
EXPECTED = {
    "rpc_server_call_duration_seconds": ("histogram", "seconds"),
    "rpc_server_calls_started": ("counter", ""),
    "rpc_server_calls_handled": ("counter", ""),
    "rpc_server_calls_in_flight": ("gauge", ""),
    "rpc_server_request_bytes": ("counter", "bytes"),
    "rpc_client_call_duration_seconds": ("histogram", "seconds"),
    "http_server_request_duration_seconds": ("histogram", "seconds"),
    "http_server_requests_handled": ("counter", ""),
    "http_server_response_body_bytes": ("counter", "bytes"),
    "http_client_request_duration_seconds": ("histogram", "seconds"),
    "tracebridge_uptime_seconds": ("gauge", "seconds"),
    "tracebridge_spans_started": ("counter", ""),
    "tracebridge_spans_dropped": ("counter", ""),
}
TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
SPAN_ID = re.compile(r"^[0-9a-f]{16}$")
fail = common.fail


def check_exemplar(where, exemplar, lower, upper):
    labels = exemplar.labels
    if set(labels) != {"trace_id", "span_id"}:
        fail(f"{where}: exemplar labels {sorted(labels)}")
        return
    if not TRACE_ID.match(labels["trace_id"]) or set(labels["trace_id"]) == {"0"}:
        fail(f"{where}: exemplar trace_id {labels['trace_id']!r}")
    if not SPAN_ID.match(labels["span_id"]) or set(labels["span_id"]) == {"0"}:
        fail(f"{where}: exemplar span_id {labels['span_id']!r}")
    if exemplar.timestamp is None:
        fail(f"{where}: exemplar without a timestamp")
    if not lower < exemplar.value <= upper:
        fail(f"{where}: exemplar value {exemplar.value} outside ({lower}, {upper}]")


def check_exemplars(family):
    """Checks each bucket's exemplar against the bucket's bounds; returns how
    many there are."""
    buckets = defaultdict(list)
    for sample in family.samples:
        if sample.name.endswith("_bucket"):
            key = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
            buckets[key].append((float(sample.labels["le"]), sample.exemplar))
    count = 0
    for key, series in buckets.items():
        lower = 0.0
        for le, exemplar in sorted(series, key=lambda b: b[0]):
            if exemplar is not None:
                count += 1
                check_exemplar(f"{family.name}{dict(key)} le={le}", exemplar, lower, le)
            lower = le
    return count


def main():
    args = sys.argv[1:]
    min_exemplars = 1
    if "--min-exemplars" in args:
        min_exemplars = int(args[args.index("--min-exemplars") + 1])
    text = sys.stdin.buffer.read().decode("utf-8")
    if not text.endswith("# EOF\n"):
        fail("does not end with '# EOF\\n'")
    families = list(text_string_to_metric_families(text))
    seen = {}
    routes = set()
    exemplars = 0
    for family in families:
        if family.name in seen:
            fail(f"{family.name}: family appears twice")
        seen[family.name] = (family.type, family.unit)
        if not family.documentation:
            fail(f"{family.name}: no help text")
        if family.unit and not family.name.endswith("_" + family.unit):
            fail(f"{family.name}: unit {family.unit!r} is not its suffix")
        if family.type == "histogram":
            common.check_histogram(family)
            exemplars += check_exemplars(family)
        for sample in family.samples:
            if "http_route" in sample.labels:
                routes.add(sample.labels["http_route"])
            if family.type == "counter" and not sample.name.endswith(("_total", "_created")):
                fail(f"{family.name}: counter sample {sample.name}")
    for name, kind in common.expected_for(EXPECTED, common.naming_arg(args)).items():
        if seen.get(name) != kind:
            fail(f"{name}: expected {kind}, found {seen.get(name)}")
    if common.HOSTILE_ROUTE not in routes:
        fail(f"hostile route did not round-trip; routes: {sorted(routes)!r}")
    if exemplars < min_exemplars:
        fail(f"{exemplars} exemplars, expected at least {min_exemplars}")
    if common.errors:
        for message in common.errors:
            print("FAIL:", message, file=sys.stderr)
        sys.exit(1)
    print(f"openmetrics parser: {len(families)} families, {exemplars} exemplars OK")


main()
