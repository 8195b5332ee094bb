#include "deep_weight_prior/bayes_layers.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace deep_weight_prior {
namespace {

// Empirical mean and variance over `n` forward passes of f() ([...] each).
std::pair<torch::Tensor, torch::Tensor> Moments(const std::function<torch::Tensor()>& f, int n) {
  torch::Tensor sum, sq;
  for (int i = 0; i < n; ++i) {
    const torch::Tensor y = f().to(torch::kDouble);
    sum = sum.defined() ? sum + y : y;
    sq = sq.defined() ? sq + y * y : y * y;
  }
  const torch::Tensor mean = sum / n;
  return {mean, sq / n - mean * mean};
}

TEST(BayesConv2d, LocalReparameterisationMatchesExplicitWeightSampling) {
  torch::manual_seed(0);
  for (Posterior posterior : {Posterior::kLogVariance, Posterior::kMuTruncAlpha}) {
    BayesConv2d conv(
        BayesConv2dOptions(2, 3, 2).posterior(posterior).logvar_init(-2.0).alpha_logit_init(0.5));
    torch::NoGradGuard no_grad;
    conv->rho.add_(0.3 * torch::randn_like(conv->rho));  // weight-specific variances
    const torch::Tensor x = torch::randn({1, 2, 3, 3});
    const torch::Tensor sigma = conv->Sigma();
    const int n = 20000;
    auto [lrt_mean, lrt_var] = Moments([&] { return conv(x); }, n);
    auto [w_mean, w_var] = Moments(
        [&] {
          return torch::conv2d(x, conv->weight + sigma * torch::randn_like(sigma), conv->bias);
        },
        n);
    // Closed form: mean conv(x, mu) + b, variance conv(x^2, sigma^2).
    const torch::Tensor mean = torch::conv2d(x, conv->weight, conv->bias).to(torch::kDouble);
    const torch::Tensor var = torch::conv2d(x * x, sigma * sigma).to(torch::kDouble);
    const double tol_mean = 5 * std::sqrt(var.max().item<double>() / n);
    EXPECT_LT((lrt_mean - mean).abs().max().item<double>(), tol_mean);
    EXPECT_LT((w_mean - mean).abs().max().item<double>(), tol_mean);
    EXPECT_TRUE(torch::allclose(lrt_var, var, 0.05, 1e-6)) << lrt_var << var;
    EXPECT_TRUE(torch::allclose(w_var, var, 0.05, 1e-6)) << w_var << var;
  }
}

TEST(BayesConv2d, DeterministicModeIsThePosteriorMean) {
  torch::manual_seed(1);
  BayesConv2d conv(BayesConv2dOptions(1, 2, 3).logvar_init(0.0));
  const torch::Tensor x = torch::randn({2, 1, 5, 5});
  SetStochastic(*conv, false);
  EXPECT_TRUE(torch::equal(conv(x), torch::conv2d(x, conv->weight, conv->bias)));
  SetStochastic(*conv, true);
  EXPECT_FALSE(torch::allclose(conv(x), conv(x)));  // fresh noise every forward
  conv->eval();  // eval() does not switch the mode (same as reference)
  EXPECT_FALSE(torch::allclose(conv(x), conv(x)));
}

TEST(BayesConv2d, ParameterisationsOfTheVariance) {
  BayesConv2d lv(BayesConv2dOptions(1, 1, 1));
  EXPECT_NEAR(lv->Variance().item<double>(), std::exp(-10.0), 1e-6 * std::exp(-10.0));
  BayesConv2d ta(BayesConv2dOptions(1, 1, 1).posterior(Posterior::kMuTruncAlpha));
  const double mu = ta->weight.item<double>();
  EXPECT_NEAR(ta->Variance().item<double>(), mu * mu / (1 + std::exp(2.0)), 1e-6 * mu * mu);
}

}  // namespace
}  // namespace deep_weight_prior
