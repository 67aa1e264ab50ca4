#!/usr/bin/env bash
# The Prometheus exposition passes `promtool check metrics` with no finding and
# parses with python3-prometheus-client's parser into well-formed histograms.
# A deliberately broken copy must be rejected, proving the checker checks.
#   $1: the metrics_exposition binary   $2: check_prometheus_exposition.py
set -euo pipefail
sample=$1
checker=$2

for tool in /usr/bin/promtool /usr/bin/python3; do
  if [ ! -x "$tool" ]; then
    echo "FAIL: $tool is missing (apt-get install prometheus python3-prometheus-client;" \
         "./bazelw installs both)" >&2
    exit 1
  fi
done
if ! /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null; then
  echo "FAIL: /usr/bin/python3 cannot import prometheus_client" \
       "(apt-get install python3-prometheus-client)" >&2
  exit 1
fi

dir=${TEST_TMPDIR:-$(mktemp -d)}
"$sample" prometheus > "$dir/metrics.txt"

set +e
findings=$(/usr/bin/promtool check metrics < "$dir/metrics.txt" 2>&1)
rc=$?
set -e
if [ "$rc" -ne 0 ] || [ -n "$findings" ]; then
  echo "FAIL: promtool check metrics (exit $rc):" >&2
  echo "$findings" >&2
  exit 1
fi
echo "promtool: no findings"

/usr/bin/python3 "$checker" < "$dir/metrics.txt"

# The checker must reject a missing +Inf bucket and a _count mismatch.
grep -v 'le="+Inf"' "$dir/metrics.txt" > "$dir/no_inf.txt"
if /usr/bin/python3 "$checker" < "$dir/no_inf.txt" > /dev/null 2>&1; then
  echo "FAIL: checker accepted an exposition without +Inf buckets" >&2
  exit 1
fi
sed -E 's/^(rpc_server_call_duration_seconds_count\{[^}]*\}) [0-9]+$/\1 999999/' \
  "$dir/metrics.txt" > "$dir/bad_count.txt"
if cmp -s "$dir/metrics.txt" "$dir/bad_count.txt" ||
   /usr/bin/python3 "$checker" < "$dir/bad_count.txt" > /dev/null 2>&1; then
  echo "FAIL: checker accepted a _count that differs from the +Inf bucket" >&2
  exit 1
fi
echo "PASS"
