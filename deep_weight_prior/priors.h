// Priors over the kernels of a Bayesian conv layer and their (differentiable) KL terms:
//
//   kStandardNormal  KL(q || N(0, 1)) in closed form
//   kLogUniform      the truncated-alpha approximation of Kingma et al. (2015) used by the
//   reference
//                    (kl_loguniform_with_trunc_alpha), needs the mu-trunc-alpha posterior:
//                    sum -log(alpha)/2 - c1 alpha - c2 alpha^2 - c3 alpha^3
//   kDwp             the Deep Weight Prior (Atanov et al., ICLR 2019, Sec. 3): each KxK kernel
//   slice
//                    w_ij has the implicit prior p(w) = int p(w|z) p(z) dz of a kernel VAE, and
//                      KL(q || p) <= -H[q] - E_q[ELBO_vae(w)]
//                    estimated with S reparameterised weight samples and one z per kernel through
//                    the frozen VAE (its parameters get no gradient; the weights do).
#ifndef DEEP_WEIGHT_PRIOR_PRIORS_H_
#define DEEP_WEIGHT_PRIOR_PRIORS_H_

#include <torch/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "deep_weight_prior/bayes_layers.h"
#include "deep_weight_prior/kernel_vae.h"

namespace deep_weight_prior {

enum class PriorKind { kNone, kStandardNormal, kLogUniform, kDwp };

// "no", "sn", "loguniform" or "vae" (the reference's --prior_list names).
absl::StatusOr<PriorKind> ParsePrior(const std::string& name);

struct LayerPrior {
  PriorKind kind = PriorKind::kStandardNormal;
  KernelVae vae{nullptr};  // kDwp only; frozen
  int samples = 1;         // same as reference: --dwp_samples
};

// sum over entries of the entropy of N(mu, sigma^2): log(2 pi e) / 2 + log sigma.
torch::Tensor GaussianEntropy(const torch::Tensor& sigma);

// The log-uniform KL approximation summed over alpha_logit's entries (alpha = sigmoid(logit)).
torch::Tensor KlLogUniform(const torch::Tensor& alpha_logit);
double KlLogUniform(double alpha);

// -H[q] + (1/S) sum_s [VAE loss of w_s], w_s = mu + sigma eps, for mu, sigma [O, I, K, K], in
// chunks of at most `chunk` kernels.
torch::Tensor KlDwp(const torch::Tensor& mu, const torch::Tensor& sigma, KernelVae& vae,
                    int samples, int64_t chunk = 1000000);

// The layer's KL term under `prior`. A log-uniform prior on a log-variance layer, and a DWP prior
// whose VAE kernel size differs from the layer's, are errors (the reference silently used KL 0 for
// the first).
absl::StatusOr<torch::Tensor> LayerKl(const BayesConv2dImpl& layer, const LayerPrior& prior);

// Freezes a VAE for use as a prior: no parameter gradients, eval mode.
void Freeze(KernelVae& vae);

}  // namespace deep_weight_prior

#endif  // DEEP_WEIGHT_PRIOR_PRIORS_H_
