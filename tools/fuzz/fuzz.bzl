"""posefix_fuzzer: a libFuzzer target and the test that replays its corpus."""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")

def posefix_fuzzer(name, srcs, deps, corpus):
    """Defines NAME (libFuzzer, `bazel build --config=fuzz`) and NAME_replay.

    Args:
      name: the fuzzer's name.
      srcs: sources defining LLVMFuzzerTestOneInput.
      deps: what they use.
      corpus: a folder of inputs (a filegroup label), replayed by the test.
    """
    cc_binary(
        name = name,
        srcs = srcs,
        deps = deps,
        linkopts = ["-fsanitize=fuzzer"],
        # Needs clang: bazel build --config=fuzz //...:NAME
        tags = ["manual"],
    )
    cc_test(
        name = name + "_replay",
        srcs = srcs,
        deps = deps + ["//tools/fuzz:replay_main"],
        data = [corpus],
        args = ["$(locations %s)" % corpus],
    )
