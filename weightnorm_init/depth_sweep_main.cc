// The robustness-to-depth experiment: //weightnorm_init:train for every init and depth as a sweep
// (worker processes here, or a Slurm job array with --runner=slurm), then test accuracy vs depth.
// The experiment is depth_sweep_experiment.h.
//
//   ./bazelw run //weightnorm_init:depth_sweep -- --depths=2,5,10,20,100,200 --epochs=1
//   ./bazelw run //weightnorm_init:depth_sweep -- --seeds=5 --runner=slurm --slurm_args='-p cpu'
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/sweep/local_runner.h"
#include "common/sweep/runner_flags.h"
#include "common/util/list_flag.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "weightnorm_init/depth_sweep_experiment.h"

namespace {
const weightnorm_init::DepthSweepOptions kDefaults;
}  // namespace

ABSL_FLAG(std::string, nn, kDefaults.nn, "mlp or cnn (--num_layers is the swept depth).");
ABSL_FLAG(std::string, depths, "2,5,10,20,100,200", "Comma-separated depths (hidden layers).");
ABSL_FLAG(std::string, inits,
          "orthogonal_proposed,he_proposed,orthogonal_datadep,he_datadep,orthogonal",
          "Comma-separated --init values (orthogonal = PyTorch's default g with WN).");
ABSL_FLAG(int, seeds, kDefaults.seeds, "Runs per (init, depth): seeds 0..N-1.");
ABSL_FLAG(std::string, dataset, "fashion-mnist", "Passed to train.");
ABSL_FLAG(int64_t, epochs, 1,
          "Passed to train (the paper's runs were longer; its value is not in the spec).");
ABSL_FLAG(double, lr, 0.01, "Passed to train.");
ABSL_FLAG(std::string, train_args, "",
          "More train flags, space-separated (e.g. '--momentum=0.9').");
ABSL_FLAG(std::string, train_binary, "",
          "Path of the train binary (default: next to this binary).");

namespace weightnorm_init {
namespace {

absl::StatusOr<DepthSweepOptions> OptionsFromFlags(const common::util::Runtime& rt) {
  DepthSweepOptions o;
  o.nn = absl::GetFlag(FLAGS_nn);
  ASSIGN_OR_RETURN(o.depths, common::util::ParseIntList("depths", absl::GetFlag(FLAGS_depths)));
  o.inits = common::util::ParseStringList(absl::GetFlag(FLAGS_inits));
  o.seeds = absl::GetFlag(FLAGS_seeds);
  RETURN_IF_ERROR(Validate(o));
  o.train_binary = absl::GetFlag(FLAGS_train_binary).empty()
                       ? common::sweep::SelfDirectory() + "train"
                       : common::util::ResolveUserPath(absl::GetFlag(FLAGS_train_binary));
  if (access(o.train_binary.c_str(), X_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat("train binary ", o.train_binary, " is not executable (--train_binary)"));
  }
  o.dir = rt.ResolveOutDir(absl::StrCat("weightnorm_init_depth_sweep_", o.nn));
  o.train_args = {"--dataset=" + absl::GetFlag(FLAGS_dataset), "--data_dir=" + rt.data_dir,
                  absl::StrCat("--epochs=", absl::GetFlag(FLAGS_epochs)),
                  absl::StrCat("--lr=", absl::GetFlag(FLAGS_lr))};
  // Space-separated only: a train flag's value may hold commas.
  for (absl::string_view a :
       absl::StrSplit(absl::GetFlag(FLAGS_train_args), ' ', absl::SkipEmpty())) {
    o.train_args.emplace_back(a);
  }
  return o;
}

absl::Status Main(const common::util::Runtime& rt) {
  ASSIGN_OR_RETURN(const DepthSweepOptions options, OptionsFromFlags(rt));
  ASSIGN_OR_RETURN(const auto runner, common::sweep::RunnerFromFlags("depth_sweep"));
  ASSIGN_OR_RETURN(const std::vector<DepthResult> results, RunDepthSweep(options, *runner));
  for (const DepthResult& r : results) {
    std::printf("%-22s depth %4lld seed %d: test acc %.4f%s\n", r.run.init.c_str(),
                static_cast<long long>(r.run.depth), r.run.seed, r.test_acc,
                r.diverged ? " (diverged)" : "");
  }
  std::printf("depth_sweep.csv and depth_sweep.svg/.png in %s\n", options.dir.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace weightnorm_init

int main(int argc, char** argv) {
  return common::util::RunMain(argc, argv,
                               "Accuracy vs depth of weight-normalised MLPs/CNNs for several inits "
                               "(Arpit, Campos & Bengio 2019), one training process per run.",
                               weightnorm_init::Main);
}
