"""cuda_library: compiles .cu files with nvcc (a genrule per file) into a cc_library.

nvcc and the CUDA root come from --define=NVCC=... and --define=CUDA_HOME=... (set by
--config=cuda in .bazelrc; override them after it). Targets are compatible only with
--config=cuda, so `bazel test //...` skips them on machines without nvcc.
"""

# sm_80 (A100), sm_90 (H100/H200) and PTX for newer GPUs.
_GENCODE = [
    "-gencode=arch=compute_80,code=sm_80",
    "-gencode=arch=compute_90,code=sm_90",
    "-gencode=arch=compute_90,code=compute_90",
]

CUDA_ONLY = select({
    "//third_party/cuda:enabled": [],
    "//conditions:default": ["//third_party/cuda:not_enabled"],
})

def cuda_library(name, srcs, hdrs = [], deps = [], cuh = [], nvcc_flags = [], **kwargs):
    """A cc_library of nvcc-compiled objects. Headers are plain C++ (no CUDA syntax).

    cuh: headers outside `hdrs` that the .cu files include (device-code .cuh files and the
    plain headers of deps), e.g. "//common/cuda:block_reduce.cuh"; each must be exported.
    """
    objs = []
    for src in srcs:
        obj = "_%s_%s.o" % (name, src.replace("/", "_").replace(".cu", ""))
        native.genrule(
            name = obj + "_nvcc",
            srcs = [src] + hdrs + cuh + native.glob(["**/*.cuh"]),
            outs = [obj],
            cmd = " ".join([
                "$(NVCC)",
                "-std=c++17",
                "-O3",
                "-Xcompiler=-fPIC",
                "-I.",
                "-I$(GENDIR)",
            ] + _GENCODE + nvcc_flags + [
                "-c $(location %s)" % src,
                "-o $@",
            ]),
            target_compatible_with = CUDA_ONLY,
            tags = ["cuda"],
        )
        objs.append(obj)
    native.cc_library(
        name = name,
        srcs = objs,
        hdrs = hdrs,
        deps = deps + ["//third_party/cuda:cudart"],
        target_compatible_with = CUDA_ONLY,
        linkstatic = True,
        tags = kwargs.pop("tags", []) + ["cuda"],
        **kwargs
    )

# Binaries that //benchmarks:gpu_bundle packs: our code linked in statically, the remaining
# shared libraries looked up beside the binary first.
_BUNDLE_LINKOPTS = ["-Wl,-rpath,'$$ORIGIN/lib'"]

def cuda_test(name, tags = [], linkopts = [], **kwargs):
    """A cc_test that exists only with --config=cuda; tagged "cuda" so CI can select it."""
    native.cc_test(
        name = name,
        tags = tags + ["cuda"],
        target_compatible_with = CUDA_ONLY,
        linkstatic = True,
        linkopts = linkopts + _BUNDLE_LINKOPTS,
        **kwargs
    )

def cuda_binary(name, tags = [], linkopts = [], **kwargs):
    """A cc_binary that exists only with --config=cuda (benchmarks, tools)."""
    native.cc_binary(
        name = name,
        tags = tags + ["cuda"],
        target_compatible_with = CUDA_ONLY,
        linkopts = linkopts + _BUNDLE_LINKOPTS,
        **kwargs
    )
