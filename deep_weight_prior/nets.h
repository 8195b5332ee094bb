// The three networks of the Deep Weight Prior's experiments, as one module with a conv list (the
// layers a prior or an initialisation acts on) and a deterministic classifier. LeakyReLU(0.01)
// everywhere; weights start xavier-normal (convs and linears; biases keep PyTorch's default).
//
// fconv (FConvMNIST, models/lenet.py), x [B, 1, 28, 28]:
//   conv1 7x7 (1 -> c1) -> act -> MaxPool 2 [-> Dropout]   28 -> 22 -> 11
//   conv2 5x5 (c1 -> c2) -> act -> MaxPool 2 [-> Dropout]  11 -> 7 -> 3
//   flatten (c2 * 9) -> Linear(classes)
//   net_cfg: vanilla, vanilla-do, bayes, bayes-1-0 (conv1 Bayesian), bayes-mtrunca.
// cifarnet (CIFARNet, models/cifarnet.py), x [B, 3, 32, 32], d1 = 128k, d2 = 256k:
//   conv1 7x7 (3 -> d1) -> BN -> act -> MaxPool 2           32 -> 26 -> 13
//   conv2 5x5 (d1 -> d2) -> BN -> act                       13 -> 9
//   conv3 5x5 (d2 -> d2) -> BN -> act                        9 -> 5
//   conv4 5x5 (d2 -> 512) -> BN -> act                       5 -> 1
//   Linear(512, 512) -> BN1d -> act -> Linear(classes)
//   net_cfg: vanilla, vanilla-do (no dropout, as the reference), bayes, bayes1110, bayes1100,
//   bayes1000 (1 = Bayesian conv), bayes-mtrunca, bayes1100-mtrunca, bayes1000-mtrunca.
// cifarnetnew (CIFARNetNew), no BN:
//   conv1 7x7 -> act -> MaxPool 2; conv2 5x5 -> act; conv3 5x5 -> act; flatten (d2 * 25)
//   [Dropout 0.5 ->] Linear(512) -> act [-> Dropout 0.2] -> Linear(classes)  (-do)
//   or a single Linear(classes)                                              (-nofc)
//   net_cfg: vanilla, vanilla-nofc, vanilla-do, bayes111, bayes111-nofc, bayes110, bayes100,
//   bayes100-nofc, bayes111-mutrunca.
// Unlike the reference, a CIFARNet BNN works (its weights_init lacks the logvar argument that
// train-bnn passes, so `--model cifarnet` crashes there) and --logvarinit applies to it.
#ifndef DEEP_WEIGHT_PRIOR_NETS_H_
#define DEEP_WEIGHT_PRIOR_NETS_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "deep_weight_prior/bayes_layers.h"
#include "deep_weight_prior/kernel_vae.h"
#include "deep_weight_prior/priors.h"

namespace deep_weight_prior {

struct NetOptions {
  std::string model = "fconv";    // fconv | cifarnet | cifarnetnew
  int64_t c1 = 32, c2 = 64;       // fconv: same as reference, --hid_dim 32 64
  double model_size = 1.0;        // CIFAR models: width k (same as reference --model_size)
  std::string net_cfg = "bayes";  // same as reference (train-bnn)
  std::vector<double> dropout;    // fconv vanilla-do: two rates
  int64_t classes = 10;
  double logvar_init = -10;  // same as reference: --logvarinit
};

absl::Status Validate(const NetOptions& options);

// One conv slot: a plain conv or a Bayesian one.
struct ConvSlot {
  torch::nn::Conv2d plain{nullptr};
  BayesConv2d bayes{nullptr};
  torch::Tensor& kernel() { return bayes ? bayes->weight : plain->weight; }  // mu or the weight
  torch::Tensor forward(const torch::Tensor& x) { return bayes ? bayes(x) : plain(x); }
};

class DwpNetImpl : public torch::nn::Module {
 public:
  explicit DwpNetImpl(NetOptions options);
  torch::Tensor forward(const torch::Tensor& x);  // [B, C, H, W] -> logits [B, classes]

  // Parameters of the reference's `features` (convs and, for CIFARNet, their BatchNorms), which
  // --l2 penalises.
  std::vector<torch::Tensor> FeatureParameters();
  // What --rfe trains: the classifier and the BatchNorms inside `features` (same as reference).
  std::vector<torch::Tensor> RfeParameters();
  // The input the model expects: {channels, side}.
  std::pair<int64_t, int64_t> InputShape() const;

  NetOptions options;
  std::vector<ConvSlot> convs;                   // conv1 (7x7), conv2.. (5x5)
  std::vector<torch::nn::BatchNorm2d> conv_bns;  // cifarnet: after each conv
  // The classifier, registered as "classifier" (the reference's state-dict names): a Linear for
  // fconv, a Sequential (fc1, bn1, act, linear / do1, ...) for the CIFAR models.
  torch::nn::Linear linear_classifier{nullptr};
  torch::nn::Sequential mlp_classifier{nullptr};
};
TORCH_MODULE(DwpNet);

// OK when `vae` models the kernels of conv `index` (same kernel size), else an error naming both.
absl::Status CheckVaeFits(DwpNetImpl& net, size_t index, const KernelVaeImpl& vae);

// Re-initialises the kernels of conv `index`: "xavier" (xavier-normal), "vae" (decoder means of
// z ~ N(0, I), no noise, no rescaling: "samples from the DWP") or "filters" (random kernels of
// `filters` [N, 1, K, K] drawn without replacement; the CIFAR models tile the file 10 times
// first, as the reference) or "recon" (VAE reconstructions of such drawn kernels: the decoder mean
// at z ~ q(z | w); the reference offers it for the CIFAR models only). "vae" and "recon" need
// `vae`.
absl::Status InitKernels(DwpNetImpl& net, size_t index, const std::string& init, KernelVae vae,
                         const torch::Tensor& filters, torch::Generator& gen);

// The KL term of the net under one prior per conv layer (a plain conv layer contributes 0).
absl::StatusOr<torch::Tensor> NetworkKl(DwpNetImpl& net, const std::vector<LayerPrior>& priors);

}  // namespace deep_weight_prior

#endif  // DEEP_WEIGHT_PRIOR_NETS_H_
