// The kernel VAEs of the Deep Weight Prior (models/vae.py): a convolutional VAE over single KxK
// convolution kernels w [B, 1, K, K], latent z [B, z_dim, 1, 1], ELU activations, softplus
// variances, Gaussian decoder. Layer names follow the reference's state dicts
// (encoder.features.N, encoder.fc_mu, encoder.fc_var / fc_sigma, decoder.decoder.N, decoder.fc_mu,
// decoder.fc_var), so converted reference weights load directly.
//
//   7x7 encoder  Conv3(1,h) Conv3(h,2h) Conv3(2h,2h)                       7 -> 5 -> 3 -> 1
//   7x7 decoder  ConvT3(z,2h) ConvT3(2h,2h) ConvT3(2h,h)                   1 -> 3 -> 5 -> 7
//   5x5 encoder  Conv3p1(1,h) Conv3p1(h,h) Conv3(h,2h) Conv3(2h,2h)        5 -> 5 -> 5 -> 3 -> 1
//   5x5 decoder  Conv1(z,2h) ConvT3(2h,2h) ConvT3(2h,2h) Conv1(2h,h)       1 -> 1 -> 3 -> 5 -> 5
//   3x3 encoder  Conv3p1(1,h) Conv3(h,2h)                                  3 -> 3 -> 1
//   3x3 decoder  ConvT3(z,2h) Conv1(2h,h)                                  1 -> 3 -> 3
// each followed by ELU, then 1x1 heads for the mean and (softplus) variance.
//
// Loss per batch, summed over the batch (same as reference):
//   -sum log N(w | w_mu, w_var) + sum KL(N(z_mu, z_var) || N(0, I)),  z = z_mu + sqrt(z_var) eps.
#ifndef DEEP_WEIGHT_PRIOR_KERNEL_VAE_H_
#define DEEP_WEIGHT_PRIOR_KERNEL_VAE_H_

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <string>
#include <utility>

#include "absl/status/status.h"

namespace deep_weight_prior {

struct KernelVaeOptions {
  KernelVaeOptions(int64_t kernel_dim, int64_t z_dim, int64_t hidden_dim)
      : kernel_dim_(kernel_dim), z_dim_(z_dim), hidden_dim_(hidden_dim) {}
  TORCH_ARG(int64_t, kernel_dim);    // 3, 5 or 7
  TORCH_ARG(int64_t, z_dim);         // reference VAEs: 2 (7x7), 4 (5x5)
  TORCH_ARG(int64_t, hidden_dim);    // reference VAEs: 32 (7x7), 64 (5x5)
  TORCH_ARG(double, fixed_var) = 0;  // > 0: constant decoder variance (--var), else learned
};

absl::Status Validate(const KernelVaeOptions& options);

struct Gaussian {
  torch::Tensor mean, var;
};

struct VaeLoss {
  torch::Tensor nll;  // -sum log N(w | w_mu, w_var), scalar
  torch::Tensor kl;   // sum KL(N(z_mu, z_var) || N(0, I)), scalar
  torch::Tensor total() const { return nll + kl; }
};

// A trunk followed by a mean head and a softplus variance head (one half of the VAE). The names
// of the parts are the reference's, which differ between the 7x7 and the 5x5 VAE.
class HeadedNetImpl : public torch::nn::Module {
 public:
  HeadedNetImpl(const std::string& trunk_name, torch::nn::Sequential trunk,
                const std::string& var_name, torch::nn::Conv2d mu, torch::nn::Conv2d var,
                bool heads_in_sequential);
  Gaussian forward(const torch::Tensor& x);

  torch::nn::Sequential trunk{nullptr};
  torch::nn::Conv2d mu{nullptr}, var{nullptr};
  bool toom = true;  // frozen 3x3 convolutions by Toom-Cook transforms where they apply

 private:
  // KernelVae::clone() rebuilds this part with fresh weights, then asks it to copy `other`: copy
  // every parameter and buffer (Module's default copies nothing, leaving a random clone).
  void clone_(torch::nn::Module& other, const c10::optional<torch::Device>& device) override;
};
TORCH_MODULE(HeadedNet);

class KernelVaeImpl : public torch::nn::Cloneable<KernelVaeImpl> {
 public:
  explicit KernelVaeImpl(KernelVaeOptions options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;

  Gaussian Encode(const torch::Tensor& w);  // [B, 1, K, K] -> z [B, z_dim, 1, 1]
  Gaussian Decode(const torch::Tensor& z);  // [B, z_dim, 1, 1] -> w [B, 1, K, K]
  // The summed loss with one reparameterised z per kernel; `eps` [B, z_dim, 1, 1] (drawn when
  // undefined).
  VaeLoss Loss(const torch::Tensor& w, const torch::Tensor& eps = {});

  KernelVaeOptions options;
  HeadedNet encoder{nullptr}, decoder{nullptr};
};
TORCH_MODULE(KernelVae);

// sum over entries of -log N(x | mean, var) = (x - mean)^2 / (2 var) + log(var) / 2 + log(2 pi)
// / 2.
torch::Tensor GaussianNll(const torch::Tensor& x, const torch::Tensor& mean,
                          const torch::Tensor& var);

// sum over entries of KL(N(mean, var) || N(0, 1)) = (var + mean^2 - 1 - log var) / 2.
torch::Tensor KlToStandardNormal(const torch::Tensor& mean, const torch::Tensor& var);

}  // namespace deep_weight_prior

#endif  // DEEP_WEIGHT_PRIOR_KERNEL_VAE_H_
