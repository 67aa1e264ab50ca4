#!/usr/bin/env bash
# Runs one test under ThreadSanitizer with bazel/tsan.supp (`bazel test
# --config=tsan` puts every test under this wrapper with --run_under).
#
# Bazel 4 does not expand %workspace% in --test_env, and a relative
# suppressions path would have to be in every test's runfiles; the wrapper's
# own runfiles are merged into the test's, so the file is found here and its
# absolute path handed to TSan. Child processes the test starts with its
# environment inherit it.
set -euo pipefail
supp="${RUNFILES_DIR:-$PWD/..}/${TEST_WORKSPACE:-tracebridge}/bazel/tsan.supp"
if [ ! -r "$supp" ]; then
  echo "tsan_test_env: $supp not found" >&2
  exit 1
fi
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}suppressions=$supp"
exec "$@"
