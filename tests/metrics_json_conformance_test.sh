#!/usr/bin/env bash
# The JSON document parses with Python's json module and has the gin-monitor
# shape, whatever bytes the route names contain.
#   $1: the metrics_exposition binary   $2: check_metrics_json.py
set -euo pipefail
if [ ! -x /usr/bin/python3 ]; then
  echo "FAIL: /usr/bin/python3 is missing (apt-get install python3)" >&2
  exit 1
fi
dir=${TEST_TMPDIR:-$(mktemp -d)}
"$1" json > "$dir/metrics.json"
/usr/bin/python3 "$2" < "$dir/metrics.json"
