#include "icnn/level_set_paths.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace icnn {
namespace {

// f(x) = 1/2 x^T A x + b^T x with A positive definite: minimum -A^{-1} b.
struct Quadratic {
  torch::Tensor a = torch::tensor({{2.0, 0.5}, {0.5, 1.0}}, torch::kDouble);
  torch::Tensor b = torch::tensor({-1.0, 0.5}, torch::kDouble);
  torch::Tensor operator()(const torch::Tensor& x) const { return 0.5 * x.dot(a.mv(x)) + b.dot(x); }
};

TEST(LevelSets, MinimumOfAQuadratic) {
  const Quadratic q;
  const torch::Tensor x = FindMinimum(q, torch::tensor({3.0, -2.0}, torch::kDouble), 2000, 0.3);
  const torch::Tensor expected = -torch::linalg_solve(q.a, q.b);
  EXPECT_TRUE(torch::allclose(x, expected, 1e-8, 1e-8)) << x;
}

TEST(LevelSets, InterpolationAndTrackingStayOnTheLevel) {
  const Quadratic q;
  const torch::Tensor x0 = torch::tensor({2.0, 1.0}, torch::kDouble),
                      x1 = torch::tensor({-1.0, -2.0}, torch::kDouble);
  const torch::Tensor x_min = -torch::linalg_solve(q.a, q.b);
  const double level = q(x0).item<double>();
  const auto path = InterpolateAlongLevelSet(q, x0, x1, x_min, 10);
  ASSERT_EQ(path.size(), 10u);
  for (const torch::Tensor& x : path) EXPECT_NEAR(q(x).item<double>(), level, 1e-9);
  const auto track = TrackLevelSet(q, x0, x1, x_min, 10);
  ASSERT_EQ(track.size(), 10u);
  for (const torch::Tensor& x : track) EXPECT_NEAR(q(x).item<double>(), level, 1e-9);
  // Tracking moves towards x1 along the level curve.
  EXPECT_LT((track.back() - x1).norm().item<double>(), (x0 - x1).norm().item<double>());
}

TEST(LevelSets, AReturnNeedsATargetBelowTheLevel) {
  const Quadratic q;
  const torch::Tensor x = torch::tensor({1.0, 1.0}, torch::kDouble);
  // The target is above the level: nothing to find, x comes back unchanged.
  EXPECT_TRUE(
      torch::equal(ReturnToLevel(q, x, torch::tensor({5.0, 5.0}, torch::kDouble), -100.0), x));
}

}  // namespace
}  // namespace icnn
