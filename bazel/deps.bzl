"""`tracebridge_dependencies()`: everything tracebridge needs, from the system.

Call it from a WORKSPACE after `local_repository`/`git_repository` of
tracebridge. Every repository is defined only if the workspace has not defined
it already, so a workspace that builds gRPC, Protobuf or Abseil from source keeps
its own copies.

    load("@tracebridge//bazel:deps.bzl", "tracebridge_dependencies")
    tracebridge_dependencies()
"""

load(":system_libs.bzl", "stub_repository", "system_cc_library", "system_grpc", "system_protobuf")

# Abseil targets exposed under their canonical labels, each backed by the
# pkg-config module of the same component.
_ABSL_TARGETS = {
    "absl/algorithm:algorithm": ["absl_algorithm"],
    "absl/algorithm:container": ["absl_algorithm_container"],
    "absl/base:base": ["absl_base"],
    "absl/base:core_headers": ["absl_core_headers"],
    "absl/base:config": ["absl_config"],
    "absl/base:endian": ["absl_endian"],
    "absl/cleanup:cleanup": ["absl_cleanup"],
    "absl/container:fixed_array": ["absl_fixed_array"],
    "absl/container:flat_hash_map": ["absl_flat_hash_map"],
    "absl/container:flat_hash_set": ["absl_flat_hash_set"],
    "absl/container:inlined_vector": ["absl_inlined_vector"],
    "absl/container:node_hash_map": ["absl_node_hash_map"],
    "absl/flags:flag": ["absl_flags"],
    "absl/flags:parse": ["absl_flags_parse", "absl_flags_usage"],
    "absl/functional:any_invocable": ["absl_any_invocable"],
    "absl/functional:bind_front": ["absl_bind_front"],
    "absl/functional:function_ref": ["absl_function_ref"],
    "absl/hash:hash": ["absl_hash"],
    "absl/memory:memory": ["absl_memory"],
    "absl/numeric:bits": ["absl_bits"],
    "absl/numeric:int128": ["absl_int128"],
    "absl/random:random": ["absl_random_random"],
    "absl/random:bit_gen_ref": ["absl_random_bit_gen_ref"],
    "absl/random:distributions": ["absl_random_distributions"],
    "absl/status:status": ["absl_status"],
    "absl/status:statusor": ["absl_statusor"],
    "absl/strings:strings": ["absl_strings"],
    "absl/strings:cord": ["absl_cord"],
    "absl/strings:str_format": ["absl_str_format"],
    "absl/synchronization:synchronization": ["absl_synchronization"],
    "absl/time:time": ["absl_time"],
    "absl/types:optional": ["absl_optional"],
    "absl/types:span": ["absl_span"],
    "absl/types:variant": ["absl_variant"],
    "absl/utility:utility": ["absl_utility"],
}

_RULES_CC_DEFS = """# Re-exports Bazel's native C++ rules under rules_cc's names.
cc_binary = native.cc_binary
cc_import = native.cc_import
cc_library = native.cc_library
cc_proto_library = native.cc_proto_library
cc_test = native.cc_test
cc_toolchain = native.cc_toolchain
cc_toolchain_suite = native.cc_toolchain_suite
"""

_COVERAGE_TOOLS_BUILD = """package(default_visibility = ["//visibility:public"])

sh_binary(name = "coverage_report_generator", srcs = ["unsupported.sh"])
sh_binary(name = "lcov_merger", srcs = ["unsupported.sh"])
"""

def _maybe(rule, name, **kwargs):
    if not native.existing_rule(name):
        rule(name = name, **kwargs)

def tracebridge_dependencies():
    """Defines the repositories tracebridge builds against (see file comment)."""

    # Offline shims for the repositories Bazel 4 would otherwise download.
    _maybe(
        stub_repository,
        name = "rules_cc",
        files = {"BUILD.bazel": "", "cc/BUILD.bazel": "", "cc/defs.bzl": _RULES_CC_DEFS},
    )
    _maybe(native.local_repository, name = "rules_java", path = "/usr/share/bazel/rules/java")
    _maybe(native.local_repository, name = "platforms", path = "/usr/share/bazel/tools/platforms")
    _maybe(
        stub_repository,
        name = "remote_coverage_tools",
        files = {
            "BUILD.bazel": _COVERAGE_TOOLS_BUILD,
            "unsupported.sh": "#!/bin/sh\necho 'coverage is not available offline' >&2\nexit 1\n",
        },
    )

    # System libraries under their canonical repository names.
    _maybe(system_protobuf, name = "com_google_protobuf")
    _maybe(system_grpc, name = "com_github_grpc_grpc")
    _maybe(system_cc_library, name = "com_google_absl", targets = _ABSL_TARGETS)
    _maybe(
        system_cc_library,
        name = "com_google_googletest",
        targets = {
            ":gtest": ["gmock", "-lpthread"],
            ":gtest_main": ["gmock_main", "-lpthread"],
        },
    )
    _maybe(
        system_cc_library,
        name = "com_github_google_benchmark",
        targets = {
            ":benchmark": ["benchmark", "-lpthread"],
            ":benchmark_main": ["-lbenchmark_main", "benchmark", "-lpthread"],
        },
    )
    _maybe(
        system_cc_library,
        name = "zlib",
        targets = {":zlib": ["zlib"]},
    )
    _maybe(
        system_cc_library,
        name = "com_github_pistacheio_pistache",
        targets = {":pistache": ["libpistache", "-lpthread"]},
    )
