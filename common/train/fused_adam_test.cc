#include "common/train/fused_adam.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace common::train {
namespace {

TEST(FusedAdam, MatchesLibTorchAdamOverSteps) {
  torch::manual_seed(0);
  torch::Tensor a = torch::randn({300, 70}).requires_grad_(),
                b = a.detach().clone().requires_grad_();
  const auto options = torch::optim::AdamOptions(1e-2).weight_decay(1e-3);
  torch::optim::Adam reference({a}, options);
  FusedAdam fused({b}, options);
  for (int step = 0; step < 20; ++step) {
    const torch::Tensor target = torch::randn({300, 70});
    reference.zero_grad();
    fused.zero_grad();
    (a - target).square().sum().backward();
    (b - target).square().sum().backward();
    reference.step();
    fused.step();
  }
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-6)) << (a - b).abs().max().item<double>();
  EXPECT_FALSE(torch::equal(a, torch::zeros_like(a)));
}

}  // namespace
}  // namespace common::train
