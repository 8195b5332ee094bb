#include "weightnorm_init/wn_relu_stack.h"

#include <torch/torch.h>

#include "common/testing/conformance.h"
#include "gtest/gtest.h"
#include "weightnorm_init/weight_norm.h"

namespace weightnorm_init {
namespace {

std::vector<torch::Tensor> Params(const std::vector<int64_t>& widths) {
  std::vector<torch::Tensor> p;
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    p.push_back(torch::randn({widths[l + 1], widths[l]}, torch::kDouble).requires_grad_());
    p.push_back(torch::rand({widths[l + 1], 1}, torch::kDouble).add_(0.5).requires_grad_());
    p.push_back((0.1 * torch::randn({widths[l + 1]}, torch::kDouble)).requires_grad_());
  }
  return p;
}

TEST(WnReluStack, MatchesStackedLayersValuesAndGradients) {
  torch::manual_seed(0);
  const std::vector<torch::Tensor> p = Params({7, 6, 5, 4});
  const torch::Tensor x = torch::randn({9, 7}, torch::kDouble).requires_grad_();
  const torch::Tensor r = torch::randn({9, 4}, torch::kDouble);
  const torch::Tensor fused = WnReluStack(x, p);
  torch::Tensor h = x;  // the composite oracle
  for (size_t l = 0; l < p.size(); l += 3)
    h = torch::relu(torch::addmm(p[l + 2], h, WeightNormWeight(p[l], p[l + 1]).t()));
  ASSERT_TRUE(torch::allclose(fused, h, 1e-12, 1e-12));
  std::vector<torch::Tensor> inputs = p;
  inputs.push_back(x);
  const auto a = torch::autograd::grad({(fused * r).sum()}, inputs);
  const auto b = torch::autograd::grad({(h * r).sum()}, inputs);
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-10, 1e-12)) << "input " << i;
}

TEST(WnReluStack, GradientsMatchFiniteDifferences) {
  torch::manual_seed(1);
  std::vector<torch::Tensor> inputs = Params({4, 3, 3});
  inputs.push_back(torch::randn({5, 4}, torch::kDouble).requires_grad_());
  auto f = [](const common::testing::TensorList& in) {
    return WnReluStack(in.back(), std::vector<torch::Tensor>(in.begin(), in.end() - 1));
  };
  const auto check = common::testing::CheckGradients(f, inputs);
  EXPECT_GT(check.max_abs_grad, 0.1);
  EXPECT_LT(check.max_abs_error, 1e-7);
}

TEST(WnReluStack, InputWithoutGradGetsNone) {
  torch::manual_seed(2);
  const std::vector<torch::Tensor> p = Params({3, 2});
  const torch::Tensor x = torch::randn({4, 3}, torch::kDouble);
  WnReluStack(x, p).sum().backward();
  EXPECT_TRUE(p[0].grad().defined());
  EXPECT_FALSE(x.grad().defined());
}

}  // namespace
}  // namespace weightnorm_init
