#include "common/linalg/projections.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace common::linalg {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

class ProjectionsTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

// Independent oracle: theta by 200 bisection steps on f(t) = sum max(|a| - t, 0) - r.
torch::Tensor BisectionL1Projection(const torch::Tensor& row, double r) {
  if (row.abs().sum().item<double>() <= r) return row.clone();
  double lo = 0, hi = row.abs().max().item<double>();
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    ((row.abs() - mid).clamp_min(0).sum().item<double>() > r ? lo : hi) = mid;
  }
  return row.sign() * (row.abs() - 0.5 * (lo + hi)).clamp_min(0);
}

TEST_F(ProjectionsTest, L1RowsMatchBisectionAndSatisfyKkt) {
  torch::Tensor a = torch::randn({50, 37}, torch::kFloat64) * 0.2;
  const double r = 0.95;
  torch::Tensor p = ProjectRowsOntoL1Ball(a, r);
  torch::Tensor theta = L1BallThresholds(a, r);
  for (int64_t i = 0; i < a.size(0); ++i) {
    ASSERT_TRUE(torch::allclose(p[i], BisectionL1Projection(a[i], r), 1e-10, 1e-12)) << i;
    if (a[i].abs().sum().item<double>() > r) {
      EXPECT_NEAR(p[i].abs().sum().item<double>(), r, 1e-12);
      // KKT: kept entries moved by exactly theta towards 0, dropped entries were <= theta.
      torch::Tensor kept = p[i] != 0;
      EXPECT_TRUE(torch::allclose((a[i].abs() - p[i].abs()).masked_select(kept),
                                  theta[i].expand({kept.sum().item<int64_t>()})));
      EXPECT_LE(a[i].abs().masked_select(~kept).max().item<double>(),
                theta[i].item<double>() + 1e-15);
    } else {
      EXPECT_TRUE(torch::equal(p[i], a[i]));
    }
  }
}

TEST_F(ProjectionsTest, L1RowsEdgeCases) {
  torch::Tensor a =
      torch::tensor({{0.0, 0.0, 0.0}, {0.1, -0.2, 0.3}, {3.0, -1.0, 0.5}}, torch::kFloat64);
  torch::Tensor p = ProjectRowsOntoL1Ball(a, 1.0);
  EXPECT_TRUE(torch::equal(p[0], a[0]));  // zero row
  EXPECT_TRUE(torch::equal(p[1], a[1]));  // inside
  // Row 3: only the largest entry survives: (3 - 2, 0, 0).
  EXPECT_TRUE(torch::allclose(p[2], torch::tensor({1.0, 0.0, 0.0}, torch::kFloat64)));
  EXPECT_TRUE(torch::equal(ProjectRowsOntoL1Ball(a, 0.0), torch::zeros_like(a)));
  EXPECT_TRUE(torch::equal(ProjectRowsOntoL1Ball(a, kInf), a));
  // Ties: (2, 2) onto radius 1 -> (0.5, 0.5).
  EXPECT_TRUE(torch::allclose(ProjectRowsOntoL1Ball(torch::tensor({{2.0, -2.0}}), 1.0),
                              torch::tensor({{0.5, -0.5}})));
  EXPECT_THROW(ProjectRowsOntoL1Ball(a, -1.0), c10::Error);
}

TEST_F(ProjectionsTest, L1ProjectionIsClosestPointAmongRandomFeasiblePoints) {
  torch::Tensor a = torch::randn({1, 8}, torch::kFloat64);
  torch::Tensor p = ProjectRowsOntoL1Ball(a, 0.5);
  const double best = (a - p).norm().item<double>();
  for (int i = 0; i < 2000; ++i) {
    torch::Tensor q = torch::randn({1, 8}, torch::kFloat64);
    q = q * (0.5 * torch::rand({1}, torch::kFloat64) / q.abs().sum());
    EXPECT_GE((a - q).norm().item<double>(), best - 1e-12);
  }
}

// Oracle: lambda by bisection on sum_g max(n_g - lambda, 0) = r, then group shrinkage.
torch::Tensor BisectionGroupProjection(const torch::Tensor& x, const torch::Tensor& x0, double r) {
  torch::Tensor d = x - x0;
  torch::Tensor n = d.norm(2, 1, true);
  if (n.sum().item<double>() <= r) return x.clone();
  double lo = 0, hi = n.max().item<double>();
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    ((n - mid).clamp_min(0).sum().item<double>() > r ? lo : hi) = mid;
  }
  const double lambda = 0.5 * (lo + hi);
  return x0 + d * (1 - lambda / n).clamp_min(0);
}

TEST_F(ProjectionsTest, GroupNormBallMatchesBisectionOnConvShape) {
  torch::Tensor k0 = torch::randn({6, 4, 3, 3}, torch::kFloat64);
  torch::Tensor k = k0 + torch::randn({6, 4, 3, 3}, torch::kFloat64);
  const double r = 5.0;
  torch::Tensor p = ProjectOntoGroupNormBall(k, k0, r);
  EXPECT_NEAR(GroupNormDistance(p, k0).item<double>(), r, 1e-10);
  torch::Tensor oracle = BisectionGroupProjection(k, k0, r);
  EXPECT_TRUE(torch::allclose(p, oracle, 1e-9, 1e-12));
}

TEST_F(ProjectionsTest, GroupNormBallEdgeCases) {
  torch::Tensor w0 = torch::randn({5, 7}, torch::kFloat64);
  torch::Tensor w = w0.clone();
  w[1] += 3.0;  // one moved row, the other groups are zero
  const double d = GroupNormDistance(w, w0).item<double>();
  EXPECT_NEAR(d, 3.0 * std::sqrt(7.0), 1e-12);
  torch::Tensor half = ProjectOntoGroupNormBall(w, w0, d / 2);
  EXPECT_TRUE(torch::allclose(half, w0 + (w - w0) / 2));
  EXPECT_FALSE(torch::any(torch::isnan(half)).item<bool>());
  EXPECT_TRUE(torch::equal(ProjectOntoGroupNormBall(w, w0, 2 * d), w));    // inside
  EXPECT_TRUE(torch::equal(ProjectOntoGroupNormBall(w, w0, kInf), w));     // no constraint
  EXPECT_TRUE(torch::allclose(ProjectOntoGroupNormBall(w, w0, 0.0), w0));  // radius 0
  EXPECT_TRUE(torch::equal(ProjectOntoGroupNormBall(w0, w0, 1.0), w0));    // at the anchor
}

}  // namespace
}  // namespace common::linalg
