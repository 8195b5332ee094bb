// The whole Deep Weight Prior method on data on this machine (Fashion-MNIST by default, or a source
// dataset and a target dataset, e.g. notMNIST -> MNIST as in the paper):
//
//   1. source nets:  vanilla fconv on the source classes (0-4), strong L2 on the conv parameters
//   2. kernels:      every 7x7 kernel of conv1 and 5x5 kernel of conv2, pruned, split 80/20
//   3. kernel VAEs:  one per kernel size
//   4. target:       few-shot subsets of the target classes (5-9): Bayesian fconv with the DWP
//                    (VAE prior + VAE init) against N(0, 1) and log-uniform priors, per size and
//                    seed
//   5. convergence:  deterministic fconv on the target data from vae / xavier / filters init
//
// Writes kernels/, vae7x7/, vae5x5/, fewshot.csv, fewshot.md, vae_samples_7x7.png,
// vae_samples_5x5.png and convergence.svg/.png under the output directory.
#ifndef DEEP_WEIGHT_PRIOR_DWP_PIPELINE_H_
#define DEEP_WEIGHT_PRIOR_DWP_PIPELINE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace deep_weight_prior {

struct PipelineOptions {
  std::string data_dir, out_dir;  // data_dir: the target domain
  std::string source_data_dir;    // the source domain; empty: data_dir (then classes must differ)
  std::vector<int64_t> source_classes = {0, 1, 2, 3, 4}, target_classes = {5, 6, 7, 8, 9};
  int source_nets = 10;
  int64_t source_c1 = 64, source_c2 = 128, source_epochs = 5;
  double source_l2 = 1e-3;                    // same as reference
  double prune_7x7 = 0.05, prune_5x5 = 0.02;  // min kernel L2 norm kept
  int64_t vae_epochs = 100;
  int64_t target_c1 = 32, target_c2 = 128;  // same as reference README
  std::vector<int64_t> sizes = {50, 200};
  std::vector<uint64_t> split_seeds = {0, 1, 2};
  int64_t bnn_epochs = 1000;  // with bs 256 and N <= 256: one step per epoch
  int64_t convergence_steps = 300;
  uint64_t seed = 0;
};

// --quick: 2 source nets of (32, 64) for 1 epoch, 20 VAE epochs, a (8, 32) target net for 150
// steps, one split seed: minutes on 2 cores.
PipelineOptions QuickPipeline(PipelineOptions options);

struct FewShotRow {
  std::string prior;  // "DWP", "log-uniform", "N(0,1)"
  int64_t size = 0;
  uint64_t split_seed = 0;
  double ens_acc = 0, det_acc = 0;
};

struct PipelineResult {
  int64_t kernels_7x7 = 0, kernels_5x5 = 0;  // kept after pruning
  double source_acc = 0;                     // mean test accuracy of the source nets
  std::vector<FewShotRow> fewshot;
  std::string table_markdown;
};

// Source and target must be different data: another directory (notMNIST -> MNIST, the paper's
// setting), or disjoint classes of one dataset (the Fashion-MNIST default).
absl::Status ValidateDomains(const PipelineOptions& options);

absl::StatusOr<PipelineResult> RunPipeline(const PipelineOptions& options);

}  // namespace deep_weight_prior

#endif  // DEEP_WEIGHT_PRIOR_DWP_PIPELINE_H_
