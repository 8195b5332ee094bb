#include "deep_weight_prior/priors.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace deep_weight_prior {
namespace {

constexpr double kC1 = 1.16145124, kC2 = -1.50204118, kC3 = 0.58629921;  // same as reference

}  // namespace

absl::StatusOr<PriorKind> ParsePrior(const std::string& name) {
  if (name == "no") return PriorKind::kNone;
  if (name == "sn") return PriorKind::kStandardNormal;
  if (name == "loguniform") return PriorKind::kLogUniform;
  if (name == "vae") return PriorKind::kDwp;
  return absl::InvalidArgumentError(
      absl::StrCat("prior must be vae, sn, loguniform or no, got '", name, "'"));
}

torch::Tensor GaussianEntropy(const torch::Tensor& sigma) {
  return sigma.log().sum() + 0.5 * std::log(2 * M_PI * M_E) * static_cast<double>(sigma.numel());
}

torch::Tensor KlLogUniform(const torch::Tensor& alpha_logit) {
  const torch::Tensor alpha = torch::sigmoid(alpha_logit);
  const torch::Tensor log_alpha = torch::log_sigmoid(alpha_logit);
  return (-0.5 * log_alpha - kC1 * alpha - kC2 * alpha.pow(2) - kC3 * alpha.pow(3)).sum();
}

double KlLogUniform(double alpha) {
  return -0.5 * std::log(alpha) - kC1 * alpha - kC2 * alpha * alpha - kC3 * alpha * alpha * alpha;
}

torch::Tensor KlDwp(const torch::Tensor& mu, const torch::Tensor& sigma, KernelVae& vae,
                    int samples, int64_t chunk) {
  TORCH_CHECK(samples >= 1 && chunk >= 1, "KlDwp: samples ", samples, ", chunk ", chunk);
  const int64_t k = mu.size(-1);
  const torch::Tensor m = mu.reshape({-1, 1, k, k}), s = sigma.reshape({-1, 1, k, k});
  torch::Tensor loss = -GaussianEntropy(sigma);
  for (int64_t start = 0; start < m.size(0); start += chunk) {
    const int64_t len = std::min(chunk, m.size(0) - start);
    const torch::Tensor mc = m.narrow(0, start, len), sc = s.narrow(0, start, len);
    for (int i = 0; i < samples; ++i) {
      loss =
          loss + vae->Loss(mc + sc * torch::randn_like(mc)).total() / static_cast<double>(samples);
    }
  }
  return loss;
}

absl::StatusOr<torch::Tensor> LayerKl(const BayesConv2dImpl& layer, const LayerPrior& prior) {
  const bool trunc = layer.options.posterior() == Posterior::kMuTruncAlpha;
  switch (prior.kind) {
    case PriorKind::kNone:
      return torch::zeros({}, layer.weight.options());
    case PriorKind::kStandardNormal:
      return KlToStandardNormal(layer.weight, layer.Variance() + 1e-12);
    case PriorKind::kLogUniform:
      if (!trunc) {
        return absl::InvalidArgumentError(
            "the loguniform prior needs --net_cfg=bayes-mtrunca (sigma^2 = alpha mu^2 with alpha < "
            "1); "
            "with a log-variance layer its KL is undefined (the reference silently used 0)");
      }
      return KlLogUniform(layer.rho);
    case PriorKind::kDwp:
      if (prior.vae.is_empty())
        return absl::InvalidArgumentError("the vae prior needs a VAE (--vae_list)");
      if (prior.vae->options.kernel_dim() != layer.options.kernel()) {
        return absl::InvalidArgumentError(
            absl::StrCat("a ", prior.vae->options.kernel_dim(), "x",
                         prior.vae->options.kernel_dim(), " VAE cannot be the prior of ",
                         layer.options.kernel(), "x", layer.options.kernel(), " kernels"));
      }
      {
        KernelVae vae = prior.vae;  // a handle to the same module
        return KlDwp(layer.weight, layer.Sigma(), vae, prior.samples);
      }
  }
  return absl::InternalError("unknown prior");
}

void Freeze(KernelVae& vae) {
  for (torch::Tensor& p : vae->parameters()) p.requires_grad_(false);
  vae->eval();
}

}  // namespace deep_weight_prior
