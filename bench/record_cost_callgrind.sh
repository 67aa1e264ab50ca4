#!/usr/bin/env bash
# Instructions per recorded RPC, counted by callgrind: independent of machine
# load, unlike the wall and CPU times of metrics_benchmark. Runs the
# single-thread BM_RecordRpc, BM_RecordRpcSampled and BM_RecordUnary* of each given
# metrics_benchmark binary under `valgrind --tool=callgrind`, collecting only
# inside their timed loops (RecordRpcLoop, RecordSampledLoop: registry setup
# is left out), and divides by the iterations (the calls to Series::Start).
# Given a second binary (say, metrics_benchmark built from an older commit),
# also prints the ratio of the first to the second.
#
#   ./bazelw run --config=opt //bench:record_cost_callgrind
#   ./bazelw run --config=opt //bench:record_cost_callgrind -- /tmp/metrics_benchmark_before
set -euo pipefail

if ! command -v valgrind > /dev/null || ! command -v callgrind_annotate > /dev/null; then
  echo "valgrind is missing: apt-get install valgrind (./bazelw installs it)" >&2
  exit 1
fi
self_dir=$(cd "$(dirname "$0")" && pwd)
binaries=("${RUNFILES_DIR:-$0.runfiles}/tracebridge/bench/metrics_benchmark")
[ -x "${binaries[0]}" ] || binaries=("$self_dir/metrics_benchmark")
binaries+=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prints "<instructions per iteration>" for benchmark $2 of binary $1, whose
# timed loop is function $3, or "-" when the binary has no such benchmark:
# the loop's inclusive instruction count over its calls to Series::Start.
# (Collection is toggled on the benchmark function, so call counts are kept;
# the registry it sets up first is outside the loop and not counted.)
per_iteration() {
  local binary=$1 name=$2 loop=$3 out="$work/callgrind.out"
  rm -f "$out"
  valgrind --tool=callgrind --callgrind-out-file="$out" \
    --toggle-collect="*${name}(*" "$binary" \
    --benchmark_filter="^${name}/threads:1\$" --benchmark_min_time=0.2 > "$work/log" 2>&1 || {
    cat "$work/log" >&2
    return 1
  }
  callgrind_annotate --inclusive=yes "$out" > "$work/inclusive" 2> /dev/null
  callgrind_annotate --tree=caller "$out" > "$work/tree" 2> /dev/null
  /usr/bin/python3 - "$loop" "$work/inclusive" "$work/tree" <<'PY'
import re, sys
loop, inclusive, tree = sys.argv[1], open(sys.argv[2]).read(), open(sys.argv[3]).read()
# "  8,829,770 (10.45%)  <  ???:name (981,085x) [file]": cost, marker, rest.
row = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+([<*>]?)\s*(.*)$")
name = f"::{loop}("
cost = calls = 0
for line in inclusive.splitlines():
    m = row.match(line)
    if m and not m.group(2) and name in m.group(3):
        cost = int(m.group(1).replace(",", ""))
callers = []  # the "<" rows above the current "*" row
for line in tree.splitlines():
    m = row.match(line)
    if not m:
        callers = []
    elif m.group(2) == "<":
        callers.append(m.group(3))
    elif m.group(2) == "*":
        if "tracebridge::Series::Start()" in m.group(3):
            for caller in callers:
                if name in caller:
                    calls += int(re.search(r"\(([\d,]+)x\)", caller).group(1).replace(",", ""))
        callers = []
print(f"{cost / calls:.1f}" if cost and calls else "-")
PY
}

printf "%-60s %14s %20s %12s %12s %12s\n" "binary" "BM_RecordRpc" "BM_RecordRpcSampled" \
  "UnaryCounters" "UnarySizes" "UnaryNoSizes"
declare -a plain=()
for binary in "${binaries[@]}"; do
  a=$(per_iteration "$binary" BM_RecordRpc RecordRpcLoop)
  b=$(per_iteration "$binary" BM_RecordRpcSampled RecordSampledLoop)
  c=$(per_iteration "$binary" BM_RecordUnaryCounters RecordUnaryLoop)
  d=$(per_iteration "$binary" BM_RecordUnarySizes RecordUnaryLoop)
  e=$(per_iteration "$binary" BM_RecordUnaryNoSizes RecordUnaryLoop)
  plain+=("$a")
  printf "%-60s %14s %20s %12s %12s %12s\n" "$binary" "$a" "$b" "$c" "$d" "$e"
done
echo "(instructions per iteration: one Start, one Finish and the loop's own bookkeeping;"
echo " BM_RecordUnary*: also the call's two messages, see bench/metrics_benchmark.cc)"
if [ "${#plain[@]}" -ge 2 ] && [ "${plain[0]}" != "-" ] && [ "${plain[1]}" != "-" ]; then
  /usr/bin/python3 -c "import sys; print(f'BM_RecordRpc ratio first/second: {float(sys.argv[1]) / float(sys.argv[2]):.3f}')" \
    "${plain[0]}" "${plain[1]}"
fi
