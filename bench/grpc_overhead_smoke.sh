#!/usr/bin/env bash
# Runs grpc_overhead --quick (about a second) and checks it printed its table:
# proves the benchmark still builds and runs; no figure is judged.
#   $1: the grpc_overhead binary
set -euo pipefail
out=$("$1" --quick)
echo "$out"
for row in '^config ' '^bare ' '^noop ' '^metrics ' '^full '; do
  if ! grep -qE "$row" <<<"$out"; then
    echo "FAIL: no line matching '$row' in the output" >&2
    exit 1
  fi
done
