#include "deep_weight_prior/priors.h"

#include <torch/torch.h>

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deep_weight_prior {
namespace {

TEST(Priors, LogUniformPolynomialAtOneHalf) {
  EXPECT_NEAR(KlLogUniform(0.5), 0.068071, 1e-6);  // the spec's value
  const torch::Tensor logit = torch::zeros({3});   // alpha = 0.5
  EXPECT_NEAR(KlLogUniform(logit).item<double>(), 3 * 0.068071, 1e-5);
}

TEST(Priors, StandardNormalKlMatchesMonteCarlo) {
  torch::manual_seed(0);
  BayesConv2d layer(BayesConv2dOptions(1, 2, 2).logvar_init(-1.0));
  const torch::Tensor kl = LayerKl(*layer, {PriorKind::kStandardNormal}).value();
  // MC: E_q[log q(w) - log N(w | 0, 1)].
  const torch::Tensor mu = layer->weight.detach().to(torch::kDouble),
                      sigma = layer->Sigma().detach().to(torch::kDouble);
  const torch::Tensor w = mu + sigma * torch::randn({200000, 2, 1, 2, 2}, torch::kDouble);
  const torch::Tensor log_q =
      (-(w - mu).pow(2) / (2 * sigma * sigma) - sigma.log()).sum({1, 2, 3, 4});
  const torch::Tensor log_p = (-w.pow(2) / 2).sum({1, 2, 3, 4});
  EXPECT_NEAR(kl.item<double>(), (log_q - log_p).mean().item<double>(), 0.01);
}

// A VAE whose decoder ignores z: p(w) = N(m0, v0) exactly, so KL(q || p) is known in closed form.
KernelVae ConstantDecoderVae(double m0, double v0_softplus_arg, double enc_var_arg) {
  KernelVae vae(KernelVaeOptions(3, 2, 4));
  torch::NoGradGuard no_grad;
  for (auto& p : vae->named_parameters()) p.value().zero_();
  vae->decoder->mu->bias.fill_(m0);
  vae->decoder->var->bias.fill_(v0_softplus_arg);
  vae->encoder->var->bias.fill_(enc_var_arg);
  Freeze(vae);
  return vae;
}

TEST(Priors, DwpBoundIsAtLeastTheTrueKlAndTightWhenTheEncoderIsThePrior) {
  torch::manual_seed(1);
  const torch::Tensor mu = 0.3 * torch::randn({4, 2, 3, 3}, torch::kDouble);
  const torch::Tensor sigma = torch::full({4, 2, 3, 3}, 0.2, torch::kDouble);
  const double m0 = 0.1, v0 = std::log1p(std::exp(-0.5));
  const double true_kl =
      (0.5 * ((sigma * sigma + (mu - m0).pow(2)) / v0 - 1 - (sigma * sigma / v0).log()))
          .sum()
          .item<double>();
  // softplus(0.5413) = 1: r(z|w) = N(0, 1) = p(z), so the bound is tight in expectation.
  KernelVae tight = ConstantDecoderVae(m0, -0.5, 0.5413248546);
  tight->to(torch::kDouble);
  KernelVae loose = ConstantDecoderVae(m0, -0.5, -2.0);
  loose->to(torch::kDouble);
  const double est_tight = KlDwp(mu, sigma, tight, /*samples=*/2000).item<double>();
  const double est_loose = KlDwp(mu, sigma, loose, 2000).item<double>();
  EXPECT_NEAR(est_tight, true_kl, 0.01 * true_kl);
  const double zv = std::log1p(std::exp(-2.0));
  const double gap = 8 * 2 * 0.5 * (zv - 1 - std::log(zv));  // 8 kernels x 2 latents: KL(r || p(z))
  EXPECT_NEAR(est_loose, true_kl + gap, 0.01 * (true_kl + gap));
  EXPECT_GT(est_loose, true_kl);
}

TEST(Priors, DwpGradientsReachTheWeightsNotTheVae) {
  KernelVae vae(KernelVaeOptions(3, 2, 4));
  Freeze(vae);
  BayesConv2d layer(BayesConv2dOptions(2, 2, 3).logvar_init(-4));
  LayerPrior prior{PriorKind::kDwp, vae, 1};
  LayerKl(*layer, prior).value().backward();
  EXPECT_GT(layer->weight.grad().abs().sum().item<double>(), 0);
  EXPECT_GT(layer->rho.grad().abs().sum().item<double>(), 0);
  for (const auto& p : vae->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Priors, MismatchedConfigurationsAreErrors) {
  BayesConv2d lv(BayesConv2dOptions(1, 1, 3));
  EXPECT_THAT(std::string(LayerKl(*lv, {PriorKind::kLogUniform}).status().message()),
              ::testing::HasSubstr("bayes-mtrunca"));
  KernelVae vae5(KernelVaeOptions(5, 2, 4));
  EXPECT_THAT(std::string(LayerKl(*lv, {PriorKind::kDwp, vae5}).status().message()),
              ::testing::HasSubstr("5x5 VAE cannot be the prior of 3x3"));
  EXPECT_FALSE(ParsePrior("flow").ok());
}

}  // namespace
}  // namespace deep_weight_prior
