"""Repository rules that wrap libraries installed from Debian's apt.

Nothing is downloaded: each rule symlinks the header folders a library needs
into its own repository directory and links the installed shared objects with
-l flags (taken from pkg-config where the library ships a .pc file).
"""

def _link_headers(ctx, headers):
    for source, dest in headers.items():
        if not ctx.path(source).exists:
            fail("{}: header folder {} is missing; run tools/setup.sh".format(ctx.name, source))
        ctx.symlink(source, "include/" + dest)

def _pkg_config_libs(ctx, modules):
    if not modules:
        return []
    result = ctx.execute(["pkg-config", "--libs"] + modules)
    if result.return_code != 0:
        fail("{}: pkg-config --libs {} failed: {}".format(ctx.name, " ".join(modules), result.stderr))
    return result.stdout.strip().split(" ")

def _system_cc_library_impl(ctx):
    _link_headers(ctx, ctx.attr.headers)
    linkopts = _pkg_config_libs(ctx, ctx.attr.pkg_config) + ctx.attr.linkopts
    ctx.file("WORKSPACE", 'workspace(name = "{}")\n'.format(ctx.name))
    ctx.file("BUILD", """
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "{name}",
    hdrs = glob(["include/**"]),
    includes = {includes},
    linkopts = {linkopts},
)
""".format(
        name = ctx.attr.target,
        includes = repr(["include/" + i if i else "include" for i in ctx.attr.includes]),
        linkopts = repr(linkopts),
    ) + "".join(["""
cc_library(
    name = "{}",
    linkopts = {},
    deps = [":{}"],
)
""".format(name, repr(flags), ctx.attr.target) for name, flags in ctx.attr.variants.items()]))

system_cc_library = repository_rule(
    implementation = _system_cc_library_impl,
    attrs = {
        "target": attr.string(mandatory = True, doc = "Name of the cc_library target."),
        "headers": attr.string_dict(doc = "Absolute header folder -> path under include/."),
        "includes": attr.string_list(default = [""], doc = "Include roots relative to include/."),
        "pkg_config": attr.string_list(doc = "pkg-config modules whose --libs are linked."),
        "linkopts": attr.string_list(doc = "Extra link flags."),
        "variants": attr.string_list_dict(doc = "Extra targets: name -> link flags, each on top of the main target (e.g. gtest_main)."),
    },
    local = True,
)

def _system_protobuf_impl(ctx):
    _link_headers(ctx, {"/usr/include/google/protobuf": "google/protobuf"})
    protoc = ctx.which("protoc")
    if protoc == None:
        fail("protoc is not installed; run tools/setup.sh")
    ctx.file("protoc.sh", "#!/bin/sh\nexec {} \"$@\"\n".format(protoc), executable = True)
    ctx.file("WORKSPACE", 'workspace(name = "com_google_protobuf")\n')
    well_known = ["any", "duration", "struct", "timestamp", "wrappers"]
    wkt_rules = "\n".join([
        """proto_library(
    name = "{0}_proto",
    srcs = ["include/google/protobuf/{0}.proto"],
    strip_import_prefix = "include",
)
""".format(n)
        for n in well_known
    ])
    ctx.file("BUILD", """
package(default_visibility = ["//visibility:public"])

sh_binary(
    name = "protoc",
    srcs = ["protoc.sh"],
)

cc_library(
    name = "protobuf",
    hdrs = glob(["include/**/*.h", "include/**/*.inc"]),
    includes = ["include"],
    linkopts = ["-lprotobuf", "-lpthread"],
)

alias(
    name = "protobuf_headers",
    actual = ":protobuf",
)

{wkt_rules}

# libprotobuf already contains the generated code of the well-known types.
proto_lang_toolchain(
    name = "cc_toolchain",
    command_line = "--cpp_out=$(OUT)",
    runtime = ":protobuf",
    blacklisted_protos = {wkt_labels},
)
""".format(
        wkt_rules = wkt_rules,
        wkt_labels = repr([":{}_proto".format(n) for n in well_known]),
    ))

