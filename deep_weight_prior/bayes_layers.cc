#include "deep_weight_prior/bayes_layers.h"

#include <torch/nn/init.h>

#include <cmath>
#include <ostream>

namespace deep_weight_prior {

BayesConv2dImpl::BayesConv2dImpl(BayesConv2dOptions options_) : options(std::move(options_)) {
  reset();
}

void BayesConv2dImpl::reset() {
  const int64_t k = options.kernel();
  TORCH_CHECK(options.in() > 0 && options.out() > 0 && k > 0, "BayesConv2d: bad shape ",
              options.in(), "->", options.out(), " kernel ", k);
  torch::Tensor w = torch::empty({options.out(), options.in(), k, k});
  torch::nn::init::xavier_normal_(w);  // same as reference weights_init
  const double bound = 1.0 / std::sqrt(static_cast<double>(options.in() * k * k));
  weight = register_parameter("weight", w);
  bias = register_parameter("bias", torch::empty({options.out()}).uniform_(-bound, bound));
  const double init = options.posterior() == Posterior::kLogVariance ? options.logvar_init()
                                                                     : options.alpha_logit_init();
  rho = register_parameter("rho", torch::full_like(w, init));
}

void BayesConv2dImpl::pretty_print(std::ostream& stream) const {
  stream << "deep_weight_prior::BayesConv2d(" << options.in() << " -> " << options.out()
         << ", kernel " << options.kernel()
         << (options.posterior() == Posterior::kLogVariance ? ", log-variance" : ", mu-trunc-alpha")
         << ")";
}

torch::Tensor BayesConv2dImpl::Variance() const {
  if (options.posterior() == Posterior::kLogVariance) return rho.exp();
  return torch::sigmoid(rho) * weight * weight;
}

torch::Tensor BayesConv2dImpl::Sigma() const { return (Variance() + 1e-12).sqrt(); }

torch::Tensor BayesConv2dImpl::forward(const torch::Tensor& x) {
  const torch::Tensor mean = torch::conv2d(x, weight, bias);
  if (!stochastic) return mean;
  const torch::Tensor var = torch::conv2d(x * x, Variance());
  return mean + (var + 1e-12).sqrt() * torch::randn_like(mean);  // same as reference: eps 1e-12
}

void SetStochastic(torch::nn::Module& module, bool stochastic) {
  for (const auto& m : module.modules(/*include_self=*/true)) {
    if (auto* b = m->as<BayesConv2dImpl>()) b->stochastic = stochastic;
  }
}

}  // namespace deep_weight_prior
