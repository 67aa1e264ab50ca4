#!/usr/bin/env bash
# HTTP layer overhead: wrk against a bare Pistache route and the same route
# through tracebridge's TracedRouter (100% sampling, batch processor,
# discarding exporter), interleaved bare/traced per round, then the ratio of
# the medians. Run with:
#   ./bazelw run --config=opt //bench:http_overhead
# Knobs (environment): ROUNDS (3), DURATION (5s), THREADS (wrk -t, 2),
# CONNECTIONS (wrk -c, 16), SERVER_THREADS (Pistache threads per endpoint, 1),
# SERVER_ARGS (more server flags: --no_headers, --metrics_only, --span_store).
# With --smoke (the http_overhead_smoke test): one short round, no timing
# asserted; fails unless both routes answered, wrk's output parsed and the
# traced route recorded its requests.
#   $1: the http_overhead_server binary
set -euo pipefail

server=$1
shift
smoke=0
if [ "${1:-}" = "--smoke" ]; then smoke=1; fi

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
SERVER_THREADS=${SERVER_THREADS:-1}
if [ "$smoke" = 1 ]; then
  ROUNDS=1
  DURATION=1s
  CONNECTIONS=4
fi
WRK=${WRK:-/usr/bin/wrk}
if [ ! -x "$WRK" ]; then
  echo "FAIL: $WRK is missing (apt-get install wrk; ./bazelw installs it)" >&2
  exit 1
fi

dir=${TEST_TMPDIR:-$(mktemp -d)}
rm -f "$dir/server.in"
mkfifo "$dir/server.in"
# shellcheck disable=SC2086
"$server" --threads="$SERVER_THREADS" ${SERVER_ARGS:-} < "$dir/server.in" > "$dir/server.out" 2> "$dir/server.err" &
pid=$!
# Hold the server's stdin open; closing it stops the server.
exec 3> "$dir/server.in"
cleanup() {
  exec 3>&- || true
  wait "$pid" 2>/dev/null || true
}
trap cleanup EXIT

# The server prints its ports once both endpoints listen.
for _ in $(seq 1 100); do
  if grep -q '^bare_port=' "$dir/server.out" 2>/dev/null; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "FAIL: server exited: $(cat "$dir/server.err")" >&2
    exit 1
  fi
  sleep 0.1
done
ports=$(grep '^bare_port=' "$dir/server.out")
bare_port=$(echo "$ports" | sed -E 's/.*bare_port=([0-9]+).*/\1/')
traced_port=$(echo "$ports" | sed -E 's/.*traced_port=([0-9]+).*/\1/')

# Latency text from wrk ("512.00us", "1.20ms", "1.01s") in microseconds.
to_us() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v * 1000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000000 }
    else { print "nan" } }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# The server's CPU time so far (user + system), in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }

run() {  # $1: label, $2: port, $3: round
  local out="$dir/wrk-$1-$3.txt"
  local cpu_before cpu_after
  cpu_before=$(cpu_ticks)
  "$WRK" -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
    "http://127.0.0.1:$2/orders/42" > "$out"
  cpu_after=$(cpu_ticks)
  if grep -q 'Non-2xx or 3xx responses' "$out"; then
    echo "FAIL: $1 answered non-2xx:" >&2
    cat "$out" >&2
    exit 1
  fi
  local rps p50
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  p50=$(awk '$1 == "50%" { print $2 }' "$out")
  if [ -z "$rps" ] || [ -z "$p50" ]; then
    echo "FAIL: could not parse wrk output:" >&2
    cat "$out" >&2
    exit 1
  fi
  # Server CPU per request: less sensitive to other load on the machine than
  # throughput, since it counts only the server's own work.
  local requests cpu_us
  requests=$(awk '/requests in/ { print $1 }' "$out")
  cpu_us=$(awk -v t=$((cpu_after - cpu_before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
    'BEGIN { printf "%.2f", (n > 0 ? t * 1e6 / hz / n : 0) }')
  echo "$rps $(to_us "$p50") $cpu_us"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS rounds, Pistache threads per endpoint: $SERVER_THREADS ${SERVER_ARGS:-}"
echo "$(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-7s %12s %10s %14s\n' round route requests/s p50_us server_cpu_us
: > "$dir/bare.txt"
: > "$dir/traced.txt"
for round in $(seq 1 "$ROUNDS"); do
  read -r rps p50 cpu < <(run bare "$bare_port" "$round")
  printf '%-6s %-7s %12s %10s %14s\n' "$round" bare "$rps" "$p50" "$cpu"
  echo "$rps $p50 $cpu" >> "$dir/bare.txt"
  read -r rps p50 cpu < <(run traced "$traced_port" "$round")
  printf '%-6s %-7s %12s %10s %14s\n' "$round" traced "$rps" "$p50" "$cpu"
  echo "$rps $p50 $cpu" >> "$dir/traced.txt"
done

bare_rps=$(awk '{ print $1 }' "$dir/bare.txt" | median)
traced_rps=$(awk '{ print $1 }' "$dir/traced.txt" | median)
bare_p50=$(awk '{ print $2 }' "$dir/bare.txt" | median)
traced_p50=$(awk '{ print $2 }' "$dir/traced.txt" | median)
bare_cpu=$(awk '{ print $3 }' "$dir/bare.txt" | median)
traced_cpu=$(awk '{ print $3 }' "$dir/traced.txt" | median)
echo
printf '%-22s %12s %12s %8s %s\n' "median of rounds" bare traced ratio target
awk -v b="$bare_rps" -v t="$traced_rps" 'BEGIN {
  r = t / b; printf "%-22s %12.0f %12.0f %8.3f >= 0.95 %s\n", "requests/s", b, t, r, (r >= 0.95 ? "met" : "MISSED") }'
awk -v b="$bare_p50" -v t="$traced_p50" 'BEGIN {
  r = t / b; printf "%-22s %12.1f %12.1f %8.3f <= 1.05 %s\n", "p50 latency (us)", b, t, r, (r <= 1.05 ? "met" : "MISSED") }'
awk -v b="$bare_cpu" -v t="$traced_cpu" 'BEGIN {
  printf "%-22s %12.1f %12.1f %8.3f (+%.1f us/request)\n", "server CPU us/request", b, t, (b > 0 ? t / b : 0), t - b }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

exec 3>&-
wait "$pid"
trap - EXIT
summary=$(grep '^traced_handled=' "$dir/server.out" || true)
echo "server: $summary"
if [ "$smoke" = 1 ]; then
  handled=$(echo "$summary" | sed -E 's/.*traced_handled=([0-9]+).*/\1/')
  spans=$(echo "$summary" | sed -E 's/.*spans_ended=([0-9]+).*/\1/')
  if [ -z "$summary" ] || [ "$handled" -eq 0 ] || [ "$spans" -eq 0 ]; then
    echo "FAIL: the traced route recorded nothing ($summary)" >&2
    exit 1
  fi
  echo "PASS"
fi
