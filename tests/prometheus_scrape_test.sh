#!/usr/bin/env bash
# Runs prometheus_scrape_test.py with the system Python (independent of any
# pyenv). $1-$3: the gateway, orders and inventory example binaries.
set -euo pipefail
exec /usr/bin/python3 tests/prometheus_scrape_test.py "$@"
