#!/usr/bin/env bash
# Runs python_client_test.py with Debian's Python (python3-grpcio and
# python3-protobuf live there, not in a pyenv interpreter).
#   $1: python_client_test.py   $2: traced_echo_server   $3: echo_pb2.py
set -euo pipefail
if [ ! -x /usr/bin/python3 ]; then
  echo "FAIL: /usr/bin/python3 is missing (apt-get install python3)" >&2
  exit 1
fi
# The generated message modules (echo_pb2, query_pb2) share one directory.
export PYTHONPATH="$(cd "$(dirname "$3")" && pwd)"
# Only this Python's own site-packages: nothing from the user's environment.
export PYTHONNOUSERSITE=1
exec /usr/bin/python3 "$1" --server "$2"
