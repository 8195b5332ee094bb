#include "excess_capacity/cyclic_conv.h"

#include <torch/torch.h>

#include "excess_capacity/dykstra.h"
#include "gtest/gtest.h"

namespace excess_capacity {
namespace {

// The cyclic conv as an explicit matrix [cout*H*W, cin*H*W], column by column.
torch::Tensor DenseOperator(const torch::Tensor& w, int64_t h, int64_t wd) {
  const int64_t cin = w.size(1), n = cin * h * wd;
  const torch::Tensor basis = torch::eye(n, w.options()).view({n, cin, h, wd});
  return CyclicConv2d(basis, w).reshape({n, -1}).t();
}

class CyclicConvTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

TEST_P(CyclicConvTest, AdjointIsExact) {
  const int64_t k = GetParam();
  const torch::Tensor w = torch::randn({4, 3, k, k}, torch::kFloat64);
  const torch::Tensor x = torch::randn({2, 3, 6, 5}, torch::kFloat64);
  const torch::Tensor y = torch::randn({2, 4, 6, 5}, torch::kFloat64);
  const double lhs = (CyclicConv2d(x, w) * y).sum().item<double>();
  const double rhs = (x * CyclicConv2dAdjoint(y, w)).sum().item<double>();
  EXPECT_NEAR(lhs, rhs, 1e-10 * std::abs(lhs));
  EXPECT_EQ(CyclicConv2d(x, w).sizes(), y.sizes());
}

TEST_P(CyclicConvTest, FftNormAndClipMatchTheDenseOperator) {
  const int64_t k = GetParam();
  // A generic grid, and the grids of side <= 2 whose DFT bins are all real (a separate path).
  for (auto [h, wd] : {std::pair<int64_t, int64_t>{5, 4}, {2, 2}, {1, 1}}) {
    if (k > h || k > wd) continue;
    const torch::Tensor w = torch::randn({2, 3, k, k}, torch::kFloat64);
    const torch::Tensor m = DenseOperator(w, h, wd);
    const double dense_norm = torch::linalg_svdvals(m).max().item<double>();
    EXPECT_NEAR(CyclicConvSpectralNorm(w, h, wd), dense_norm, 1e-9 * dense_norm);
    // Clipping the spectrum of the embedded kernel = SVD-clipping its dense operator (which is the
    // k x k kernel's operator times a cyclic shift, a unitary factor: same singular values).
    const double bound = 0.5 * dense_norm;
    const torch::Tensor embedded = EmbedKernel(w, h, wd);
    const torch::Tensor m_embedded = DenseOperator(embedded, h, wd);
    EXPECT_TRUE(torch::allclose(torch::linalg_svdvals(m_embedded), torch::linalg_svdvals(m)));
    const torch::Tensor clipped = ClipCyclicConvSpectrum(embedded, bound);
    EXPECT_TRUE(torch::allclose(DenseOperator(clipped, h, wd),
                                ClipMatrixSpectrum(m_embedded, bound), 1e-9, 1e-10))
        << h << "x" << wd;
    EXPECT_NEAR(CyclicConvSpectralNorm(clipped, h, wd), bound, 1e-9);
    // Certified inside (every frequency below the bound): returned as it is, bit for bit.
    EXPECT_TRUE(torch::equal(ClipCyclicConvSpectrum(embedded, 1.001 * dense_norm), embedded));
    // Just below the norm: only the top singular value moves.
    const torch::Tensor barely = ClipCyclicConvSpectrum(embedded, 0.999 * dense_norm);
    EXPECT_NEAR(CyclicConvSpectralNorm(barely, h, wd), 0.999 * dense_norm, 1e-9);
  }
}

INSTANTIATE_TEST_SUITE_P(OddAndEvenKernels, CyclicConvTest, ::testing::Values(1, 2, 3));

TEST(CyclicConv, StrideAndPaddingGeometry) {
  const torch::Tensor x = torch::arange(16, torch::kFloat64).view({1, 1, 4, 4});
  torch::Tensor shift = torch::zeros({1, 1, 3, 3}, torch::kFloat64);
  shift[0][0][1][2] = 1;  // reads the right neighbour, wrapping around
  EXPECT_TRUE(torch::equal(CyclicConv2d(x, shift), torch::roll(x, -1, 3)));
  EXPECT_EQ(CyclicConv2d(torch::zeros({1, 1, 5, 5}), torch::zeros({2, 1, 3, 3}), 2).sizes(),
            torch::IntArrayRef({1, 2, 3, 3}));
}

TEST(Dykstra, ConvergesToTheProjectionOntoTheIntersection) {
  // Unit disk and half-plane x + y >= 1.2; project (2, -1). Brute force on a fine grid.
  const Projector disk = [](const torch::Tensor& p) {
    return p / std::max(1.0, p.norm().item<double>());
  };
  const Projector half = [](const torch::Tensor& p) {
    const double gap = 1.2 - p.sum().item<double>();
    return gap > 0 ? p + gap / 2 : p;
  };
  const torch::Tensor x = torch::tensor({2.0, -1.0}, torch::kFloat64);
  const torch::Tensor d = Dykstra({disk, half}, x, 500);
  const torch::Tensor g = torch::linspace(-1, 1, 2001, torch::kFloat64);
  const auto grid = torch::meshgrid({g, g}, "ij");
  const torch::Tensor inside =
      (grid[0].square() + grid[1].square() <= 1) & (grid[0] + grid[1] >= 1.2);
  const torch::Tensor dist =
      ((grid[0] - 2).square() + (grid[1] + 1).square()).masked_fill(~inside, 1e9);
  const int64_t best = dist.argmin().item<int64_t>();
  const torch::Tensor brute = torch::stack({grid[0].flatten()[best], grid[1].flatten()[best]});
  EXPECT_LT((d - brute).norm().item<double>(), 2e-3);
  // One sweep is just the sequence of projections.
  EXPECT_TRUE(torch::allclose(Dykstra({disk, half}, x, 1), half(disk(x))));
}

}  // namespace
}  // namespace excess_capacity
