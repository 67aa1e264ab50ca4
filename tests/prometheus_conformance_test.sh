#!/usr/bin/env bash
# The Prometheus exposition passes `promtool check metrics` with no finding and
# parses with python3-prometheus-client's parser into well-formed histograms.
# The OpenMetrics exposition parses with python3-prometheus-client's
# OpenMetrics parser (exemplars included) and with Prometheus' own
# OpenMetrics parser, which promtool runs for `tsdb create-blocks-from
# openmetrics`. (`promtool check metrics` in Prometheus 2.42 lints the 0.0.4
# text format only: it reads an exemplar as a malformed timestamp.)
# Deliberately broken copies must be rejected, proving the checkers check.
# All of it for each naming (otel, grpc_prometheus).
#   $1: the metrics_exposition binary   $2: check_prometheus_exposition.py
#   $3: check_openmetrics_exposition.py
set -euo pipefail
sample=$1
checker=$2
om_checker=$3

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

# Every check, for one naming ($1) and the server histogram it names ($2).
check_naming() {
naming=$1
server_duration=$2
dir=${TEST_TMPDIR:-$(mktemp -d)}/$naming
mkdir -p "$dir"
echo "== $naming"
"$sample" prometheus "$naming" > "$dir/metrics.txt"

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

/usr/bin/python3 "$checker" --naming "$naming" < "$dir/metrics.txt"

# The checker must reject a missing +Inf bucket and a _count mismatch.
grep -v 'le="+Inf"' "$dir/metrics.txt" > "$dir/no_inf.txt"
if /usr/bin/python3 "$checker" --naming "$naming" < "$dir/no_inf.txt" > /dev/null 2>&1; then
  echo "FAIL: checker accepted an exposition without +Inf buckets" >&2
  exit 1
fi
sed -E "s/^(${server_duration}_count\\{[^}]*\\}) [0-9]+\$/\\1 999999/" \
  "$dir/metrics.txt" > "$dir/bad_count.txt"
if cmp -s "$dir/metrics.txt" "$dir/bad_count.txt" ||
   /usr/bin/python3 "$checker" --naming "$naming" < "$dir/bad_count.txt" > /dev/null 2>&1; then
  echo "FAIL: checker accepted a _count that differs from the +Inf bucket" >&2
  exit 1
fi

# OpenMetrics.
"$sample" openmetrics "$naming" > "$dir/openmetrics.txt"
/usr/bin/python3 "$om_checker" --min-exemplars 3 --naming "$naming" < "$dir/openmetrics.txt"
# The backfill wants a timestamp on every sample: one is added after each
# value (before any exemplar), nothing else changes.
awk '/^#/ { print; next }
     { at = index($0, " # {")
       if (at > 0) print substr($0, 1, at - 1) " 1700000000" substr($0, at)
       else print $0 " 1700000000" }' "$dir/openmetrics.txt" > "$dir/openmetrics_ts.txt"
if ! /usr/bin/promtool tsdb create-blocks-from openmetrics "$dir/openmetrics_ts.txt" \
       "$dir/blocks" > "$dir/backfill.log" 2>&1 ||
   grep -q "getting min and max timestamp\|error" "$dir/backfill.log"; then
  echo "FAIL: Prometheus' OpenMetrics parser rejected the exposition:" >&2
  cat "$dir/backfill.log" >&2
  exit 1
fi
echo "promtool (OpenMetrics parser): $(grep -c '^[0-9A-Z]\{26\}' "$dir/backfill.log") block(s)"

# Both parsers must reject a text without "# EOF", and the checker a torn
# exemplar (a trace id one digit short).
grep -v '^# EOF' "$dir/openmetrics_ts.txt" > "$dir/no_eof.txt"
if /usr/bin/promtool tsdb create-blocks-from openmetrics "$dir/no_eof.txt" "$dir/blocks2" 2>&1 |
     grep -q "^[0-9A-Z]\{26\} "; then
  echo "FAIL: promtool accepted OpenMetrics without # EOF" >&2
  exit 1
fi
if grep -v '^# EOF' "$dir/openmetrics.txt" |
     /usr/bin/python3 "$om_checker" --naming "$naming" > /dev/null 2>&1; then
  echo "FAIL: checker accepted OpenMetrics without # EOF" >&2
  exit 1
fi
sed -E 's/trace_id="[0-9a-f]/trace_id="/' "$dir/openmetrics.txt" > "$dir/torn.txt"
if cmp -s "$dir/openmetrics.txt" "$dir/torn.txt" ||
   /usr/bin/python3 "$om_checker" --naming "$naming" < "$dir/torn.txt" > /dev/null 2>&1; then
  echo "FAIL: checker accepted a 31-digit exemplar trace id" >&2
  exit 1
fi
}

check_naming otel rpc_server_call_duration_seconds
check_naming grpc_prometheus grpc_server_handling_seconds
# The names really differ: each naming's families are the ones it promises.
for naming in otel grpc_prometheus; do
  "$sample" prometheus "$naming" > "${TEST_TMPDIR:-/tmp}/$naming.txt"
done
grep -q '^grpc_server_handled_total{grpc_type="unary",grpc_service="helloworld.Greeter",grpc_method="SayHello",grpc_code="OK"} ' \
  "${TEST_TMPDIR:-/tmp}/grpc_prometheus.txt" ||
  { echo "FAIL: grpc_prometheus has no grpc_server_handled_total{grpc_code=\"OK\"}" >&2; exit 1; }
if grep -q '^grpc_' "${TEST_TMPDIR:-/tmp}/otel.txt"; then
  echo "FAIL: the otel naming has grpc_ families" >&2
  exit 1
fi
echo "PASS"
