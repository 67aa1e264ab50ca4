#!/usr/bin/env bash
# Builds every libFuzzer target (tag "fuzzer", made by cc_fuzz_test in
# bazel/fuzz.bzl) with --config=fuzz (clang, ASan, UBSan) and runs each for a
# bounded time on a copy of its seed corpus. Prints one summary line per
# target:
#
#   fuzz: //tests/fuzz:b3_fuzz_fuzzer PASSED in 20s (1234567 runs, cov 345, corpus 7 seeds)
#   fuzz: //tests/fuzz:x_fuzzer FAILED (exit 1, see /tmp/...)
#
# and exits non-zero if any target failed to build, crashed, leaked, hit a
# UBSan report, timed out on an input or ran out of memory.
#
# Environment:
#   FUZZ_SECONDS    time per target (default 20)
#   FUZZ_RSS_MB     libFuzzer -rss_limit_mb (default 2048)
#   FUZZ_TIMEOUT    libFuzzer -timeout per input, seconds (default 10)
#   FUZZ_ARTIFACTS  where crash inputs and logs go (default: a temp dir, kept
#                   only when something failed)
#
# The clang build uses its own Bazel output base next to the workspace's
# (<output_base>-fuzz): --repo_env=CC=clang re-runs Bazel 4's toolchain
# autoconfiguration, so sharing the gcc output base would regenerate the
# toolchain and drop the analysis cache on every switch.
set -uo pipefail
cd "$(dirname "$0")/../.."

seconds=${FUZZ_SECONDS:-20}
rss_mb=${FUZZ_RSS_MB:-2048}
per_input_timeout=${FUZZ_TIMEOUT:-10}
artifacts=${FUZZ_ARTIFACTS:-}
keep_artifacts=0
if [ -z "$artifacts" ]; then
  artifacts=$(mktemp -d "${TMPDIR:-/tmp}/tracebridge-fuzz.XXXXXX")
else
  mkdir -p "$artifacts"
  keep_artifacts=1
fi

main_base=$(./bazelw info output_base 2>/dev/null) || {
  echo "fuzz: build FAILED (bazel info output_base)"
  exit 1
}
fuzz_bazel=(./bazelw --output_base="${main_base}-fuzz")
cleanup() {
  "${fuzz_bazel[@]}" shutdown >/dev/null 2>&1 || true
  [ "$keep_artifacts" -eq 1 ] || rm -rf "$artifacts"
}
trap cleanup EXIT

mapfile -t targets < <(./bazelw query --noshow_progress 'attr(tags, "\bfuzzer\b", //...)' 2>/dev/null | sort)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no targets tagged fuzzer"
  exit 0
fi

echo "==> building ${#targets[@]} fuzz targets with --config=fuzz"
build_log="$artifacts/build.log"
# --symlink_prefix=/ keeps the workspace's bazel-* links on the gcc tree.
if ! "${fuzz_bazel[@]}" build --config=fuzz --symlink_prefix=/ "${targets[@]}" >"$build_log" 2>&1; then
  grep -v 'Cannot export local symbol' "$build_log" | tail -40
  echo "fuzz: build FAILED"
  keep_artifacts=1
  exit 1
fi
bin=$("${fuzz_bazel[@]}" info --config=fuzz bazel-bin 2>/dev/null)

status=0
for target in "${targets[@]}"; do
  package=${target#//}
  package=${package%%:*}
  name=${target##*:}
  binary="$bin/$package/$name"
  base=${name%_fuzzer}
  work="$artifacts/$base"
  mkdir -p "$work/corpus"
  # The seeds are the <base>_corpus filegroup; fuzz a copy so new inputs
  # never land in the source tree.
  seeds=0
  while read -r seed; do
    [ -n "$seed" ] || continue
    seed=${seed#//}
    cp "${seed%%:*}/${seed#*:}" "$work/corpus/" && seeds=$((seeds + 1))
  done < <(./bazelw query --noshow_progress "labels(srcs, //$package:${base}_corpus)" 2>/dev/null)

  log="$work/fuzz.log"
  start=$(date +%s)
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    timeout --kill-after=10 $((seconds + 60)) \
    "$binary" -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout="$per_input_timeout" \
    -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" >"$log" 2>&1
  rc=$?
  elapsed=$(($(date +%s) - start))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  if [ "$rc" -eq 0 ] && ! grep -qE 'runtime error:|ERROR: (Address|Leak|UndefinedBehavior)Sanitizer' "$log"; then
    echo "fuzz: $target PASSED in ${elapsed}s (${runs:-?} runs, cov ${cov:-?}, corpus $seeds seeds)"
  else
    grep -E 'runtime error:|ERROR:|FUZZ_CHECK|Test unit written|^#[0-9]+ +(CRASH|DONE)' "$log" | head -20
    echo "fuzz: $target FAILED (exit $rc, log $log)"
    status=1
    keep_artifacts=1
  fi
done
exit "$status"
