#!/usr/bin/env bash
# Runs the demo and checks that it answered both calls.
set -euo pipefail
out=$(timeout 60 examples/demo)
echo "$out"
grep -q 'Echo/Unary  -> OK' <<<"$out"
grep -q 'GET /ping  -> 200 "pong"' <<<"$out"
grep -q 'all calls answered' <<<"$out"
