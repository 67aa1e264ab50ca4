#!/usr/bin/env bash
# Runs pages_browser_test.py with the system Python (independent of any
# pyenv), writing no bytecode next to the sources it imports. $1-$3: the
# gateway, orders and inventory example binaries.
set -euo pipefail
exec /usr/bin/python3 -B tests/pages_browser_test.py "$@"
