"""Summarises grpc_callgrind's callgrind dumps: instructions and allocations per RPC.

Usage: callgrind_summary.py OUTPUT_DIR CLIENT_STDOUT [--top=K]

OUTPUT_DIR holds the dumps `grpc_callgrind_client` triggered under
`valgrind --tool=callgrind --compress-strings=no --compress-pos=no`, one per
configuration (its `desc: Trigger: Client Request: <config>` line names it).
CLIENT_STDOUT holds the client's `config <name> rpcs <N> operator_new <count>`
lines.

Per configuration it prints, per RPC:

  Ir          every instruction the process ran (all threads)
  own_Ir      Ir minus the noop row's: what tracebridge adds, everything it
              causes included (its hooks, the metadata it adds on the wire)
  hooks_Ir    tracebridge's own code, from the call graph: the cost of every
              function in namespace tracebridge (the benchmark's and the test
              service's excepted) plus the functions it calls outside it,
              except gRPC's Proceed(), through which gRPC runs the rest of the
              call (and, on a sync server, the handler)
  mallocs     calls to malloc/calloc/realloc/posix_memalign/aligned_alloc/
              memalign (gRPC core's allocations and every operator new)
  own_mallocs mallocs minus the noop row's
  new         operator new calls (tests/testing/alloc_counter), and own_new
              the same minus the noop row's
"""

import collections
import os
import re
import sys

ALLOCATORS = {"malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "memalign"}
# Names inside tracebridge's namespace that are not tracebridge: the test
# service (and generated Echo code) and the benchmark's own code.
NOT_OURS = ("tracebridge::testing::", "tracebridge::bench::")
# gRPC's Proceed(), also at a deeper recursion level (callgrind's "'2").
PROCEED = re.compile(r"::Proceed\(\)('\d+)?$")
# A call in progress when the counters were zeroed has a negative inclusive
# cost in the dump (written modulo 2^64): such a call (a thread blocked in a
# wait) is counted as 0.
WRAP = 1 << 63


def ours(name):
    for prefix in NOT_OURS:
        name = name.replace(prefix, "")
    return "tracebridge::" in name


class Dump:
    """One callgrind dump: totals, exclusive costs and call arcs (Ir only)."""

    def __init__(self, path):
        self.trigger = None
        self.total = 0
        self.exclusive = collections.Counter()
        self.arc_cost = collections.Counter()  # (caller, callee) -> inclusive Ir
        self.arc_calls = collections.Counter()  # (caller, callee) -> calls
        fn = None
        callee = None
        pending_call = None
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                if line.startswith("desc: Trigger: Client Request: "):
                    self.trigger = line[len("desc: Trigger: Client Request: "):].strip()
                elif line.startswith("summary:") or line.startswith("totals:"):
                    self.total = int(line.split()[1])
                elif line.startswith("fn="):
                    fn = line[3:]
                elif line.startswith("cfn="):
                    callee = line[4:]
                elif line.startswith("calls="):
                    pending_call = int(line[6:].split()[0])
                elif line[0].isdigit() or line[0] in "+-*":
                    fields = line.split()
                    cost = int(fields[1]) if len(fields) > 1 else 0
                    if cost >= WRAP:
                        cost = 0
                    if pending_call is not None:
                        self.arc_cost[(fn, callee)] += cost
                        self.arc_calls[(fn, callee)] += pending_call
                        pending_call = None
                    else:
                        self.exclusive[fn] += cost

    def allocations(self):
        return sum(calls for (caller, callee), calls in self.arc_calls.items()
                   if callee in ALLOCATORS)

    def own_costs(self):
        """tracebridge function -> its own Ir plus what it calls outside tracebridge."""
        costs = collections.Counter()
        for fn, cost in self.exclusive.items():
            if ours(fn):
                costs[fn] += cost
        for (caller, callee), cost in self.arc_cost.items():
            if ours(caller) and not ours(callee) and not PROCEED.search(callee):
                costs[caller] += cost
        return costs


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    out_dir, stdout_path = argv[1], argv[2]
    top = 0
    for arg in argv[3:]:
        if arg.startswith("--top="):
            top = int(arg[len("--top="):])

    runs = {}
    with open(stdout_path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"config (\S+) rpcs (\d+) operator_new (\d+)", line)
            if m:
                runs[m.group(1)] = (int(m.group(2)), int(m.group(3)))

    dumps = {}
    for name in sorted(os.listdir(out_dir)):
        if not name.startswith("callgrind.out"):
            continue
        dump = Dump(os.path.join(out_dir, name))
        if dump.trigger in runs:
            dumps[dump.trigger] = dump
    order = [c for c in ("bare", "noop", "metrics", "full", "sampled_out", "full_no_xid", "floor") if c in dumps]
    if not order:
        print("callgrind_summary: no configuration's dump found in", out_dir, file=sys.stderr)
        return 1

    rows = {}
    for config in order:
        rpcs, new_calls = runs[config]
        dump = dumps[config]
        rows[config] = {
            "Ir": dump.total / rpcs,
            "hooks": sum(dump.own_costs().values()) / rpcs,
            "mallocs": dump.allocations() / rpcs,
            "new": new_calls / rpcs,
        }
    base = rows.get("noop")

    def delta(config, key):
        if base is None or config in ("bare", "noop"):
            return "-"
        return f"{rows[config][key] - base[key]:.0f}" if key == "Ir" else \
            f"{rows[config][key] - base[key]:.2f}"

    rpcs = runs[order[0]][0]
    print(f"instructions and allocations per unary RPC (client + server, all threads), "
          f"{rpcs} RPCs per configuration")
    print(f"{'config':<12} {'Ir':>9} {'own_Ir':>8} {'hooks_Ir':>9} "
          f"{'mallocs':>8} {'own_mallocs':>11} {'new':>7} {'own_new':>8}")
    for config in order:
        r = rows[config]
        hooks = "-" if config in ("bare", "noop") else f"{r['hooks']:.0f}"
        print(f"{config:<12} {r['Ir']:>9.0f} {delta(config, 'Ir'):>8} {hooks:>9} "
              f"{r['mallocs']:>8.2f} {delta(config, 'mallocs'):>11} "
              f"{r['new']:>7.2f} {delta(config, 'new'):>8}")
    print("own_*: minus the noop row (gRPC's interception alone); hooks_Ir: tracebridge's "
          "functions and what they call, gRPC's Proceed() excepted")

    if top > 0:
        for config in order:
            if config in ("bare", "noop"):
                continue
            rpcs = runs[config][0]
            print(f"\n{config}: tracebridge functions by own cost (Ir per RPC, with callees "
                  f"outside tracebridge)")
            for fn, cost in dumps[config].own_costs().most_common(top):
                print(f"  {cost / rpcs:8.0f}  {fn[:150]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
