// The depth experiment of Hoedt & Klambauer (2023, Fig. 2; init_learnability/train.py): train
// MLPs as wide as the input with num_hidden convex layers on the training split, and compare the
// per-update training loss of a non-convex net, an ICNN with the default (He) init and an ICNN
// with the principled init, over several seeds.
#ifndef ICNN_DEPTH_EXPERIMENT_H_
#define ICNN_DEPTH_EXPERIMENT_H_

#include <torch/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/data/dataset.h"
#include "common/dist/process_group.h"
#include "icnn/convex_modules.h"

namespace icnn {

struct LearnabilityConfig {
  int64_t epochs = 10;          // same as reference
  int64_t bs = 64;              // same as reference
  double lr = 1e-3;             // same as reference (Adam, summed cross-entropy)
  int64_t runs = 10;            // same as reference
  uint64_t seed = 2023;         // same as reference: run seeds drawn from it
  double valid_fraction = 0.1;  // same as reference: 90/10 split of the training set per run
  torch::Device device = torch::kCPU;
  // Non-empty: the run directory. Each run checkpoints there after every epoch (and on SIGINT /
  // SIGTERM mid-epoch) until it is recorded in runs.pt (common/dist/independent_runs.h), which
  // a resumed job continues after.
  std::string out_dir;
  bool resume = false;  // continue the job out_dir holds
};

// One network configuration, with a display name.
struct Variant {
  std::string name;
  IcnnOptions options;
};

struct VariantResult {
  std::string name;
  std::vector<std::vector<double>> batch_losses;  // [run][update]: summed loss / batch size
  std::vector<double> valid_accuracy;             // per run, after the last epoch
  std::vector<double> convexity_gap;              // per run, midpoint gap on validation pairs
  double final_loss = 0;  // median over runs of the mean of the last 100 batch losses
};

// What one run of a variant gives.
struct RunOutcome {
  std::vector<double> batch_losses;
  double valid_accuracy = 0;
  double convexity_gap = 0;
};

// Run `run` of `variant` (seed config.seed * 1000 + run: its split, init and batch order).
absl::StatusOr<RunOutcome> RunOnce(const Variant& variant, const LearnabilityConfig& config,
                                   const common::data::InMemoryDataset& data, int64_t run);

// config.runs runs of every variant, spread over the ranks of `world` (run-parallel: each run
// whole on one rank, so the results are exactly one process's); complete on rank 0, empty on
// the others.
absl::StatusOr<std::vector<VariantResult>> RunVariants(const std::vector<Variant>& variants,
                                                       const LearnabilityConfig& config,
                                                       const common::data::InMemoryDataset& data,
                                                       common::dist::ProcessGroup& world);
// One variant in this process.
absl::StatusOr<VariantResult> RunVariant(const Variant& variant, const LearnabilityConfig& config,
                                         const common::data::InMemoryDataset& data);

}  // namespace icnn

#endif  // ICNN_DEPTH_EXPERIMENT_H_
