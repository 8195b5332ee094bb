#include "weightnorm_init/weight_norm.h"

#include <torch/torch.h>

#include "common/testing/conformance.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace weightnorm_init {
namespace {

class WnLayerTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

TEST_F(WnLayerTest, FreshLayerEqualsPlainLayerWithTheSameWeight) {
  WnLayer conv(WnLayerOptions(3, 5, 3).stride(2).padding(1));
  const torch::Tensor x = torch::randn({2, 3, 8, 8});
  const torch::Tensor plain = torch::conv2d(x, conv->weight_v, conv->bias, 2, 1);
  EXPECT_TRUE(torch::allclose(conv(x), plain, 1e-5, 1e-6));
  WnLayer linear(WnLayerOptions(7, 4));
  const torch::Tensor y = torch::randn({3, 7});
  EXPECT_TRUE(
      torch::allclose(linear(y), y.matmul(linear->weight_v.t()) + linear->bias, 1e-5, 1e-6));
}

TEST_F(WnLayerTest, EffectiveRowsHaveNormG) {
  WnLayer conv(WnLayerOptions(4, 6, 3));
  torch::NoGradGuard no_grad;
  conv->weight_g.copy_(torch::arange(1, 7, torch::kFloat).view({6, 1, 1, 1}));
  conv->weight_v.mul_(torch::rand({6, 1, 1, 1}) * 10);  // the scale of v must not matter
  const torch::Tensor norms = conv->EffectiveWeight().flatten(1).norm(2, 1);
  EXPECT_TRUE(torch::allclose(norms, torch::arange(1, 7, torch::kFloat), 1e-5, 1e-5)) << norms;
}

TEST_F(WnLayerTest, ParameterNamesAndShapesFollowPyTorch) {
  WnLayer wn(WnLayerOptions(4, 6, 3));
  auto p = wn->named_parameters();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p["weight_v"].sizes(), (std::vector<int64_t>{6, 4, 3, 3}));
  EXPECT_EQ(p["weight_g"].sizes(), (std::vector<int64_t>{6, 1, 1, 1}));
  EXPECT_EQ(p["bias"].sizes(), (std::vector<int64_t>{6}));
  WnLayer plain(WnLayerOptions(4, 6).weight_norm(false));
  EXPECT_THAT(plain->named_parameters().keys(), ::testing::ElementsAre("weight", "bias"));
  EXPECT_EQ(wn->fan_in(), 36);
  EXPECT_EQ(wn->fan_out(), 54);
  EXPECT_EQ(plain->fan_in(), 4);
}

TEST_F(WnLayerTest, GradientsThroughTheNormalisationMatchFiniteDifferences) {
  const torch::Tensor v = torch::randn({3, 2, 3, 3}, torch::kDouble).requires_grad_();
  const torch::Tensor g = torch::rand({3, 1, 1, 1}, torch::kDouble).add_(0.5).requires_grad_();
  const torch::Tensor x = torch::randn({2, 2, 5, 5}, torch::kDouble).requires_grad_();
  auto f = [](const common::testing::TensorList& in) {
    return torch::conv2d(in[2], WeightNormWeight(in[0], in[1]), {}, 1, 1);
  };
  const auto check = common::testing::CheckGradients(f, {v, g, x});
  EXPECT_GT(check.max_abs_grad, 0.1);
  EXPECT_LT(check.max_abs_error, 1e-7 * std::max(1.0, check.max_abs_grad));
}

}  // namespace
}  // namespace weightnorm_init
