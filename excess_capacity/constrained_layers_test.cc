#include "excess_capacity/constrained_layers.h"

#include <torch/torch.h>

#include "common/data/synthetic.h"
#include "common/linalg/projections.h"
#include "common/train/checkpoint.h"
#include "excess_capacity/cyclic_conv.h"
#include "excess_capacity/dykstra.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace excess_capacity {
namespace {

using ::testing::HasSubstr;

// The reference's test: maximise ||f(x)|| / ||x|| over x with Adam.
template <typename Layer>
double EmpiricalLipschitz(Layer& layer, std::vector<int64_t> shape, double lr, int steps) {
  torch::Tensor x = torch::randn(shape).requires_grad_();
  torch::optim::Adam opt({x}, lr);
  double ratio = 0;
  for (int i = 0; i < steps; ++i) {
    torch::Tensor r = layer->forward(x).norm() / x.norm();
    opt.zero_grad();
    (-r).backward();
    opt.step();
    ratio = r.item<double>();
  }
  return ratio;
}

ConstraintOptions Lip(double lip) { return ConstraintOptions().lip_cond(lip); }

TEST(ConstrainedLinear, InitRescalesToLipCondEmpirically) {
  torch::manual_seed(0);
  ConstrainedLinear layer(128, 64, Lip(0.3));
  layer->Init();
  EXPECT_NEAR(EmpiricalLipschitz(layer, {1, 128}, 0.5, 1000), 0.3, 0.005);
  EXPECT_TRUE(torch::equal(layer->init_weight, layer->weight.detach()));
  EXPECT_EQ(layer->Dist(), 0.0);
}

TEST(ConstrainedConv2d, InitRescalesToLipCondEmpirically) {
  torch::manual_seed(0);
  ConstrainedConv2d layer(8, 16, 3, 1, Lip(0.3));
  layer->Init(12, 12);
  EXPECT_NEAR(layer->LipExact(), 0.3, 0.005);
  EXPECT_NEAR(EmpiricalLipschitz(layer, {1, 8, 12, 12}, 0.05, 600), 0.3, 0.005);
}

TEST(ConstrainedConv2d, PowerIterationAgreesWithFftNorm) {
  torch::manual_seed(1);
  ConstrainedConv2d layer(6, 10, 3, 1, ConstraintOptions());
  layer->Init(8, 8);
  const double exact = layer->LipExact();
  double lip = layer->Lip();
  for (int i = 0; i < 40; ++i) lip = layer->Lip();  // warm-started 5-iteration calls
  EXPECT_NEAR(lip, exact, 1e-3 * exact);
  EXPECT_LE(lip, exact * (1 + 1e-6));
}

TEST(ConstrainedConv2d, ProjectMeetsBothConstraintsOnPerturbedWeights) {
  torch::manual_seed(2);
  for (ProjMode mode : {ProjMode::kOrthogonal, ProjMode::kRadial}) {
    ConstrainedConv2d layer(8, 8, 3, 1,
                            ConstraintOptions().lip_cond(0.8).dist_cond(2.0).proj_mode(mode));
    layer->Init(8, 8);
    {
      torch::NoGradGuard no_grad;
      layer->weight.add_(0.5 * torch::randn_like(layer->weight));
    }
    ASSERT_GT(layer->LipExact(), 0.8);
    ASSERT_GT(layer->Dist(), 2.0);
    layer->Project(15, /*exact=*/true);
    EXPECT_LE(layer->LipExact(), 0.8 * (1 + 1e-3)) << static_cast<int>(mode);
    EXPECT_LE(layer->Dist(), 2.0 * (1 + 1e-4)) << static_cast<int>(mode);
  }
}

TEST(ConstrainedConv2d, DykstraSweepsApproachTheIntersectionExactStepReachesIt) {
  torch::manual_seed(7);
  ConstrainedConv2d layer(8, 8, 3, 1, ConstraintOptions().lip_cond(0.8).dist_cond(2.0));
  layer->Init(8, 8);
  {
    torch::NoGradGuard no_grad;
    layer->weight.add_(0.5 * torch::randn_like(layer->weight));
  }
  const torch::Tensor start = layer->weight.detach().clone();
  auto violation = [&] { return std::max(layer->LipExact() / 0.8, layer->Dist() / 2.0) - 1; };
  layer->Project(1);
  const double one = violation();
  {
    torch::NoGradGuard no_grad;
    layer->weight.copy_(start);
  }
  layer->Project(200);
  EXPECT_LT(violation(), 0.5 * one);  // more sweeps, closer to the intersection
  EXPECT_GT(one, 1e-3);
  layer->Project(1, /*exact=*/true);
  EXPECT_LE(violation(), 1e-5);
}

// Project(n) works on the kernel window in its distance step; the textbook Dykstra over the
// embedded tensors (distance ball of the embedded anchor, spectral clip, kernel support) must give
// the same point.
TEST(ConstrainedConv2d, ProjectEqualsDykstraOnTheEmbeddedKernel) {
  torch::manual_seed(11);
  ConstrainedConv2d layer(6, 5, 3, 1, ConstraintOptions().lip_cond(0.8).dist_cond(1.5));
  layer->Init(6, 7);
  {
    torch::NoGradGuard no_grad;
    layer->weight.add_(0.4 * torch::randn_like(layer->weight));
  }
  const torch::Tensor start = layer->weight.detach().clone();
  const torch::Tensor anchor = EmbedKernel(layer->init_weight, 6, 7);
  const std::vector<Projector> sets = {
      [&](const torch::Tensor& e) {
        return common::linalg::ProjectOntoGroupNormBall(e, anchor, 1.5, 1);
      },
      [](const torch::Tensor& e) { return ClipCyclicConvSpectrum(e, 0.8); },
      [](const torch::Tensor& e) {
        torch::Tensor out = torch::zeros_like(e);
        out.narrow(2, 0, 3).narrow(3, 0, 3).copy_(e.narrow(2, 0, 3).narrow(3, 0, 3));
        return out;
      }};
  for (int sweeps : {1, 4}) {
    const torch::Tensor want =
        Dykstra(sets, EmbedKernel(start, 6, 7), sweeps).narrow(2, 0, 3).narrow(3, 0, 3);
    {
      torch::NoGradGuard no_grad;
      layer->weight.copy_(start);
    }
    layer->Project(sweeps);
    EXPECT_TRUE(torch::allclose(layer->weight.detach(), want, 1e-5, 1e-6)) << sweeps << " sweeps";
    EXPECT_FALSE(torch::allclose(layer->weight.detach(), start))
        << "the test must move the weights";
  }
}

TEST(ConstrainedLinear, ProjectMeetsBothConstraints) {
  torch::manual_seed(3);
  ConstrainedLinear layer(20, 10, ConstraintOptions().lip_cond(0.5).dist_cond(1.0));
  layer->Init();
  {
    torch::NoGradGuard no_grad;
    layer->weight.add_(torch::randn_like(layer->weight));
  }
  layer->Project(15, /*exact=*/true);
  EXPECT_LE(EmpiricalLipschitz(layer, {1, 20}, 0.5, 1000), 0.5 * (1 + 1e-3));
  EXPECT_LE(torch::linalg_svdvals(layer->weight.detach()).max().item<double>(), 0.5 * (1 + 1e-3));
  EXPECT_LE(layer->Dist(), 1.0 * (1 + 1e-4));
}

TEST(ConstrainedConv2d, KernelFillingTheGridIsClippedExactly) {
  // 1x1 kernel on a 1x1 input: the operator is the cin -> cout matrix; the orthogonal projection is
  // its SVD clip, not a rescale.
  torch::manual_seed(8);
  ConstrainedConv2d layer(6, 5, 3, 1, ConstraintOptions().lip_cond(0.5));
  layer->Init(1, 1);
  {
    torch::NoGradGuard no_grad;
    layer->weight.add_(torch::randn_like(layer->weight));
  }
  const torch::Tensor m = layer->weight.detach().view({5, 6});
  const torch::Tensor expected = ClipMatrixSpectrum(m, 0.5);
  layer->Project(1);
  EXPECT_TRUE(torch::allclose(layer->weight.detach().view({5, 6}), expected, 1e-5, 1e-6));
}

TEST(ConstrainedConv2d, SmallInputsRewriteTheKernel) {
  torch::manual_seed(4);
  ConstrainedConv2d one(4, 5, 3, 1, ConstraintOptions());
  const torch::Tensor x = torch::randn({2, 4, 1, 1});
  const torch::Tensor before = one->forward(x);
  one->Init(1, 1);
  EXPECT_EQ(one->weight.size(2), 1);
  EXPECT_TRUE(torch::allclose(one->forward(x), before, 1e-5, 1e-6));  // exact for 1x1 inputs
  ConstrainedConv2d two(4, 5, 3, 2, ConstraintOptions());
  EXPECT_EQ(two->Init(2, 2), (std::vector<int64_t>{1, 5, 1, 1}));
  EXPECT_EQ(two->weight.size(2), 2);
}

TEST(ConstrainedConv2d, CheckpointKeepsAnchorAndPowerState) {
  torch::manual_seed(5);
  ConstrainedConv2d a(4, 6, 3, 1, ConstraintOptions().lip_cond(1.0).dist_cond(0.5));
  a->Init(6, 6);
  a->Lip();
  {
    torch::NoGradGuard no_grad;
    a->weight.add_(0.3 * torch::randn_like(a->weight));
  }
  const std::string path = common::data::TestDir("ec_ckpt") + "/layer.pt";
  ASSERT_TRUE(common::train::SaveStateDict(path, *a).ok());
  torch::manual_seed(6);
  ConstrainedConv2d b(4, 6, 3, 1, ConstraintOptions().lip_cond(1.0).dist_cond(0.5));
  b->Init(6, 6);
  ASSERT_TRUE(common::train::LoadStateDict(path, *b).ok());
  EXPECT_TRUE(torch::equal(a->init_weight, b->init_weight));
  EXPECT_DOUBLE_EQ(a->Lip(), b->Lip());  // same warm start
  a->Project(3);
  b->Project(3);  // around the loaded anchor (the reference kept a stale copy)
  EXPECT_TRUE(torch::allclose(a->weight, b->weight));
}

TEST(SimplexClassifier, RegularSimplexGeometry) {
  const torch::Tensor p = SimplexPrototypes(10, 16).to(torch::kFloat64);
  EXPECT_TRUE(torch::allclose(p.norm(2, 1), torch::ones({10}, torch::kFloat64), 1e-6));
  const torch::Tensor gram = p.mm(p.t());
  const torch::Tensor off = gram.masked_select(~torch::eye(10, torch::kBool));
  EXPECT_NEAR(off.max().item<double>(), -1.0 / 9, 1e-6);
  EXPECT_NEAR(off.min().item<double>(), -1.0 / 9, 1e-6);
  EXPECT_NEAR(torch::linalg_svdvals(p).max().item<double>(), 1.05409, 1e-5);
  SimplexClassifier scaled(16, 10, 0.5);
  EXPECT_NEAR(torch::linalg_svdvals(scaled->weight).max().item<double>(), 0.5, 1e-6);
  SimplexClassifier natural(16, 10, 10.0);
  EXPECT_NEAR(natural->Lip(), 1.05409, 1e-5);
  EXPECT_TRUE(natural->parameters().empty());
  EXPECT_THROW(SimplexPrototypes(10, 8), c10::Error);
  EXPECT_TRUE(torch::equal(SimplexPrototypes(10, 16), SimplexPrototypes(10, 16)));  // fixed
}

TEST(SimplexClassifier, EveryClassIsReachableFromNonNegativeFeatures) {
  // After a ReLU the features are >= 0; each class must still win for some such input.
  for (int64_t classes : {2, 10}) {
    const torch::Tensor p = SimplexPrototypes(classes, 64);
    for (int64_t i = 0; i < classes; ++i) {
      const torch::Tensor h = torch::relu(p[i]);
      EXPECT_EQ(p.mv(h).argmax().item<int64_t>(), i) << classes << " " << i;
    }
  }
}

TEST(ConstraintOptions, ZeroOrNegativeIsAClearError) {
  EXPECT_THAT(std::string(Validate(ConstraintOptions().dist_cond(0)).message()),
              HasSubstr("--dist values must be > 0"));
  EXPECT_THAT(std::string(Validate(ConstraintOptions().lip_cond(-2)).message()),
              HasSubstr("--lip values must be > 0"));
  EXPECT_THROW(ConstrainedLinear(3, 2, ConstraintOptions().dist_cond(0)), c10::Error);
}

}  // namespace
}  // namespace excess_capacity
