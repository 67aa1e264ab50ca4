#!/usr/bin/env bash
# Runs export_throughput --smoke and checks every exporter's row came out
# with nothing dropped: the pipeline and each exporter still work; no speed
# is judged.
#   $1: the export_throughput binary
set -euo pipefail
out=$("$1" --smoke)
echo "$out"
for name in discard jsonl memory default otlp_grpc; do
  row=$(grep -E "^$name " <<<"$out") || { echo "FAIL: no row for $name" >&2; exit 1; }
  dropped=$(awk '{print $NF}' <<<"$row")
  if [ "$dropped" != "0" ]; then
    echo "FAIL: $name dropped $dropped spans" >&2
    exit 1
  fi
done
