// The Tox21 experiment of Hoedt & Klambauer (2023, Table 1): a small network on molecule
// descriptors, trained with the masked (summed) BCE on the 12 assays; test ROC-AUC per assay over
// several runs. Models (same as reference get_model):
//
//   logreg: Linear(D, 12)
//   fc | icnn | convex: Dropout(0.7) -> Linear(D, 128) -> ReLU -> Dropout(0.5)
//                       -> L(128, 128) -> ReLU -> Dropout(0.5) -> L(128, 12)
//   with L = Linear (fc), lazily clipped ConvexLinear (icnn) or exp ConvexLinear (convex),
//   initialised by He (fc or --bad_init) or the principled init; --skip adds Linear(D, ., no
//   bias)(x) to the 128-wide and the output pre-activations.
#ifndef ICNN_TOX21_EXPERIMENT_H_
#define ICNN_TOX21_EXPERIMENT_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/dist/process_group.h"
#include "icnn/convex_modules.h"
#include "icnn/tox21_data.h"

namespace icnn {

struct Tox21Config {
  std::string model = "fc";  // fc | icnn | convex | logreg
  bool bad_init = false;
  bool skip = false;
  int64_t epochs = 300;  // same as reference
  int64_t bs = 256;      // same as reference
  double lr = 1e-3;      // same as reference (Adam)
  int64_t runs = 10;     // same as reference
  uint64_t seed = 2023;  // same as reference
  double test_fraction =
      0.2;  // seeded random split of the MoleculeNet file (it has no official split)
  // Non-empty: the run directory. Each run checkpoints there (checkpoint_run<k>.pt, every
  // tenth of its epochs, and on SIGINT / SIGTERM mid-epoch) until it is recorded in runs.pt
  // (common/dist/independent_runs.h), which a resumed job continues after.
  std::string out_dir;
  bool resume = false;       // continue the job out_dir holds
  bool save_models = false;  // model_<run>.pt (state dicts) in out_dir
};

absl::Status Validate(const Tox21Config& config);

// The reference's get_model: Dropout(0.7) -> Linear(in, 128) -> ReLU -> Dropout(0.5) ->
// Convex(128, 128) -> ReLU -> Dropout(0.5) -> Convex(128, 12) (fc: any sign, icnn: lazy clipping,
// convex: exp), optional linear skips from the input; logreg: Linear(in, 12).
class Tox21NetImpl : public torch::nn::Module {
 public:
  Tox21NetImpl(int64_t input, const Tox21Config& config);
  torch::Tensor forward(torch::Tensor x);  // [B, in] -> logits [B, 12]

 private:
  bool logreg_, skip_;
  torch::nn::Linear first_{nullptr}, skip_hidden_{nullptr}, skip_out_{nullptr};
  ConvexLinear hidden_{nullptr}, out_{nullptr};
};
TORCH_MODULE(Tox21Net);

struct Tox21Result {
  std::vector<std::vector<double>> test_auc;  // [run][task]; NaN where a task has one class only
};

// Run `run` (seed config.seed * 1000 + run): trains on `train`, returns the test ROC-AUC per
// task (NaN where a task's test labels have one class).
absl::StatusOr<std::vector<double>> RunTox21Once(const Tox21Config& config, const Tox21Data& train,
                                                 const Tox21Data& test, int64_t run);

// Splits `data` with config.test_fraction (MoleculeNet: no official split) and runs.
absl::StatusOr<Tox21Result> RunTox21(const Tox21Config& config, const Tox21Data& data);
// Trains on `train` (the reference's final_run: train + valid), tests on `test`.
absl::StatusOr<Tox21Result> RunTox21(const Tox21Config& config, const Tox21Data& train,
                                     const Tox21Data& test);
// The same with the runs spread over the ranks of `world` (run-parallel: each run whole on one
// rank, so the AUCs are exactly one process's); the result is complete on rank 0, empty on the
// others.
absl::StatusOr<Tox21Result> RunTox21(const Tox21Config& config, const Tox21Data& train,
                                     const Tox21Data& test, common::dist::ProcessGroup& world);
absl::StatusOr<Tox21Result> RunTox21(const Tox21Config& config, const Tox21Data& data,
                                     common::dist::ProcessGroup& world);

// Per task: "median ± max(q95 - median, median - q5)" in percent over runs (the reference's
// evaluate.py), and the same over the per-run average AUC, as a Markdown table.
std::string Tox21Table(const Tox21Result& result);

// summary.json: runs, the median test AUC per task and of the per-run averages (null where a
// task's AUC is undefined in every run).
nlohmann::json Tox21Summary(const Tox21Result& result);

}  // namespace icnn

#endif  // ICNN_TOX21_EXPERIMENT_H_
