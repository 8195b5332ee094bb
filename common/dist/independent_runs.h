// Experiments made of many independent runs (seeds, configurations) of a small model, spread
// over the ranks of a job: rank r takes the r-th of every world_size pending runs. For small
// models this is the scale-out that pays: a data-parallel step of a small MLP waits on its
// all-reduce as long as it computes (benchmarks/RESULTS.md, "Data-parallel"), while independent
// runs need no communication during training. And the results are exactly a one-process job's:
// every run is computed whole by one process, from its own seed.
//
// Runs finish in rounds of world_size. A round is recorded (rank 0 writes its rows into
// `results_path`) only once every rank's run of it succeeded, so the recorded runs are always
// 0 .. d-1 and a resumed job continues at run d, with any number of ranks. An error or an
// interrupt on one rank ends every rank with it (ProcessGroup::Agree), in the round it happens.
//
// Example (a trainer whose run k returns its test AUCs):
//   ASSIGN_OR_RETURN(ProcessGroup * world, World());
//   IndependentRunsOptions o{config.runs, run_dir->File("runs.pt"), resume};
//   ASSIGN_OR_RETURN(std::vector<torch::Tensor> rows,
//                    RunIndependently(*world, o, [&](int64_t k) { return TrainAndTest(k); }));
//   if (world->is_main()) ... rows[k] is run k's result ...
#ifndef COMMON_DIST_INDEPENDENT_RUNS_H_
#define COMMON_DIST_INDEPENDENT_RUNS_H_

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/dist/process_group.h"

namespace common::dist {

struct IndependentRunsOptions {
  int64_t count = 0;  // runs 0 .. count-1
  // Rank 0's record of the finished runs ("run_<k>" -> row, a state-dict file Python's
  // torch.load reads), rewritten atomically after every round; empty: nothing is kept.
  std::string results_path;
  bool resume = false;  // continue after the runs results_path holds (none: from run 0)
  // On rank 0, for each run once recorded, in run order (e.g. a progress line).
  std::function<void(int64_t run, const torch::Tensor& row)> on_recorded;
  // Run k's checkpoint file (empty: none), removed by the rank that ran it once k is recorded.
  std::function<std::string(int64_t run)> checkpoint_path;
};

// Calls run(k) for every k in [options.count) not yet recorded, spread over the ranks as above;
// run(k) returns run k's result as a 1-D tensor (any length, stored as float64). Returns on rank
// 0 every run's row, in run order (resumed ones read back from results_path); on the other ranks
// an empty vector.
absl::StatusOr<std::vector<torch::Tensor>> RunIndependently(
    ProcessGroup& world, const IndependentRunsOptions& options,
    const std::function<absl::StatusOr<torch::Tensor>(int64_t run)>& run);

}  // namespace common::dist

#endif  // COMMON_DIST_INDEPENDENT_RUNS_H_
