#include "common/linalg/power_iteration.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace common::linalg {
namespace {

TEST(SpectralNorm, MatchesLargestSingularValue) {
  torch::manual_seed(1);
  torch::Tensor w = torch::randn({30, 20}, torch::kFloat64);
  const double oracle = torch::linalg_svdvals(w).max().item<double>();
  PowerIteration p = SpectralNorm(w, 500);
  EXPECT_NEAR(p.sigma, oracle, 1e-8 * oracle);
  EXPECT_NEAR(p.u.norm().item<double>(), 1.0, 1e-12);
  // sigma is |u^T W v| <= ||W||_2 at every iteration count.
  EXPECT_LE(SpectralNorm(w, 2).sigma, oracle + 1e-12);
}

TEST(SpectralNorm, KnownSpectrumAndWarmStart) {
  // W = diag(3, 2, 1) rotated: ||W||_2 = 3, top right singular vector e_1.
  torch::Tensor w = torch::diag(torch::tensor({3.0, 2.0, 1.0}, torch::kFloat64));
  PowerIteration cold = SpectralNorm(w, 1, torch::ones({3}, torch::kFloat64));
  EXPECT_LT(cold.sigma, 3.0 - 1e-3);
  PowerIteration warm = SpectralNorm(w, 1, torch::tensor({1.0, 0.0, 0.0}, torch::kFloat64));
  EXPECT_DOUBLE_EQ(warm.sigma, 3.0);
  EXPECT_EQ(SpectralNorm(torch::zeros({4, 4}), 5).sigma, 0.0);
}

TEST(OperatorNorm, CyclicConvolutionAsFunctions) {
  // 1-D cyclic convolution with kernel (1, 1): eigenvalues 1 + exp(-2 pi i k / n), max 2.
  const int64_t n = 16;
  auto conv = [](const torch::Tensor& x) { return x + torch::roll(x, 1); };
  auto conv_t = [](const torch::Tensor& y) { return y + torch::roll(y, -1); };
  torch::manual_seed(2);
  PowerIteration p = OperatorNorm(conv, conv_t, torch::randn({n}, torch::kFloat64), 200);
  EXPECT_NEAR(p.sigma, 2.0, 1e-6);  // spectral gap 2 - 2cos(pi/16) is small
}

}  // namespace
}  // namespace common::linalg
