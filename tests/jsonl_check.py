#!/usr/bin/python3
"""Independent check of a tracebridge JSON-lines span file.

Usage: jsonl_check.py FILE EXPECTED_LINES

Reads FILE as bytes and fails (exit status 1, reason on stderr) unless it is
strictly valid UTF-8, ends with a newline, holds exactly EXPECTED_LINES lines,
and every line is one JSON object (Python's strict parser: no raw control
characters, no NaN/Infinity) with the schema's members. Escaped surrogates
cannot survive either: re-encoding a decoded string as UTF-8 would fail.

For each line it prints one line of tab-separated fields, hex-encoded so the
C++ test compares exact bytes without parsing anything:
  hex(name) hex(status.description) hex(key):TYPE:VALUE ...
where TYPE is s (VALUE = hex of the UTF-8 string), i, d, b (VALUE = repr).
"""

import json
import sys

REQUIRED = {
    "service_name": str, "resource_attributes": dict, "trace_id": str, "span_id": str,
    "parent_span_id": str, "parent_is_remote": bool, "trace_state": str,
    "trace_flags": str, "name": str, "kind": str, "start_unix_nanos": int,
    "end_unix_nanos": int, "duration_ns": int, "attributes": dict, "events": list,
    "links": list, "status": dict, "dropped_attributes": int, "dropped_events": int,
    "dropped_links": int,
}


def fail(message):
    sys.stderr.write("jsonl_check: " + message + "\n")
    sys.exit(1)


def reject_constant(name):
    raise ValueError("non-standard JSON constant " + name)


def hexs(text):
    return text.encode("utf-8").hex()


def encode_value(value):
    if isinstance(value, bool):
        return "b:" + repr(value)
    if isinstance(value, int):
        return "i:" + repr(value)
    if isinstance(value, float):
        return "d:" + repr(value)
    if isinstance(value, str):
        return "s:" + hexs(value)
    fail("unexpected attribute value %r" % (value,))


def main():
    if len(sys.argv) != 3:
        fail("usage: jsonl_check.py FILE EXPECTED_LINES")
    path, expected = sys.argv[1], int(sys.argv[2])
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        fail("file is not valid UTF-8: %s" % e)
    if not text.endswith("\n"):
        fail("file does not end with a newline")
    if "\u2028" in text or "\u2029" in text:
        fail("raw U+2028/U+2029 in the file")
    lines = text[:-1].split("\n")
    if len(lines) != expected:
        fail("expected %d lines, found %d" % (expected, len(lines)))
    out = []
    for number, line in enumerate(lines, 1):
        try:
            obj = json.loads(line, parse_constant=reject_constant)
        except ValueError as e:
            fail("line %d is not JSON: %s" % (number, e))
        if not isinstance(obj, dict):
            fail("line %d is not an object" % number)
        for key, kind in REQUIRED.items():
            if not isinstance(obj.get(key), kind):
                fail("line %d: member %s missing or not %s" % (number, key, kind.__name__))
        try:
            fields = [hexs(obj["name"]), hexs(obj["status"]["description"])]
            for key, value in obj["attributes"].items():
                fields.append(hexs(key) + ":" + encode_value(value))
            for event in obj["events"]:
                hexs(event["name"])
        except UnicodeEncodeError as e:
            fail("line %d holds a lone surrogate: %s" % (number, e))
        out.append("\t".join(fields))
    sys.stdout.write("\n".join(out) + "\n")


main()
