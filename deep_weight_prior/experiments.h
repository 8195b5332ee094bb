// The three training stages of the Deep Weight Prior as library calls (the reference's
// train-net.py, train-vae.py and train-bnn.py) and their data:
//
//   TrainNet  deterministic fconv, Adam, mean CE + l2 * sum of squares of the conv parameters
//   TrainVae  a kernel VAE on a kernel dataset, Adam, the summed ELBO
//   TrainBnn  the Bayesian fconv with one prior per conv layer: (N/B) sum CE + sum KL, Adam;
//             evaluated with a T-sample ensemble (mean of probabilities), one sample, and the mean
//
// The LR of train-net and train-bnn follows the reference's per-epoch linear rule (LinearRuleLr).
#ifndef DEEP_WEIGHT_PRIOR_EXPERIMENTS_H_
#define DEEP_WEIGHT_PRIOR_EXPERIMENTS_H_

#include <torch/types.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/data/dataset.h"
#include "deep_weight_prior/kernel_dataset.h"
#include "deep_weight_prior/kernel_vae.h"
#include "deep_weight_prior/nets.h"
#include "deep_weight_prior/priors.h"

namespace deep_weight_prior {

// lr * min((decrease_from - t) / (epochs - decrease_from) + 1, 1), clipped at 0, for the 0-based
// epoch t (same as reference).
double LinearRuleLr(double lr, int64_t decrease_from, int64_t epochs, int64_t t);

// Images of the listed classes, pixels in [0, 1] (no normalisation, as the reference), labels
// renumbered 0..classes.size()-1 in the listed order.
struct Domain {
  common::data::InMemoryDataset train, test;
  int64_t classes = 0;
};
absl::StatusOr<Domain> LoadDomain(const std::string& data_dir, const std::vector<int64_t>& classes,
                                  const std::string& model = "fconv");

// `n` training examples, stratified by class, drawn with `seed` (the reference's train_test_split).
absl::StatusOr<common::data::InMemoryDataset> FewShot(const common::data::InMemoryDataset& train,
                                                      int64_t n, uint64_t seed);

// The ensemble's predictive probabilities: the mean over T stochastic passes of softmax(logits).
torch::Tensor EnsembleProbabilities(DwpNetImpl& net, const torch::Tensor& x, int samples);

// Per-conv initialisation (one entry per conv, missing entries "xavier") with its sources.
struct KernelInit {
  std::vector<std::string> init_list;
  std::vector<KernelVae> vaes;         // per conv; empty handles allowed unless "vae"
  std::vector<torch::Tensor> filters;  // per conv; undefined allowed unless "filters"
};
absl::Status ApplyKernelInit(DwpNetImpl& net, const KernelInit& init, uint64_t seed);

struct NetConfig {
  NetOptions net;             // net_cfg vanilla / vanilla-do
  int64_t epochs = 100;       // same as reference
  int64_t bs = 256;           // same as reference
  double lr = 1e-3;           // same as reference
  int64_t decrease_from = 0;  // same as reference
  double l2 = 0;              // same as reference: coefficient of sum p^2 over the conv parameters
  int64_t eval_freq =
      1;  // same as reference: evaluate after epoch 1 and every eval_freq-th; 0: never
  bool fastconv = false;  // same as reference: count eval_freq in steps (the convergence curves)
  std::string checkpoint_path;  // saved after every epoch; empty: none
  bool resume = false;          // continue from checkpoint_path when it exists
  bool rfe = false;             // random feature extraction: train the classifier only
  bool aug = false;  // CIFAR models: reflect-pad 4 + random crop + flip (same as reference)
  // > 0: adds dwp_reg * sum_l -ELBO_vae_l(kernels of conv l) to the loss (the reference's MAP
  // "DWP regulariser", one z sample); the frozen VAEs are --vae_list's, conv by conv.
  double dwp_reg = 0;
  uint64_t seed = 42;  // same as reference
};

struct NetResult {
  DwpNet net{nullptr};
  double test_acc = 0;
  double dwp_reg = 0;  // the regulariser's last value (without the coefficient), when used
  std::vector<std::pair<int64_t, double>> curve;  // (step, test accuracy) of every evaluation
};

// One evaluation of train_net (a metrics.csv row: the reference's columns). Training columns are
// means over the epoch's batches so far; l2_norm and dwp_reg are the last batch's values.
struct NetEval {
  int64_t epoch = 0, step = 0;  // epochs started, steps done
  double loss = 0, train_nll = 0, train_acc = 0, test_nll = 0, test_acc = 0, lr = 0, l2_norm = 0,
         dwp_reg = 0;
};
using NetEvalSink = std::function<absl::Status(const NetEval&)>;

// Adam on mean CE + l2 sum p^2 (+ dwp_reg sum -ELBO); evaluations as c.eval_freq / c.fastconv say,
// each passed to `on_eval` (its error stops training); checkpoints after every epoch.
absl::StatusOr<NetResult> TrainNet(const NetConfig& config, const KernelInit& init,
                                   const common::data::InMemoryDataset& train,
                                   const common::data::InMemoryDataset& test,
                                   const NetEvalSink& on_eval = nullptr);

struct VaeConfig {
  KernelVaeOptions vae = KernelVaeOptions(7, 2, 32);
  int64_t epochs = 300;  // the released VAEs
  int64_t bs = 128;      // same as reference
  double lr = 1e-3;  // constant: the released VAEs' effective schedule (PyTorch 0.4's StepLR reset)
  uint64_t seed = 42;           // same as reference
  std::string checkpoint_path;  // saved after every epoch; empty: none
  bool resume = false;          // continue from checkpoint_path when it exists
};

struct VaeResult {
  KernelVae vae{nullptr};
  double train_loss_per_kernel = 0, test_loss_per_kernel = 0;  // -ELBO / kernel
};

// One epoch of VAE training (a row of train_vae's metrics.csv; the reference's per-kernel values).
struct VaeEpoch {
  int64_t epoch = 0;      // epochs done
  double train_loss = 0;  // mean -ELBO per kernel over the epoch's batches
  double test_loss = 0, test_nll = 0,
         test_kl = 0;  // -ELBO = -log-likelihood + KL(z), per test kernel
};
using VaeEpochSink = std::function<absl::Status(const VaeEpoch&)>;

// Adam on the summed loss; with `on_epoch`, the test set is evaluated after every epoch (with its
// own noise, so the training run does not depend on it) and passed on; its error stops training.
absl::StatusOr<VaeResult> TrainVae(const VaeConfig& config, const KernelSplit& data,
                                   const VaeEpochSink& on_epoch = nullptr);

// How well a kernel VAE models held-out kernels [N, 1, K, K]: per kernel, -ELBO = NLL + KL(z), the
// mean over kernels and over `samples` draws of z (from `seed`; lower is better). The measure that
// compares priors: our VAEs and the released ones on the same kernel sets.
struct VaeFit {
  double neg_elbo = 0, nll = 0, kl = 0;
  int64_t kernels = 0;
};
absl::StatusOr<VaeFit> HeldOutFit(KernelVae& vae, const torch::Tensor& kernels, int samples = 10,
                                  uint64_t seed = 0);

// vae.json (sizes) and vae_params.pt (state dict) in `dir`; LoadVae also reads the reference's
// released VAE directories as distributed: params.yaml + vae_params.torch (a legacy torch pickle).
absl::Status SaveVae(const std::string& dir, KernelVae& vae);
absl::StatusOr<KernelVae> LoadVae(const std::string& dir);

struct BnnConfig {
  NetOptions net;                       // net_cfg bayes / bayes-1-0 / bayes-mtrunca
  std::vector<std::string> prior_list;  // per conv: vae | sn | loguniform | no
  int64_t epochs = 100;
  int64_t bs = 256;
  double lr = 1e-3;
  int64_t decrease_from = 0;
  int ens = 10;         // same as reference
  int dwp_samples = 1;  // same as reference
  uint64_t seed = 42;
  std::string
      pretrained;  // a train_net model.pt copied in after the kernel init (see CopyPretrained)
  int64_t eval_freq =
      1;  // same as reference: test metrics after epoch 1 and every eval_freq-th; 0: none
  std::string checkpoint_path;  // saved at every eval_freq-th and the last epoch; empty: none
  bool resume = false;          // continue from checkpoint_path when it exists
};

// The reference's `pretrained` init: copies a deterministic net's state dict (train_net's
// model.pt) into `net`: conv weights into the posterior means, biases, BatchNorms, classifier.
// Every tensor of the file must exist in `net` with its shape; only the posteriors' variance
// parameters (`rho`) may be missing from the file.
absl::Status CopyPretrained(DwpNetImpl& net, const std::string& path);

// Test metrics of a Bayesian net: the `ens`-sample ensemble (mean of probabilities) accuracy and
// NLL, one stochastic pass, the deterministic means; kl is the last step's KL estimate.
struct BnnResult {
  double ens_acc = 0, samp_acc = 0, det_acc = 0, test_nll = 0, kl = 0;
};

// One evaluation during training (a row of train_bnn's metrics.csv).
struct BnnEval {
  int64_t epoch = 0;  // epochs done
  double lr = 0;
  double train_nll = 0;  // mean cross-entropy per training example over the epoch
  BnnResult test;        // test.kl: the epoch's mean KL estimate (the reference's KL column)
};
using BnnEvalSink = std::function<absl::Status(const BnnEval&)>;

// Minimises (N/B) sum CE + sum KL with Adam; evaluates every c.eval_freq epochs (passing each
// evaluation to `on_eval`, whose error stops training) and once more at the end (the result).
absl::StatusOr<BnnResult> TrainBnn(const BnnConfig& config, const KernelInit& init,
                                   const common::data::InMemoryDataset& train,
                                   const common::data::InMemoryDataset& test,
                                   const BnnEvalSink& on_eval = nullptr);

}  // namespace deep_weight_prior

#endif  // DEEP_WEIGHT_PRIOR_EXPERIMENTS_H_
