// The robustness-to-depth experiment of the paper (poster, "accuracy vs depth"): the `train`
// binary run for every (init, depth, seed) as a sweep (common/sweep: worker processes on this
// machine or a Slurm job array), each in its own run directory under the sweep directory.
// Finished runs (summary.json present) are skipped and started ones continued with --resume, so
// an interrupted sweep goes on where it stopped. The result is the test accuracy of each run's
// best-validation checkpoint, a CSV and a figure (median and IQR over seeds vs depth).
#ifndef WEIGHTNORM_INIT_DEPTH_SWEEP_EXPERIMENT_H_
#define WEIGHTNORM_INIT_DEPTH_SWEEP_EXPERIMENT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sweep/sweep.h"

namespace weightnorm_init {

struct DepthSweepOptions {
  std::string train_binary;  // path of //weightnorm_init:train
  std::string dir;           // sweep directory
  std::string nn = "mlp";
  std::vector<int64_t> depths = {2, 5, 10, 20, 100, 200};  // the poster's MNIST MLP depths
  std::vector<std::string> inits = {"orthogonal_proposed", "he_proposed", "orthogonal_datadep",
                                    "he_datadep", "orthogonal"};
  int seeds = 1;
  std::vector<std::string> train_args;  // passed to every run (e.g. --epochs=1, --data_dir=...)
};

// Flag-named errors for --nn, --depths, --inits and --seeds.
absl::Status Validate(const DepthSweepOptions& options);

// One point of the sweep.
struct DepthRun {
  std::string init;
  int64_t depth = 0;
  int seed = 0;
  std::string dir;  // <sweep dir>/<init>_depth<depth>_seed<seed>
};

// Every point, in order: init, then depth, then seed.
std::vector<DepthRun> PlanDepthRuns(const DepthSweepOptions& options);

// The sweep of PlanDepthRuns (run i is point i): `train` with the point's flags and train_args;
// the runner adds --threads, and --resume for a run that had started.
common::sweep::Sweep PlanDepthSweep(const DepthSweepOptions& options);

struct DepthResult {
  DepthRun run;
  double test_acc = 0;
  bool diverged = false;
};

// Reads summary.json of every run; missing or unreadable ones are NotFound / DataLoss errors.
absl::StatusOr<std::vector<DepthResult>> CollectDepthSweep(const DepthSweepOptions& options);

// depth_sweep.csv and depth_sweep.svg/.png (test accuracy vs depth, log x, one line per init).
absl::Status WriteDepthSweepReport(const DepthSweepOptions& options,
                                   const std::vector<DepthResult>& results);

// The whole experiment: the sweep on `runner`, then collection and the report.
absl::StatusOr<std::vector<DepthResult>> RunDepthSweep(const DepthSweepOptions& options,
                                                       common::sweep::Runner& runner);

}  // namespace weightnorm_init

#endif  // WEIGHTNORM_INIT_DEPTH_SWEEP_EXPERIMENT_H_
