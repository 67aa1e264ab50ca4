"""`cc_fuzz_test`: one fuzz target, two ways to run it.

    cc_fuzz_test(
        name = "traceparent_fuzz",
        srcs = ["traceparent_fuzz.cc"],   # defines LLVMFuzzerTestOneInput
        deps = ["//core/propagation:w3c_propagators"],
        corpus = glob(["corpus/traceparent/*"]),
    )

- `<name>`: a cc_test that replays every corpus file through the target with
  a small standalone driver. It runs under `bazel test //...` with any
  compiler and under --config=asan/ubsan, so the seeds are a regression suite.
- `<name>_fuzzer`: the same target linked for libFuzzer; build it with
  `--config=fuzz` (clang) and run it for a bounded time (see
  tests/fuzz/run_fuzzers.sh).
"""

def cc_fuzz_test(name, srcs, deps = [], corpus = [], **kwargs):
    native.cc_test(
        name = name,
        srcs = srcs,
        deps = deps + ["//tests/fuzz:replay_driver"],
        data = corpus,
        args = ["$(location %s)" % c for c in corpus],
        size = "small",
        **kwargs
    )
    native.cc_binary(
        name = name + "_fuzzer",
        srcs = srcs,
        deps = deps,
        testonly = True,
        linkopts = ["-fsanitize=fuzzer"],
        tags = ["manual", "fuzzer"],
        **kwargs
    )
    native.filegroup(
        name = name + "_corpus",
        srcs = corpus,
        testonly = True,
    )
