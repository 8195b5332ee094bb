// FConvMNIST, the "fconv" network of the Deep Weight Prior's MNIST experiments (models/lenet.py):
//
//   x [B, 1, 28, 28] (pixels in [0, 1])
//     -> conv1 7x7 (1 -> c1)  -> LeakyReLU(0.01) -> MaxPool 2   28 -> 22 -> 11   [-> Dropout]
//     -> conv2 5x5 (c1 -> c2) -> LeakyReLU(0.01) -> MaxPool 2   11 -> 7 -> 3     [-> Dropout]
//     -> flatten (c2 * 9) -> Linear(c2 * 9, classes)   (always deterministic)
//
// net_cfg: vanilla (plain convs), vanilla-do (with dropout), bayes (both convs BayesConv2d),
// bayes-1-0 (conv1 Bayesian), bayes-mtrunca (both mu-trunc-alpha, for the log-uniform prior).
// Weights start xavier-normal (convs and classifier; biases keep PyTorch's default), as the
// reference's weights_init.
#ifndef DEEP_WEIGHT_PRIOR_FCONV_H_
#define DEEP_WEIGHT_PRIOR_FCONV_H_

#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include "absl/status/statusor.h"
#include "deep_weight_prior/bayes_layers.h"
#include "deep_weight_prior/kernel_vae.h"
#include "deep_weight_prior/priors.h"

namespace deep_weight_prior {

struct FConvOptions {
  int64_t c1 = 32, c2 = 64;       // same as reference: --hid_dim 32 64
  std::string net_cfg = "bayes";  // same as reference (train-bnn)
  std::vector<double> dropout;    // vanilla-do: two rates
  int64_t classes = 10;
  double logvar_init = -10;       // same as reference: --logvarinit
};

absl::Status Validate(const FConvOptions& options);

// One conv slot: a plain conv or a Bayesian one.
struct ConvSlot {
  torch::nn::Conv2d plain{nullptr};
  BayesConv2d bayes{nullptr};
  torch::Tensor& kernel() { return bayes ? bayes->weight : plain->weight; }  // mu or the weight
  torch::Tensor forward(const torch::Tensor& x) { return bayes ? bayes(x) : plain(x); }
};

class FConvImpl : public torch::nn::Module {
 public:
  explicit FConvImpl(FConvOptions options);
  torch::Tensor forward(const torch::Tensor& x);  // [B, 1, 28, 28] -> logits [B, classes]

  // Parameters of the conv layers (the reference's `features`, which --l2 penalises).
  std::vector<torch::Tensor> FeatureParameters();

  FConvOptions options;
  std::vector<ConvSlot> convs;  // conv1 (7x7), conv2 (5x5)
  torch::nn::Linear classifier{nullptr};
};
TORCH_MODULE(FConv);

// Re-initialises the kernels of conv `index` (0 or 1): "xavier" (xavier-normal), "vae" (decoder
// means of z ~ N(0, I), no noise, no rescaling: "samples from the DWP") or "filters" (random
// kernels of `filters` [N, 1, K, K] drawn without replacement). For "vae", `vae` must be given.
absl::Status InitKernels(FConvImpl& net, size_t index, const std::string& init, KernelVae vae,
                         const torch::Tensor& filters, torch::Generator& gen);

// The KL term of the net under one prior per conv layer (a plain conv layer contributes 0).
absl::StatusOr<torch::Tensor> NetworkKl(FConvImpl& net, const std::vector<LayerPrior>& priors);

}  // namespace deep_weight_prior

#endif  // DEEP_WEIGHT_PRIOR_FCONV_H_
