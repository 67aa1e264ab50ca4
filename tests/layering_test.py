"""Checks that tracebridge's includes point inward only (see README, Architecture).

Usage: layering_test.py FILE...  (the library sources, repository paths)

Every `#include "tracebridge/..."` in a file of one package must name a
package that package may use; including a header by its bare repository path
(core/..., http/..., interceptors/...) is an error too. Exits 1 and lists each violation.
"""

import re
import sys

# package -> the packages its sources may include (itself always allowed).
ALLOWED = {
    "core/util": set(),
    "core/trace": {"core/util"},
    "core/propagation": {"core/trace", "core/util"},
    "core/export": {"core/trace", "core/util"},
    "core/metrics": {"core/util"},
    "core": {"core/trace", "core/propagation", "core/export", "core/metrics", "core/util"},
}
CORE = ALLOWED["core"] | {"core"}
ALLOWED["exporters/otlp"] = CORE
ALLOWED["interceptors"] = CORE
ALLOWED["http"] = CORE
# The admin side serves tracebridge's own telemetry over HTTP and gRPC.
ALLOWED["admin"] = CORE | {"http"}
# The proto package's C++ helpers (tracebridge/v1/...) convert between the
# query messages and core types; every package outside core may use them.
ALLOWED["proto/tracebridge/v1"] = {"core/metrics", "core/util"}
for _package in ("exporters/otlp", "interceptors", "http", "admin"):
    ALLOWED[_package] = ALLOWED[_package] | {"proto/tracebridge/v1"}
# The collector polls the query RPC and writes to InfluxDB over the OTLP
# package's HTTP/1.1 client.
ALLOWED["collector"] = CORE | {"exporters/otlp", "proto/tracebridge/v1"}
# Files allowed more than their package: the one composition point that may
# start an admin listener from InstallOn.
FILE_ALLOWED = {
    "interceptors/install.h": {"admin"},
    "interceptors/install.cc": {"admin"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
BARE = re.compile(r"^(core|http|interceptors|exporters|admin|collector)/")


def package_of(header):
    """The package of an include path below tracebridge/, e.g. core/trace."""
    folder = header.rsplit("/", 1)[0]
    # Protos and their helpers are included by proto path (tracebridge/v1/...).
    return "proto/tracebridge/" + folder if folder == "v1" else folder


def violations(path, text):
    package = path.rsplit("/", 1)[0]
    allowed = ALLOWED.get(package)
    if allowed is None:
        return [f"{path}: not in a known package"]
    allowed = allowed | FILE_ALLOWED.get(path, set())
    found = []
    for included in INCLUDE.findall(text):
        if BARE.match(included):
            found.append(f"{path}: includes {included!r} without the tracebridge/ prefix")
            continue
        if not included.startswith("tracebridge/") or included.endswith(".pb.h"):
            continue
        target = package_of(included[len("tracebridge/"):])
        if target != package and target not in allowed:
            found.append(f"{path}: {package} may not include {included}")
    return found


def main(paths):
    # The checker must be able to fail: a known-bad file is caught.
    assert violations("core/trace/x.h", '#include "tracebridge/core/metrics/registry.h"\n')
    assert violations("http/x.h", '#include "tracebridge/interceptors/install.h"\n')
    assert violations("http/x.h", '#include "' + 'core/telemetry.h"\n')
    assert not violations("http/x.h", '#include "tracebridge/core/trace/span.h"\n')
    assert violations("admin/x.cc", '#include "tracebridge/interceptors/install.h"\n')
    assert violations("interceptors/grpc_interceptors.cc",
                      '#include "tracebridge/admin/query_service.h"\n')
    assert not violations("interceptors/install.cc", '#include "tracebridge/admin/query_service.h"\n')
    assert violations("core/metrics/x.cc", '#include "tracebridge/v1/histogram_conversion.h"\n')
    assert not violations("collector/x.cc", '#include "tracebridge/v1/histogram_conversion.h"\n')
    assert violations("collector/x.cc", '#include "tracebridge/http/endpoints.h"\n')
    assert violations("http/x.cc", '#include "tracebridge/collector/collector.h"\n')

    problems = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            problems += violations(path, f.read())
    for problem in problems:
        print(problem)
    print(f"layering: {len(paths)} files, {len(problems)} violations")
    return 1 if problems or not paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
