// The robustness-to-depth experiment of the paper (poster, "accuracy vs depth"): the `train`
// binary run for every (init, depth, seed) as separate processes, several at a time, each in its
// own run directory under the sweep directory. Finished runs (summary.json present) are skipped,
// so an interrupted sweep continues where it stopped. The result is the test accuracy of each
// run's best-validation checkpoint, a CSV and a figure (median and IQR over seeds vs depth).
#ifndef WEIGHTNORM_INIT_SWEEP_RUNNER_H_
#define WEIGHTNORM_INIT_SWEEP_RUNNER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace weightnorm_init {

struct SweepOptions {
  std::string train_binary;  // path of //weightnorm_init:train
  std::string dir;           // sweep directory
  std::string nn = "mlp";
  std::vector<int64_t> depths = {2, 5, 10, 20, 100, 200};  // the poster's MNIST MLP depths
  std::vector<std::string> inits = {"orthogonal_proposed", "he_proposed", "orthogonal_datadep",
                                    "he_datadep", "orthogonal"};
  int seeds = 1;
  int jobs = 2;             // processes at a time
  int threads_per_job = 0;  // --threads of each run; 0: cores / jobs (common::util::WorkerThreads)
  std::vector<std::string> train_args;  // passed to every run (e.g. --epochs=1, --data_dir=...)
};

struct SweepRun {
  std::string init;
  int64_t depth = 0;
  int seed = 0;
  std::string dir;                // <sweep dir>/<init>_depth<depth>_seed<seed>
  std::vector<std::string> argv;  // the full command line
};

// Every run of the sweep, in order.
std::vector<SweepRun> PlanSweep(const SweepOptions& options);

// Runs the runs whose summary.json is missing, `jobs` at a time (stdout and stderr go to
// <run dir>/log.txt). A run that exits non-zero is reported in the returned status after all
// others finished.
absl::Status ExecuteSweep(const SweepOptions& options, const std::vector<SweepRun>& runs);

struct SweepResult {
  SweepRun run;
  double test_acc = 0;
  bool diverged = false;
};

// Reads summary.json of every run; missing or unreadable ones are NotFound / DataLoss errors.
absl::StatusOr<std::vector<SweepResult>> CollectSweep(const std::vector<SweepRun>& runs);

// depth_sweep.csv and depth_sweep.svg/.png (test accuracy vs depth, log x, one line per init).
absl::Status WriteSweepReport(const SweepOptions& options, const std::vector<SweepResult>& results);

}  // namespace weightnorm_init

#endif  // WEIGHTNORM_INIT_SWEEP_RUNNER_H_
