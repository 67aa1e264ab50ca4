#!/usr/bin/env bash
# Runs an OTLP/HTTP interop test (otlp_http_python_test.py,
# otlp_metrics_http_python_test.py) with Debian's Python (python3-protobuf
# lives there, not in a pyenv interpreter).
#   $1: the test script   $2: its sender binary
#   $3: a generated *_service_pb2.py (its tree holds every module)
set -euo pipefail
if [ ! -x /usr/bin/python3 ]; then
  echo "FAIL: /usr/bin/python3 is missing (apt-get install python3)" >&2
  exit 1
fi
# .../opentelemetry/proto/collector/trace/v1/trace_service_pb2.py -> the root
# the generated packages (opentelemetry/, tracebridge/) sit in.
root="$(cd "$(dirname "$3")/../../../../.." && pwd)"
export PYTHONPATH="$root"
export PYTHONNOUSERSITE=1
exec /usr/bin/python3 "$1" --sender "$2"
