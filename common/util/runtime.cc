#include "common/util/runtime.h"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>
#include <torch/utils.h>  // torch::manual_seed

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/train/run_dir.h"
#include "common/util/blas.h"
#include "common/util/interrupt.h"
#include "common/util/thread_budget.h"
#include "glog/logging.h"

ABSL_FLAG(std::string, data_dir, "",
          "Dataset directory. Empty: Fashion-MNIST from /usr/share/datasets/fashion-mnist.");
ABSL_FLAG(std::string, out_dir, "",
          "Run directory (config.json, metrics.csv, summary.json, checkpoint.pt). Empty: "
          "runs/<experiment>. Relative paths are relative to where the command was typed.");
ABSL_FLAG(uint64_t, seed, 0, "Random seed (LibTorch, data order, splits).");
ABSL_FLAG(std::string, device, "cpu", "cpu, cuda or cuda:N.");
ABSL_FLAG(
    int, threads, 0,
    "LibTorch intra-op threads; 0 (default): every core while the machine is idle, fewer while "
    "other processes keep cores busy (re-checked twice a second).");

namespace common::util {

std::string ResolveUserPath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  if (absl::StartsWith(path, "~/")) {
    const char* home = std::getenv("HOME");
    if (home != nullptr) return absl::StrCat(home, path.substr(1));
  }
  const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (wd != nullptr && *wd != '\0') return absl::StrCat(wd, "/", path);
  return path;
}

std::string Runtime::ResolveOutDir(const std::string& default_name) const {
  if (!out_dir.empty()) return out_dir;
  return ResolveUserPath(absl::StrCat("runs/", default_name));
}

absl::StatusOr<torch::Device> ParseDevice(const std::string& spec) {
  if (spec == "cpu") return torch::Device(torch::kCPU);
  int index = 0;
  if (spec != "cuda") {
    if (!absl::StartsWith(spec, "cuda:") || !absl::SimpleAtoi(spec.substr(5), &index) ||
        index < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--device must be cpu, cuda or cuda:N, got '", spec, "'"));
    }
  }
  if (!torch::cuda::is_available()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--device=", spec,
        ": this LibTorch has no CUDA support or no GPU is visible (build against a CUDA "
        "LibTorch with LIBTORCH_HOME, see README.md)"));
  }
  const int count = static_cast<int>(torch::cuda::device_count());
  if (index >= count) {
    return absl::InvalidArgumentError(
        absl::StrCat("--device=", spec, ": only ", count, " CUDA device(s) visible"));
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

int DefaultThreads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

absl::StatusOr<Runtime> InitRuntime() {
  Runtime rt;
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  rt.data_dir = data_dir.empty() ? kDefaultDataDir : ResolveUserPath(data_dir);
  rt.out_dir = ResolveUserPath(absl::GetFlag(FLAGS_out_dir));
  rt.seed = absl::GetFlag(FLAGS_seed);
  rt.threads = absl::GetFlag(FLAGS_threads);
  if (rt.threads < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--threads must be >= 0 (0: adaptive), got ", rt.threads));
  }
  auto device = ParseDevice(absl::GetFlag(FLAGS_device));
  if (!device.ok()) return device.status();
  rt.device = *device;
  if (rt.threads == 0) {
    rt.threads = DefaultThreads();
    StartAdaptiveThreads(rt.threads);
  } else {
    at::set_num_threads(rt.threads);
  }
  if (const std::string advice = BlasAdvice(); !advice.empty()) LOG(WARNING) << advice;
  torch::manual_seed(rt.seed);
  return rt;
}

absl::Status RequireDataDirUnlessDefault(const std::string& dataset,
                                         const std::string& default_dataset) {
  if (dataset == default_dataset || !absl::GetFlag(FLAGS_data_dir).empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--dataset=", dataset, " needs --data_dir"));
}

int RunMain(int argc, char** argv, const std::string& usage,
            const std::function<absl::Status(const Runtime&)>& body) {
  absl::SetProgramUsageMessage(usage);
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  if (rest.size() > 1) {
    std::cerr << "error: unexpected argument '" << rest[1] << "' (flags are --name=value)\n";
    return 1;
  }
  absl::Status status;
  try {
    absl::StatusOr<Runtime> rt = InitRuntime();
    status = rt.ok() ? body(*rt) : rt.status();
  } catch (const c10::Error& e) {
    status = absl::InternalError(e.what_without_backtrace());
  } catch (const std::exception& e) {
    status = absl::InternalError(e.what());
  }
  if (IsInterrupted(status)) {  // SIGINT / SIGTERM: the loop checkpointed and stopped
    std::cerr << status.message() << "\n";
    return InterruptExitCode();
  }
  if (common::train::IsFinishedRun(status)) {  // --resume of a finished run: nothing to do
    std::cerr << status.message() << "\n";
    return 0;
  }
  if (!status.ok()) {
    std::cerr << "error: " << status.message() << "\n";
    return 1;
  }
  return 0;
}

std::vector<char*> JoinListFlags(int argc, char** argv, const std::vector<std::string>& list_flags,
                                 std::vector<std::string>& storage) {
  storage.clear();
  storage.reserve(argc);
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (std::find(list_flags.begin(), list_flags.end(), arg) != list_flags.end()) {
      std::vector<std::string> values;
      while (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0)
        values.push_back(argv[++i]);
      arg += "=" + absl::StrJoin(values, ",");
    }
    storage.push_back(arg);
  }
  std::vector<char*> out;
  for (std::string& s : storage) out.push_back(s.data());
  return out;
}

int RunMainWithListFlags(int argc, char** argv, const std::vector<std::string>& list_flags,
                         const std::string& usage,
                         const std::function<absl::Status(const Runtime&)>& body) {
  std::vector<std::string> storage;
  std::vector<char*> args = JoinListFlags(argc, argv, list_flags, storage);
  return RunMain(static_cast<int>(args.size()), args.data(), usage, body);
}

}  // namespace common::util
