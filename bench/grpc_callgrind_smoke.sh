#!/usr/bin/env bash
# Runs grpc_callgrind --smoke (20 RPCs per configuration under callgrind) and
# checks that every configuration's row came out: proves the harness, the
# client requests and the summary still work together; no figure is judged.
#   $1: grpc_callgrind.sh, $2: the client binary, $3: callgrind_summary.py
set -euo pipefail
# Valgrind cannot run a binary built with AddressSanitizer or
# ThreadSanitizer (their shadow memory and interceptors clash with its own):
# under those test configurations (which set these variables) there is
# nothing to prove here.
if [ -n "${ASAN_OPTIONS:-}" ] || [ -n "${TSAN_OPTIONS:-}" ]; then
  echo "grpc_callgrind_smoke: skipped: valgrind cannot run sanitizer builds"
  exit 0
fi
out=$("$1" "$2" "$3" --smoke)
echo "$out"
for row in '^config ' '^bare ' '^noop ' '^metrics ' '^full ' '^sampled_out ' '^full_no_xid ' '^floor '; do
  if ! grep -qE "$row" <<<"$out"; then
    echo "FAIL: no line matching '$row' in the output" >&2
    exit 1
  fi
done
