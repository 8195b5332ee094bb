#include "excess_capacity/models.h"

#include <torch/torch.h>

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace excess_capacity {
namespace {

using ::testing::HasSubstr;

// Kernel size of every conv layer after Init (the 1x1 / 2x2 rewrites), by module name.
std::map<std::string, int64_t> KernelSizes(ConstrainedNetwork& net) {
  std::map<std::string, int64_t> out;
  for (const auto& item : net.named_children()) {
    if (auto conv = std::dynamic_pointer_cast<ConstrainedConv2dImpl>(item.value())) {
      out[item.key()] = conv->kernel_size;
    }
  }
  return out;
}

TEST(ParseConstraints, ArityMinusOneAndSimplexSelector) {
  NetworkConstraints c =
      ParseConstraints({2.0, 1.0, -1, 1.0}, {90, 90, 90, 0}, ProjMode::kOrthogonal).value();
  EXPECT_TRUE(std::isinf(c.lip[2]));
  EXPECT_TRUE(c.simplex());
  EXPECT_THAT(
      std::string(
          ParseConstraints({1, 1, 1}, {1, 1, 1, 1}, ProjMode::kOrthogonal).status().message()),
      HasSubstr("take 4 values each"));
  EXPECT_THAT(
      std::string(
          ParseConstraints({1, 1, 1, 1}, {0, 1, 1, 1}, ProjMode::kOrthogonal).status().message()),
      HasSubstr("0 only as the last value"));
}

TEST(SimpleConvnet, InitMeetsConstraintsAndTheLipschitzBoundHolds) {
  torch::manual_seed(0);
  NetworkConstraints c =
      ParseConstraints({2.0, 1.0, 1.0, 1.0}, {90, 90, 90, 0}, ProjMode::kOrthogonal).value();
  auto net = MakeSimpleConvnet(1, 10, 1, 16, c);
  net->Init(1, 32, 32);
  EXPECT_TRUE(net->Violations(1e-6).empty());
  const torch::Tensor x = torch::randn({4, 1, 32, 32}), y = x + 0.1 * torch::randn_like(x);
  torch::NoGradGuard no_grad;
  EXPECT_EQ(net->forward(x).sizes(), torch::IntArrayRef({4, 10}));
  // ||f(x) - f(y)|| <= prod(lip) ||x - y||, per sample.
  double bound = 1.0;
  for (const auto& [name, lip] : net->LayerExactLips()) bound *= lip;
  bound *= 1.0;  // the simplex classifier, scaled to min(lip[3] = 1, sqrt(10/9))
  const torch::Tensor gap = (net->forward(x) - net->forward(y)).norm(2, 1);
  const torch::Tensor in = (x - y).flatten(1).norm(2, 1);
  EXPECT_TRUE((gap <= bound * in * (1 + 1e-5)).all().item<bool>());
  EXPECT_NEAR(net->LipCond(), 2.0, 1e-9);
  EXPECT_EQ(net->LayerLips().size(), 5u);
}

TEST(NoStridePreActResNet18, SpatialRewritesAndTheReferenceLipschitzExample) {
  torch::manual_seed(1);
  // The spec's example: --lip 2.0 0.8 1.4 1.0 gives 2 * 1.64^5 * (sqrt(2) + 0.64)^3 ~ 205.7.
  NetworkConstraints c =
      ParseConstraints({2.0, 0.8, 1.4, 1.0}, {90, 90, 90, -1}, ProjMode::kOrthogonal).value();
  auto net = MakeNoStridePreActResNet18(10, 3, c, /*batch_norm=*/false);
  EXPECT_NEAR(net->LipCond(), 2 * std::pow(1.64, 5) * std::pow(std::sqrt(2.0) + 0.64, 3), 1e-9);
  EXPECT_NEAR(net->LipCond(), 205.7, 0.1);
  net->Init(3, 32, 32);
  const std::map<std::string, int64_t> kernel = KernelSizes(*net);
  EXPECT_EQ(kernel.at("conv1"), 7);
  EXPECT_EQ(kernel.at("conv211"), 3);  // at 8x8
  EXPECT_EQ(kernel.at("conv312"), 2);  // at 2x2: cropped
  EXPECT_EQ(kernel.at("conv411"), 2);
  EXPECT_EQ(kernel.at("conv412"), 1);  // at 1x1: summed
  torch::NoGradGuard no_grad;
  EXPECT_EQ(net->forward(torch::randn({2, 3, 32, 32})).sizes(), torch::IntArrayRef({2, 10}));
  EXPECT_TRUE(net->Violations(1e-6).empty());
  // The exact network bound follows the residual rule and respects the constraint value.
  EXPECT_LE(net->LipExact(), net->LipCond() * (1 + 1e-5));
  EXPECT_GT(net->LipExact(), 1.0);
}

// capacity_bench's network: its Init died of SIGSEGV in 3 of 3 runs inside OpenBLAS 0.3.21's
// complex gemv (cgesdd via linalg_svdvals). No complex LAPACK is called any more; several seeds
// at the benchmark's shapes, each ending within the constraints.
TEST(NoStridePreActResNet18, InitAtTheBenchmarkShapesStaysWithinTheConstraints) {
  NetworkConstraints c =
      ParseConstraints({2.0, 0.8, 1.4, 1.0}, {90, 90, 90, -1}, ProjMode::kOrthogonal).value();
  for (int seed = 0; seed < 3; ++seed) {
    torch::manual_seed(seed);
    auto net = MakeNoStridePreActResNet18(10, 3, c, /*batch_norm=*/false);
    net->Init(3, 32, 32);
    EXPECT_TRUE(net->Violations(1e-6).empty()) << "seed " << seed;
    EXPECT_LE(net->LipExact(), net->LipCond() * (1 + 1e-5)) << "seed " << seed;
  }
}

TEST(NoStridePreActResNet18, TinyImageNetGeometry) {
  // 64x64: stem at 64, two pools to 16, stages at 16, 8, 4, 2; only layer4 sees 2x2 (cropped).
  torch::manual_seed(2);
  auto net = MakeNoStridePreActResNet18(200, 3, NetworkConstraints(), false);
  net->Init(3, 64, 64);
  const std::map<std::string, int64_t> kernel = KernelSizes(*net);
  EXPECT_EQ(kernel.at("conv312"), 3);
  EXPECT_EQ(kernel.at("conv412"), 2);
  torch::NoGradGuard no_grad;
  EXPECT_EQ(net->forward(torch::randn({1, 3, 64, 64})).sizes(), torch::IntArrayRef({1, 200}));
}

}  // namespace
}  // namespace excess_capacity
