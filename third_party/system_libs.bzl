"""Repository rules that expose Debian's system libraries (and LibTorch) to Bazel.

Headers of pkg-config libraries live under /usr/include, which the auto-configured
C++ toolchain already searches, so those targets carry link options only.
"""

def _pkg_config_library_impl(rctx):
    args = ["pkg-config", "--libs"] + rctx.attr.modules
    result = rctx.execute(args)
    if result.return_code != 0:
        fail("pkg-config failed for %s: %s\nRun ./bazelw to install the Debian packages in third_party/debian-packages.txt." %
             (rctx.attr.modules, result.stderr))
    linkopts = result.stdout.strip().split(" ") + rctx.attr.extra_linkopts
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
    rctx.file("BUILD.bazel", """\
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "{name}",
    linkopts = {linkopts},
)
""".format(name = rctx.attr.target, linkopts = repr([o for o in linkopts if o])))

pkg_config_library = repository_rule(
    implementation = _pkg_config_library_impl,
    attrs = {
        "modules": attr.string_list(mandatory = True),
        "target": attr.string(mandatory = True),
        "extra_linkopts": attr.string_list(),
    },
    local = True,
)

def _libtorch_impl(rctx):
    # The one place that decides which LibTorch is used: LIBTORCH_HOME (default /usr,
    # Debian's libtorch-dev). For the official CUDA LibTorch archive pass e.g.
    #   --repo_env=LIBTORCH_HOME=/opt/libtorch
    root = rctx.os.environ.get("LIBTORCH_HOME", "/usr").rstrip("/")
    if root == "":
        root = "/"
    api = root + "/include/torch/csrc/api/include"
    if not rctx.path(api + "/torch/torch.h").exists:
        fail("LibTorch not found: %s/torch/torch.h is missing (LIBTORCH_HOME=%s). " % (api, root) +
             "Install libtorch-dev (./bazelw does) or point LIBTORCH_HOME at an unpacked LibTorch.")
    rctx.symlink(api, "api_include")
    includes = ["api_include"]
    hdr_globs = ["api_include/**"]
    if root != "/usr":
        # Outside /usr the core headers (ATen, c10) are not on the compiler's default path.
        rctx.symlink(root + "/include", "include")
        includes.append("include")
        hdr_globs.append("include/**")
    libdir = root + "/lib"
    if root == "/usr":
        libdir = "/usr/lib/x86_64-linux-gnu"
    libs = ["torch", "torch_cpu", "c10"]
    cuda = rctx.path(libdir + "/libtorch_cuda.so").exists
    if cuda:
        libs += ["torch_cuda", "c10_cuda"]
    # no-as-needed: the CUDA LibTorch registers its kernels from static initialisers.
    linkopts = ["-L" + libdir, "-Wl,-rpath," + libdir, "-Wl,--push-state,--no-as-needed"]
    linkopts += ["-l" + l for l in libs]
    linkopts += ["-Wl,--pop-state", "-lpthread"]
    rctx.file("WORKSPACE", 'workspace(name = "libtorch")\n')
    rctx.file("BUILD.bazel", """\
package(default_visibility = ["//visibility:public"])

# LibTorch from {root} ({flavour}).
cc_library(
    name = "libtorch",
    hdrs = glob({globs}),
    includes = {includes},
    linkopts = {linkopts},
    defines = {defines},
)
""".format(
        root = root,
        flavour = "with CUDA" if cuda else "CPU only",
        globs = repr(hdr_globs),
        includes = repr(includes),
        linkopts = repr(linkopts),
        defines = repr(["COMMON_LIBTORCH_HAS_CUDA=1"] if cuda else []),
    ))

libtorch_repository = repository_rule(
    implementation = _libtorch_impl,
    environ = ["LIBTORCH_HOME"],
    local = True,
)

def _header_tree_library_impl(rctx):
    root = rctx.attr.include_dir
    if not rctx.path(root).exists and rctx.attr.optional:
        rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
        rctx.file("BUILD.bazel", 'package(default_visibility = ["//visibility:public"])\n' +
                                 'cc_library(name = "%s")\n' % rctx.attr.target)
        return
    if not rctx.path(root).exists:
        fail("%s is missing: run ./bazelw to install the Debian packages in third_party/debian-packages.txt" % root)
    rctx.symlink(root, "include")
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
    rctx.file("BUILD.bazel", """\
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "{name}",
    hdrs = glob(["include/**/*.h", "include/**/*.hpp"]),
    includes = ["include"],
    linkopts = {linkopts},
)
""".format(name = rctx.attr.target, linkopts = repr(rctx.attr.linkopts)))

# A library whose headers live in their own directory under /usr/include (e.g. RDKit's
# /usr/include/rdkit, included as <GraphMol/...>), with fixed link options.
header_tree_library = repository_rule(
    implementation = _header_tree_library_impl,
    attrs = {
        "include_dir": attr.string(mandatory = True),
        "target": attr.string(mandatory = True),
        "linkopts": attr.string_list(),
        # Missing directory: an empty library instead of an error (CUDA on machines without it).
        "optional": attr.bool(default = False),
    },
    local = True,
)
