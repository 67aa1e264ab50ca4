#!/usr/bin/env bash
# Runs a benchmark binary once, briefly, to prove it still works.
set -euo pipefail
exec "$1" --benchmark_min_time=0.001 --benchmark_repetitions=1
