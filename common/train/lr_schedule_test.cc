#include "common/train/lr_schedule.h"

#include <torch/torch.h>

#include <cmath>

#include "gtest/gtest.h"

namespace common::train {
namespace {

TEST(LrSchedule, MultiStepCountsPassedMilestones) {
  // Wide-ResNet schedule: x0.2 at 60, 120, 160.
  EXPECT_DOUBLE_EQ(MultiStepLr(0.1, {60, 120, 160}, 0.2, 59), 0.1);
  EXPECT_DOUBLE_EQ(MultiStepLr(0.1, {60, 120, 160}, 0.2, 60), 0.1 * 0.2);
  EXPECT_NEAR(MultiStepLr(0.1, {60, 120, 160}, 0.2, 199), 0.1 * 0.008, 1e-15);
}

TEST(LrSchedule, Cosine) {
  EXPECT_DOUBLE_EQ(CosineLr(1.0, 0.0, 10, 0), 1.0);
  EXPECT_NEAR(CosineLr(1.0, 0.0, 10, 5), 0.5, 1e-15);
  EXPECT_NEAR(CosineLr(1.0, 0.1, 10, 2.5), 0.1 + 0.9 * (1 + std::cos(M_PI / 4)) / 2, 1e-15);
  EXPECT_DOUBLE_EQ(CosineLr(1.0, 0.1, 10, 12), 0.1);
}

TEST(LrSchedule, QuadraticWarmupMatchesSpecFormula) {
  // warmup_lr = 0 -> offset 1: first step of 2 warmup epochs of 4 iterations: alpha = 1/8.
  EXPECT_DOUBLE_EQ(QuadraticWarmupLr(0.0, 0.1, 2, 0, 0, 4), 0.1 / 64);
  // epoch 1, iter 1: alpha = (1 + 2/4) / 2 = 0.75.
  EXPECT_DOUBLE_EQ(QuadraticWarmupLr(0.0, 0.1, 2, 1, 1, 4), 0.1 * 0.5625);
  // warmup_lr != 0 -> offset 0: alpha = 0 at the first step.
  EXPECT_DOUBLE_EQ(QuadraticWarmupLr(0.01, 0.1, 2, 0, 0, 4), 0.01);
  // Fractional warmup: alpha is capped at 1 (the reference overshoots here).
  EXPECT_DOUBLE_EQ(QuadraticWarmupLr(0.0, 0.1, 1.5, 1, 3, 4), 0.1);
}

TEST(LrSchedule, SetLearningRateReachesEveryGroup) {
  torch::Tensor a = torch::zeros({1}, torch::requires_grad());
  torch::Tensor b = torch::zeros({1}, torch::requires_grad());
  torch::optim::SGD sgd({a}, torch::optim::SGDOptions(0.5));
  sgd.add_param_group(torch::optim::OptimizerParamGroup({b}));
  SetLearningRate(sgd, 0.25);
  for (auto& g : sgd.param_groups()) EXPECT_DOUBLE_EQ(g.options().get_lr(), 0.25);
}

}  // namespace
}  // namespace common::train
