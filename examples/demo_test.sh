#!/usr/bin/env bash
# Runs the demo test with the system Python (independent of any pyenv).
set -euo pipefail
exec /usr/bin/python3 examples/demo_test.py "$1"