system_protobuf = repository_rule(
    implementation = _system_protobuf_impl,
    local = True,
)

_TORCH_ENV = "POSEFIX_LIBTORCH"
_TORCH_CUDA_ENV = "POSEFIX_TORCH_CUDA"

def _libtorch_impl(ctx):
    root = ctx.os.environ.get(_TORCH_ENV, "")
    want_cuda = ctx.os.environ.get(_TORCH_CUDA_ENV, "0") == "1"
    defines = []
    if root:
        # A libtorch distribution or a PyTorch wheel's site-packages/torch.
        include = root + "/include"
        lib = root + "/lib"
        for required in [include + "/torch/csrc/api/include/torch/torch.h", lib + "/libtorch_cpu.so"]:
            if not ctx.path(required).exists:
                fail("{}={}: {} not found; point it at a libtorch folder or site-packages/torch".format(_TORCH_ENV, root, required))
        _link_headers(ctx, {include + "/" + d: d for d in ["torch", "ATen", "c10", "caffe2"]})
        # --push-state/--pop-state: keep every LibTorch library (its CUDA
        # kernels register themselves at load time) without turning
        # --as-needed on for the libraries that follow on the link line.
        libs = ["-L" + lib, "-Wl,-rpath," + lib, "-Wl,--push-state,--no-as-needed"]
        has_cuda = ctx.path(lib + "/libtorch_cuda.so").exists
        if want_cuda and not has_cuda:
            fail("--config=cuda: {} has no libtorch_cuda.so; {} must name a CUDA-enabled LibTorch".format(lib, _TORCH_ENV))
        if has_cuda:
            libs += ["-ltorch_cuda", "-lc10_cuda"]
            defines.append("POSEFIX_TORCH_CUDA=1")
        libs += ["-ltorch", "-ltorch_cpu", "-lc10", "-Wl,--pop-state"]

        # A pip wheel finds its CUDA runtime in the sibling nvidia-* wheels
        # (site-packages/nvidia/*/lib): make the binaries find them too.
        nvidia = ctx.path(root).dirname.get_child("nvidia")
        if nvidia.exists:
            for package in nvidia.readdir():
                if package.get_child("lib").exists:
                    libs.append("-Wl,-rpath,{}/lib".format(package))
        # Debian's libraries use the C++11 ABI; a pre-C++11-ABI LibTorch cannot link with them.
        old_abi = ctx.execute(["grep", "-rqs", "_GLIBCXX_USE_CXX11_ABI=0", root + "/share/cmake/Torch/TorchConfig.cmake"])
        if old_abi.return_code == 0:
            fail("{}={} was built with _GLIBCXX_USE_CXX11_ABI=0; use a C++11-ABI LibTorch".format(_TORCH_ENV, root))
    else:
        if want_cuda:
            fail("--config=cuda needs {} set to a CUDA-enabled LibTorch (e.g. --repo_env={}=/path/to/site-packages/torch)".format(_TORCH_ENV, _TORCH_ENV))
        _link_headers(ctx, {"/usr/include/" + d: d for d in ["torch", "ATen", "c10", "caffe2"]})
        libs = ["-Wl,--push-state,--no-as-needed", "-ltorch", "-ltorch_cpu", "-lc10", "-Wl,--pop-state"]
    ctx.file("WORKSPACE", 'workspace(name = "libtorch")\n')
    ctx.file("BUILD", """
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "libtorch",
    hdrs = glob(["include/**/*.h", "include/**/*.hpp", "include/**/*.cuh"]),
    includes = ["include", "include/torch/csrc/api/include"],
    defines = {defines},
    linkopts = {libs} + ["-lpthread"],
)

""".format(defines = repr(defines), libs = repr(libs)))

libtorch_repository = repository_rule(
    implementation = _libtorch_impl,
    environ = [_TORCH_ENV, _TORCH_CUDA_ENV],
    local = True,
)
