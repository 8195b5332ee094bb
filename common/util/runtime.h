// Flags and start-up shared by every binary: --data_dir --out_dir --seed --device --threads,
// path resolution under `bazel run`, and a main() wrapper that turns errors into one line.
//
// Example:
//   int main(int argc, char** argv) {
//     return common::util::RunMain(argc, argv, "Trains X.", [](const common::util::Runtime& rt) {
//       return Train(rt.device, rt.ResolveOutDir("train"));
//     });
//   }
#ifndef COMMON_UTIL_RUNTIME_H_
#define COMMON_UTIL_RUNTIME_H_

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

ABSL_DECLARE_FLAG(std::string, data_dir);
ABSL_DECLARE_FLAG(std::string, out_dir);
ABSL_DECLARE_FLAG(uint64_t, seed);
ABSL_DECLARE_FLAG(std::string, device);
ABSL_DECLARE_FLAG(int, threads);

namespace common::util {

// Where Debian's dataset-fashion-mnist package puts its IDX files: the default data.
inline constexpr char kDefaultDataDir[] = "/usr/share/datasets/fashion-mnist";

// The common flags, validated and applied (seed set, thread count set).
struct Runtime {
  std::string data_dir;  // resolved; kDefaultDataDir when --data_dir is empty
  std::string out_dir;   // resolved; empty when --out_dir is empty
  uint64_t seed = 0;
  torch::Device device = torch::kCPU;
  int threads =
      1;  // the maximum; with --threads=0 fewer while the machine is busy (thread_budget.h)

  // --out_dir if given, else runs/<default_name> (both relative to where the user typed the
  // command).
  std::string ResolveOutDir(const std::string& default_name) const;
};

// Relative paths are taken relative to $BUILD_WORKING_DIRECTORY when set (bazel run starts
// binaries inside the runfiles tree), else to the current directory. "~/" expands to $HOME.
std::string ResolveUserPath(const std::string& path);

// "cpu", "cuda" or "cuda:N"; a CUDA device with a LibTorch built without CUDA, or an index
// beyond the visible devices, is an InvalidArgument naming --device.
absl::StatusOr<torch::Device> ParseDevice(const std::string& spec);

// Number of hardware threads (at least 1): the default of --threads.
int DefaultThreads();

// Reads the common flags (after absl::ParseCommandLine), validates them and applies seed and
// threads to LibTorch.
absl::StatusOr<Runtime> InitRuntime();

// OK when `dataset` is the default one (Fashion-MNIST, read from kDefaultDataDir) or --data_dir
// was given; otherwise "--dataset=X needs --data_dir".
absl::Status RequireDataDirUnlessDefault(const std::string& dataset,
                                         const std::string& default_dataset = "fashion-mnist");

// Parses flags, sets up logging, calls InitRuntime and then `body`. A non-OK status, a
// c10::Error or a std::exception becomes one line on stderr and exit code 1.
int RunMain(int argc, char** argv, const std::string& usage,
            const std::function<absl::Status(const Runtime&)>& body);

// For list flags written the argparse way (`--lip 2.0 0.8 1.4 1.0`, `--hid_dim 32 128`): each of
// `list_flags` and the arguments after it, up to the next "--" argument, become one
// `--flag=v1,v2,...`. The result points into `storage`.
std::vector<char*> JoinListFlags(int argc, char** argv, const std::vector<std::string>& list_flags,
                                 std::vector<std::string>& storage);

// RunMain after JoinListFlags.
int RunMainWithListFlags(int argc, char** argv, const std::vector<std::string>& list_flags,
                         const std::string& usage,
                         const std::function<absl::Status(const Runtime&)>& body);

}  // namespace common::util

#endif  // COMMON_UTIL_RUNTIME_H_
