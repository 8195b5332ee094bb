#include "icnn/convex_init.h"

#include <torch/torch.h>

#include <cmath>

#include "gtest/gtest.h"
#include "icnn/convex_modules.h"

namespace icnn {
namespace {

struct Row {
  int64_t n;
  double mu_w, v_w, bias, f_c;
};

TEST(ConvexInitialiser, ReferenceTable) {
  // The spec's reference values for var = 1, corr = 0.5 (Sec. 2.8).
  const Row rows[] = {{128, 0.0144147, 0.0078125, -0.736083, 2406.34},
                      {512, 0.00361782, 0.00195312, -0.738970, 38201.1},
                      {784, 0.00236373, 0.00127551, -0.739306, 89489.8},
                      {3072, 0.000603629, 0.000325521, -0.739778, 1.37224e6}};
  const ConvexInitialiser init;
  for (const Row& r : rows) {
    const ConvexInitParameters p = init.ComputeParameters(r.n);
    EXPECT_NEAR(std::sqrt(p.weight_mean_sq), r.mu_w, 1e-5 * r.mu_w) << r.n;
    EXPECT_NEAR(p.weight_var, r.v_w, 1e-5 * r.v_w) << r.n;
    EXPECT_NEAR(p.bias_mean, r.bias, 1e-5 * std::abs(r.bias)) << r.n;
    EXPECT_NEAR(init.CorrelationFunction(r.n), r.f_c, 1e-5 * r.f_c) << r.n;
    EXPECT_EQ(p.bias_var, 0.0);
  }
  const ConvexInitParameters noise = ConvexInitialiser(1, 0.5, 0.5).ComputeParameters(784);
  EXPECT_NEAR(noise.weight_mean_sq, 5.5872e-6, 1e-5 * 5.5872e-6 * 10);
  EXPECT_NEAR(noise.weight_var, 6.37755e-4, 1e-5 * 6.37755e-4 * 10);
  EXPECT_NEAR(noise.bias_var, 0.25, 1e-12);
  const ConvexInitParameters low = ConvexInitialiser(1, 0.1).ComputeParameters(784);
  EXPECT_NEAR(low.weight_var, 2.29592e-3, 1e-5);
  EXPECT_NEAR(low.bias_mean, -0.779424, 1e-5);
  const ConvexInitParameters high = ConvexInitialiser(1, 0.9).ComputeParameters(784);
  EXPECT_NEAR(high.bias_mean, -0.696027, 1e-5);
  EXPECT_NEAR(ConvexInitialiser::MixedMoment(0), 1.0, 1e-15);
  EXPECT_NEAR(ConvexInitialiser::MixedMoment(1), M_PI, 1e-12);
}

// Inputs at the fixed point: zero mean, unit variance, pairwise correlation 0.5.
torch::Tensor FixedPointInputs(int64_t batch, int64_t n) {
  return std::sqrt(0.5) * torch::randn({batch, 1}) + std::sqrt(0.5) * torch::randn({batch, n});
}

TEST(ConvexInitialiser, MomentsOverManyDrawsAtTheFixedPoint) {
  torch::manual_seed(0);
  const int64_t n = 256, out = 32, draws = 100;
  double mean = 0, var = 0, cov = 0;
  for (int d = 0; d < draws; ++d) {
    ConvexLinear layer(n, out, Positivity::kLazyClip);
    ASSERT_TRUE(
        ConvexInitialiser().Initialise(layer->weight, layer->bias, Positivity::kLazyClip).ok());
    torch::NoGradGuard no_grad;
    const torch::Tensor s = layer->forward(torch::relu(FixedPointInputs(2000, n)));
    mean += s.mean().item<double>() / draws;
    var +=
        s.var(/*unbiased=*/false).item<double>() / draws;  // over inputs and units, as the theory
    const torch::Tensor c = s - s.mean(0, true);
    const torch::Tensor gram = c.t().mm(c) / 2000;
    cov += (gram.sum() - gram.trace()).item<double>() / (out * (out - 1)) / draws;
  }
  EXPECT_NEAR(mean, 0.0, 0.1);
  EXPECT_NEAR(var, 1.0, 0.1);
  EXPECT_NEAR(cov, 0.5, 0.05);
}

TEST(ConvexInitialiser, HeWithClippingBlowsUpWhilePrincipledDoesNot) {
  torch::manual_seed(1);
  auto deep_mean = [](InitScheme scheme) {
    IcnnMlp net(IcnnOptions(512, 512).num_hidden(6).init(scheme));
    torch::NoGradGuard no_grad;
    return net->forward(torch::randn({256, 512})).mean().item<double>();
  };
  EXPECT_GT(deep_mean(InitScheme::kDefault), 1e3);
  EXPECT_LT(std::abs(deep_mean(InitScheme::kPrincipled)), 10.0);
}

TEST(ConvexInitialiser, ExpPositivityGetsLogNormalEffectiveWeights) {
  torch::manual_seed(2);
  ConvexLinear layer(784, 784, Positivity::kExp);
  ASSERT_TRUE(ConvexInitialiser().Initialise(layer->weight, layer->bias, Positivity::kExp).ok());
  // raw = log w ~ N(log_mean, log_var): log_mean = -8.76501, sqrt(log_var) = 2.33131 (n = 784).
  EXPECT_NEAR(layer->weight.mean().item<double>(), -8.76501, 0.02);
  EXPECT_NEAR(layer->weight.std().item<double>(), 2.33131, 0.02);
  // Not the reference release's bug (exp of a log-normal sample, effective weights ~ 1).
  EXPECT_LT(layer->EffectiveWeight().median().item<double>(), 1e-3);
  torch::Tensor no_bias;
  EXPECT_FALSE(ConvexInitialiser().Initialise(layer->weight, no_bias, Positivity::kExp).ok());
}

TEST(BiasCorrection, ClosedFormShiftAndMonteCarloCheck) {
  // The spec: clipping, gain 2, n = 784 -> shift = sqrt(n) / (4 sqrt(pi)) = 3.949.
  EXPECT_NEAR(BiasCorrectionShift(Positivity::kLazyClip, 784, 2.0),
              std::sqrt(784.0) / (4 * std::sqrt(M_PI)), 1e-12);
  EXPECT_NEAR(BiasCorrectionShift(Positivity::kLazyClip, 784, 2.0), 3.949, 1e-3);
  // Exp: E[exp(w)] by Monte Carlo as the reference does, 1e6 draws.
  torch::manual_seed(3);
  const double a = std::sqrt(2.0 / 784);
  const double mc =
      torch::rand({1000000}, torch::kFloat64).mul(2 * a).sub(a).exp().mean().item<double>();
  EXPECT_NEAR(BiasCorrectionShift(Positivity::kExp, 784, 2.0), 784 * mc / std::sqrt(2 * M_PI),
              1e-3);
  EXPECT_EQ(BiasCorrectionShift(Positivity::kNone, 784, 2.0), 0.0);
}

}  // namespace
}  // namespace icnn
