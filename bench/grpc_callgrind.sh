#!/usr/bin/env bash
# Instructions and allocations per unary RPC, load-independent: runs
# grpc_callgrind_client under callgrind (one dump per configuration, only the
# measured RPCs and the export of their spans instrumented) and prints the
# summary of bench/callgrind_summary.py.
#
#   ./bazelw run --config=opt //bench:grpc_callgrind                 # 2000 RPCs per config
#   ./bazelw run --config=opt //bench:grpc_callgrind -- --rpcs=500 --top=20
#   ./bazelw run --config=opt //bench:grpc_callgrind -- --configs=noop,full
#   ./bazelw run --config=opt //bench:grpc_callgrind -- --smoke      # seconds; judges nothing
#
# $1: the grpc_callgrind_client binary, $2: callgrind_summary.py; then flags:
#   --rpcs=N --warmup=N --configs=LIST   passed to the client
#   --exporter=jsonl                     spans to the JSON-lines exporter (/dev/null)
#   --top=K                              also list tracebridge's K costliest functions
#   --keep=DIR                           keep the callgrind dumps in DIR
#   --smoke                              20 RPCs per configuration
set -euo pipefail
client=$1
summary=$2
shift 2
client_args=()
summary_args=()
keep=""
for arg in "$@"; do
  case "$arg" in
    --smoke) client_args+=(--rpcs=20 --warmup=5) ;;
    --top=*) summary_args+=("$arg") ;;
    --keep=*) keep=${arg#--keep=} ;;
    --rpcs=* | --warmup=* | --configs=* | --exporter=*) client_args+=("$arg") ;;
    *) echo "grpc_callgrind: unknown argument $arg" >&2; exit 2 ;;
  esac
done
command -v valgrind >/dev/null || { echo "grpc_callgrind: valgrind is not installed (./bazelw installs it)" >&2; exit 1; }

if [ -n "$keep" ]; then
  out=$keep
  mkdir -p "$out"
  rm -f "$out"/callgrind.out.*
else
  out=$(mktemp -d "${TEST_TMPDIR:-${TMPDIR:-/tmp}}/grpc_callgrind.XXXXXX")
  trap 'rm -rf "$out"' EXIT
fi

echo "grpc_callgrind: $(uptime | sed 's/^ *//')" >&2
# --instr-atstart=no: the client switches instrumentation on around each
# configuration's measured RPCs. Strings and positions uncompressed, for the
# summary's parser.
valgrind --tool=callgrind --instr-atstart=no --compress-strings=no --compress-pos=no \
  --callgrind-out-file="$out/callgrind.out.%p" \
  "$client" "${client_args[@]}" >"$out/client.txt" 2>"$out/valgrind.txt" || {
  echo "grpc_callgrind: the client failed:" >&2
  cat "$out/valgrind.txt" "$out/client.txt" >&2
  exit 1
}
/usr/bin/python3 "$summary" "$out" "$out/client.txt" "${summary_args[@]}"
