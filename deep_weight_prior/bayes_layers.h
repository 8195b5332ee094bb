// The Bayesian convolutions of the Deep Weight Prior (Atanov et al., ICLR 2019, models/bayes.py):
// a fully factorised Gaussian posterior q(w) = N(mu, sigma^2) over every kernel weight, sampled
// through the local reparameterisation trick,
//
//   out = conv(x, mu) + b + sqrt(conv(x^2, sigma^2) + 1e-12) * eps,   eps ~ N(0, 1) per activation,
//
// with fresh noise at every forward. Two parameterisations of sigma^2:
//   kLogVariance      sigma^2 = exp(rho), rho initialised to --logvarinit (-10)    (BayesConv2d)
//   kMuTruncAlpha     sigma^2 = alpha mu^2, alpha = sigmoid(rho), rho init -2        (for the
//                     log-uniform prior, whose KL approximation needs alpha < 1)
// Biases are point estimates. `stochastic` switches between sampling and the posterior mean; it is
// separate from train()/eval(), as in the reference.
#ifndef DEEP_WEIGHT_PRIOR_BAYES_LAYERS_H_
#define DEEP_WEIGHT_PRIOR_BAYES_LAYERS_H_

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace deep_weight_prior {

enum class Posterior { kLogVariance, kMuTruncAlpha };

struct BayesConv2dOptions {
  BayesConv2dOptions(int64_t in, int64_t out, int64_t kernel)
      : in_(in), out_(out), kernel_(kernel) {}
  TORCH_ARG(int64_t, in);
  TORCH_ARG(int64_t, out);
  TORCH_ARG(int64_t, kernel);
  TORCH_ARG(Posterior, posterior) = Posterior::kLogVariance;
  TORCH_ARG(double, logvar_init) = -10.0;      // same as reference: --logvarinit
  TORCH_ARG(double, alpha_logit_init) = -2.0;  // same as reference: alpha = sigmoid(-2) = 0.119
};

class BayesConv2dImpl : public torch::nn::Cloneable<BayesConv2dImpl> {
 public:
  explicit BayesConv2dImpl(BayesConv2dOptions options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;

  // [B, in, H, W] -> [B, out, H-K+1, W-K+1] (stride 1, no padding, as the reference's fconv).
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor Variance() const;  // sigma^2, the shape of weight
  torch::Tensor Sigma() const;     // sqrt(sigma^2 + 1e-12)

  BayesConv2dOptions options;
  bool stochastic = true;
  torch::Tensor weight;  // mu [out, in, K, K]
  torch::Tensor bias;    // [out], a point estimate
  torch::Tensor rho;     // log sigma^2, or the logit of alpha; [out, in, K, K]
};
TORCH_MODULE(BayesConv2d);

// Sets `stochastic` on every BayesConv2d in `module` (the reference's bnn_mode).
void SetStochastic(torch::nn::Module& module, bool stochastic);

}  // namespace deep_weight_prior

#endif  // DEEP_WEIGHT_PRIOR_BAYES_LAYERS_H_
