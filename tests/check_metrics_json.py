"""Validates the gin-monitor-shaped metrics JSON read from stdin."""

import json
import sys

HOSTILE_KEY = 'PUT/we"ird\\path\n\x01/\ufffd\ufffd(/caf\u00e9'

doc = json.load(sys.stdin)
errors = []
if doc.get("service_name") != 'orders "gateway"':
    errors.append(f"service_name: {doc.get('service_name')!r}")
if not isinstance(doc.get("uptime_seconds"), (int, float)):
    errors.append("uptime_seconds missing")
for side in ("metrics", "client_metrics"):
    if not isinstance(doc.get(side), dict) or not doc[side]:
        errors.append(f"{side}: missing or empty")
        continue
    for key, m in doc[side].items():
        for field in ("count", "errors", "in_flight"):
            if not isinstance(m.get(field), int) or m[field] < 0:
                errors.append(f"{key}: {field} = {m.get(field)!r}")
        for field in ("avg_duration", "p50", "p90", "p99", "max"):
            if not isinstance(m.get(field), (int, float)) or m[field] < 0:
                errors.append(f"{key}: {field} = {m.get(field)!r}")
        codes = m.get("status_codes")
        if not isinstance(codes, dict):
            errors.append(f"{key}: status_codes = {codes!r}")
            continue
        if sum(codes.values()) != m["count"]:
            errors.append(f"{key}: status codes sum {sum(codes.values())} != count {m['count']}")
        if m["errors"] > m["count"]:
            errors.append(f"{key}: more errors than calls")
        if not m["p50"] <= m["p90"] <= m["p99"] <= m["max"] + 1e-12:
            errors.append(f"{key}: percentiles out of order {m}")
for key in ("GET/ping", "/helloworld.Greeter/SayHello", "GET_OTHER", HOSTILE_KEY):
    if key not in doc.get("metrics", {}):
        errors.append(f"metrics: no key {key!r}")
ping = doc.get("metrics", {}).get("GET/ping", {})
if ping.get("count") != 100 or ping.get("status_codes") != {"200": 100}:
    errors.append(f"GET/ping: {ping!r}")
if errors:
    for message in errors:
        print("FAIL:", message, file=sys.stderr)
    sys.exit(1)
print("json: OK")
