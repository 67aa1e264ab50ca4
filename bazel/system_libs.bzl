"""Repository rules that expose Debian's system libraries to Bazel.

Each rule writes a small repository whose targets carry the names the Bazel
ecosystem already uses (`@com_github_grpc_grpc//:grpc++`,
`@com_google_absl//absl/status:statusor`, ...). Headers come from /usr/include;
link flags are read from pkg-config when the repository is fetched, so they
follow the installed packages instead of a hand-kept list.
"""

def _pkg_config_libs(rctx, modules):
    """Returns the linker flags pkg-config reports for `modules`."""
    if not modules:
        return []
    result = rctx.execute(["pkg-config", "--libs"] + modules)
    if result.return_code != 0:
        fail("pkg-config --libs %s failed (is the -dev package installed? run ./bazelw): %s" %
             (" ".join(modules), result.stderr))
    return [flag for flag in result.stdout.strip().replace("\n", " ").split(" ") if flag]

def _cc_library_text(name, linkopts, deps = [], visibility = "//visibility:public"):
    return """cc_library(
    name = {name},
    linkopts = {linkopts},
    deps = {deps},
    visibility = [{visibility}],
)
""".format(
        name = repr(name),
        linkopts = repr(linkopts),
        deps = repr(deps),
        visibility = repr(visibility),
    )

def _write_packages(rctx, packages):
    """`packages` maps a package path ("" for the root) to BUILD text."""
    for package, text in packages.items():
        path = package + "/BUILD.bazel" if package else "BUILD.bazel"
        rctx.file(path, text, executable = False)
    rctx.file("WORKSPACE", "workspace(name = %r)\n" % rctx.name, executable = False)

def _system_cc_library_impl(rctx):
    """Targets given as {"package:target": [pkg-config modules or -lflags]}."""
    packages = {}
    for label, sources in rctx.attr.targets.items():
        package, _, target = label.rpartition(":")
        modules = [s for s in sources if not s.startswith("-")]
        raw = [s for s in sources if s.startswith("-")]
        text = _cc_library_text(target, _pkg_config_libs(rctx, modules) + raw)
        packages[package] = packages.get(package, "") + text
    for package, text in rctx.attr.extra_build.items():
        packages[package] = packages.get(package, "") + text
    for path, text in rctx.attr.extra_files.items():
        rctx.file(path, text, executable = False)
    _write_packages(rctx, packages)

system_cc_library = repository_rule(
    implementation = _system_cc_library_impl,
    attrs = {
        "targets": attr.string_list_dict(mandatory = True),
        "extra_build": attr.string_dict(),
        "extra_files": attr.string_dict(),
    },
    local = True,
    doc = "cc_library targets backed by installed system libraries.",
)

def _system_protobuf_impl(rctx):
    """Protobuf's runtime, protoc and the toolchain native cc_proto_library uses."""
    protoc = rctx.which("protoc")
    if not protoc:
        fail("protoc not found (package protobuf-compiler); run ./bazelw")
    rctx.symlink(protoc, "protoc_bin")
    linkopts = _pkg_config_libs(rctx, ["protobuf"])

    # Well-known types: sources for proto_library imports; their C++ code is
    # already in libprotobuf, so cc_proto_library must not generate it again.
    wkt = ["any", "api", "duration", "empty", "field_mask", "source_context",
           "struct", "timestamp", "type", "wrappers", "descriptor"]
    wkt_rules = ""
    for name in wkt:
        rctx.symlink("/usr/include/google/protobuf/%s.proto" % name,
                     "google/protobuf/%s.proto" % name)
        wkt_rules += """proto_library(
    name = "{name}_proto",
    srcs = ["google/protobuf/{name}.proto"],
    visibility = ["//visibility:public"],
)
""".format(name = name)

    rctx.file("BUILD.bazel", """
package(default_visibility = ["//visibility:public"])

{runtime}
alias(name = "protobuf_headers", actual = ":protobuf")
alias(name = "protobuf_lite", actual = ":protobuf")

sh_binary(
    name = "protoc",
    srcs = ["protoc_bin"],
)

proto_lang_toolchain(
    name = "cc_toolchain",
    command_line = "--cpp_out=$(OUT)",
    runtime = ":protobuf",
    blacklisted_protos = [{wkt_labels}],
)

{wkt_rules}
filegroup(
    name = "well_known_protos",
    srcs = glob(["google/protobuf/*.proto"]),
)
""".format(
        runtime = _cc_library_text("protobuf", linkopts),
        wkt_labels = ", ".join(['":%s_proto"' % n for n in wkt]),
        wkt_rules = wkt_rules,
    ), executable = False)
    rctx.file("WORKSPACE", "workspace(name = %r)\n" % rctx.name, executable = False)

system_protobuf = repository_rule(
    implementation = _system_protobuf_impl,
    local = True,
    doc = "com_google_protobuf backed by Debian's libprotobuf and protoc.",
)

def _system_grpc_impl(rctx):
    plugin = rctx.which("grpc_cpp_plugin")
    if not plugin:
        fail("grpc_cpp_plugin not found (package protobuf-compiler-grpc); run ./bazelw")
    rctx.symlink(plugin, "grpc_cpp_plugin_bin")
    rctx.symlink(rctx.attr._cc_grpc_library, "bazel/cc_grpc_library.bzl")
    rctx.file("bazel/BUILD.bazel", "", executable = False)
    rctx.file("BUILD.bazel", """
package(default_visibility = ["//visibility:public"])

{grpcpp}
{reflection}
{grpc}
alias(name = "grpc++_unsecure", actual = ":grpc++")

sh_binary(
    name = "grpc_cpp_plugin",
    srcs = ["grpc_cpp_plugin_bin"],
)
""".format(
        grpcpp = _cc_library_text("grpc++", _pkg_config_libs(rctx, ["grpc++", "protobuf"]),
                                  deps = ["@com_google_protobuf//:protobuf"]),
        reflection = _cc_library_text("grpc++_reflection", ["-lgrpc++_reflection"],
                                      deps = [":grpc++"]),
        grpc = _cc_library_text("grpc", _pkg_config_libs(rctx, ["grpc"])),
    ), executable = False)
    rctx.file("WORKSPACE", "workspace(name = %r)\n" % rctx.name, executable = False)

system_grpc = repository_rule(
    implementation = _system_grpc_impl,
    attrs = {
        "_cc_grpc_library": attr.label(default = Label("//bazel:cc_grpc_library.bzl")),
    },
    local = True,
    doc = "com_github_grpc_grpc backed by Debian's libgrpc++ and grpc_cpp_plugin.",
)

def _stub_repository_impl(rctx):
    for path, text in rctx.attr.files.items():
        rctx.file(path, text, executable = path.endswith(".sh"))
    if "WORKSPACE" not in rctx.attr.files:
        rctx.file("WORKSPACE", "workspace(name = %r)\n" % rctx.name, executable = False)

stub_repository = repository_rule(
    implementation = _stub_repository_impl,
    attrs = {"files": attr.string_dict(mandatory = True)},
    doc = "A repository written from literal file contents (offline shims).",
)
