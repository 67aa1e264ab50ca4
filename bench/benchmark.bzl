"""`cc_benchmark`: a Google Benchmark binary plus a smoke test that runs it.

The binary is what `bazel run --config=opt` measures; the `<name>_smoke` test
runs every benchmark for a minimal time, so `bazel test //...` proves each one
still builds and runs without spending CI time on measurement.
"""

def cc_benchmark(name, srcs, deps = [], data = [], **kwargs):
    native.cc_binary(
        name = name,
        srcs = srcs,
        deps = deps + ["@com_github_google_benchmark//:benchmark_main"],
        data = data,
        testonly = True,
        **kwargs
    )
    native.sh_test(
        name = name + "_smoke",
        srcs = ["//bench:run_smoke.sh"],
        args = ["$(location :%s)" % name],
        data = [":" + name] + data,
        size = "small",
    )
