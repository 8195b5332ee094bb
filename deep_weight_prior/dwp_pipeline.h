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
// With --reference_dir (the reference repository's data/fconv: the authors' released VAEs
// vae7x7/ and vae5x5/ as distributed (params.yaml + vae_params.torch), and their held-out kernels
// conv{7x7,5x5}/test.npy) stage 4 also runs the DWP with the released VAEs, and vaes.md compares
// the two pairs of VAEs by held-out -ELBO on both kernel sets; --source_nets=0 skips stages 1-3
// and uses the released VAEs only.
//
// Stages 1 and 4 are sweeps (common/sweep): every source net and every few-shot net is one
// process of the pipeline binary in worker mode (--worker=source_net/<i>,
// --worker=fewshot/<prior>/<size>/<split seed>), on this machine or as a Slurm job array.
// The output directory is a run directory (config.json: the options; summary.json: the result);
// a resumed pipeline skips the finished source nets, VAEs, few-shot nets and figure.
//
// Writes source_nets/net<i>/, kernels/, vae7x7/, vae5x5/, fewshot/<prior>_n<size>_split<seed>/,
// fewshot.csv, fewshot.md (ensemble accuracy and test NLL, mean ± std over split seeds), vaes.csv,
// vaes.md (held-out -ELBO), vae_samples_7x7.png, vae_samples_5x5.png, convergence.svg/.png/.csv
// and summary.json under the output directory.
#ifndef DEEP_WEIGHT_PRIOR_DWP_PIPELINE_H_
#define DEEP_WEIGHT_PRIOR_DWP_PIPELINE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sweep/sweep.h"

namespace deep_weight_prior {

struct PipelineOptions {
  std::string data_dir, out_dir;  // data_dir: the target domain
  std::string source_data_dir;    // the source domain; empty: data_dir (then classes must differ)
  std::string reference_dir;      // the released VAEs and kernels (see above); empty: none
  std::vector<int64_t> source_classes = {0, 1, 2, 3, 4}, target_classes = {5, 6, 7, 8, 9};
  int source_nets = 10;  // 0: no own VAEs (needs reference_dir)
  int64_t source_c1 = 64, source_c2 = 128, source_epochs = 5;
  double source_l2 = 1e-3;                    // same as reference
  double prune_7x7 = 0.05, prune_5x5 = 0.02;  // min kernel L2 norm kept
  int64_t vae_epochs = 100;
  // > 0: at least this many Adam steps per VAE (more epochs on small kernel sets: 64 kernels at
  // batch 128 are one step per epoch). Off by default: on the small kernels of briefly trained
  // source nets a longer-trained 7x7 VAE is sharper and the DWP worse (README, "Prior quality").
  int64_t vae_min_steps = 0;
  int64_t target_c1 = 32, target_c2 = 128;  // same as reference README
  std::vector<int64_t> sizes = {50, 100, 200};
  std::vector<uint64_t> split_seeds = {0, 1, 2, 3, 4};
  int64_t bnn_epochs = 1000;  // with bs 256 and N <= 256: one step per epoch
  int64_t convergence_steps = 300;
  uint64_t seed = 0;
  std::string worker_binary;  // the pipeline binary (runs the workers; not part of the config)

  template <class Visitor>
  void VisitFields(Visitor&& v) {
    v("data_dir", data_dir), v("out_dir", out_dir), v("source_data_dir", source_data_dir);
    v("reference_dir", reference_dir);
    v("source_classes", source_classes), v("target_classes", target_classes);
    v("source_nets", source_nets), v("source_c1", source_c1), v("source_c2", source_c2);
    v("source_epochs", source_epochs), v("source_l2", source_l2);
    v("prune_7x7", prune_7x7), v("prune_5x5", prune_5x5), v("vae_epochs", vae_epochs);
    v("vae_min_steps", vae_min_steps);
    v("target_c1", target_c1), v("target_c2", target_c2), v("sizes", sizes);
    v("split_seeds", split_seeds), v("bnn_epochs", bnn_epochs);
    v("convergence_steps", convergence_steps), v("seed", seed);
  }
};

// --quick: 2 source nets of (32, 64) for 1 epoch, 20 VAE epochs, a (8, 32) target net for 150
// steps, one split seed: minutes on 2 cores.
PipelineOptions QuickPipeline(PipelineOptions options);

struct FewShotRow {
  std::string prior;  // a FewShotPrior's name
  int64_t size = 0;
  uint64_t split_seed = 0;
  double ens_acc = 0, det_acc = 0, test_nll = 0;  // test_nll: the ensemble's, nats per example
};

// Held-out -ELBO per kernel of one pair of VAEs ("own" or "reference") on one kernel set.
struct VaeFitRow {
  std::string vaes, kernels;  // "own" / "reference"
  int64_t kernel_dim = 0, count = 0;
  double neg_elbo = 0;
};

struct PipelineResult {
  int64_t kernels_7x7 = 0, kernels_5x5 = 0;  // kept after pruning
  double source_acc = 0;                     // mean test accuracy of the source nets
  std::vector<FewShotRow> fewshot;
  std::vector<VaeFitRow> vae_fit;
  std::string table_markdown;  // fewshot.md and vaes.md
};

// Source and target must be different data: another directory (notMNIST -> MNIST, the paper's
// setting), or disjoint classes of one dataset (the Fashion-MNIST default).
absl::Status ValidateDomains(const PipelineOptions& options);

// The few-shot priors: display name and code (in worker names and directories): "DWP" ("dwp",
// with our VAEs; not with source_nets = 0), "DWP (released VAEs)" ("dwpref"; with
// reference_dir), "log-uniform" ("loguniform"), "N(0,1)" ("sn").
struct FewShotPrior {
  const char* name;
  const char* code;
};
std::vector<FewShotPrior> FewShotPriors(const PipelineOptions& options);

// The source-net sweep (stage 1) and the few-shot sweep (stage 4) of `options`.
common::sweep::Sweep SourceNetSweep(const PipelineOptions& options);
common::sweep::Sweep FewShotSweep(const PipelineOptions& options);

// The whole pipeline into options.out_dir, its sweeps on `runner`. `resume` continues the run the
// directory holds (same options), skipping what is finished; a finished run is
// common::train::FinishedRunError.
absl::StatusOr<PipelineResult> RunPipeline(const PipelineOptions& options,
                                           common::sweep::Runner& runner, bool resume = false);

// One run of a sweep, in its own process: `job` is a run name of SourceNetSweep or FewShotSweep
// ("source_net/3", "fewshot/dwp/50/0"); the options are read from <pipeline_dir>/config.json.
absl::Status RunPipelineWorker(const std::string& pipeline_dir, const std::string& job);

}  // namespace deep_weight_prior

#endif  // DEEP_WEIGHT_PRIOR_DWP_PIPELINE_H_
