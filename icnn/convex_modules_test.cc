#include "icnn/convex_modules.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace icnn {
namespace {

TEST(IcnnMlp, MidpointConvexityHoldsForConvexNetsAndFailsOtherwise) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn({512, 20}) * 2, y = torch::randn({512, 20}) * 2;
  for (Positivity p : {Positivity::kLazyClip, Positivity::kExp, Positivity::kClip}) {
    for (bool skip : {false, true}) {
      for (InitScheme init : {InitScheme::kDefault, InitScheme::kPrincipled}) {
        IcnnMlp net(IcnnOptions(20, 3).num_hidden(4).positivity(p).skip(skip).init(init));
        const double gap =
            MidpointConvexityGap([&](const torch::Tensor& v) { return net->forward(v); }, x, y);
        EXPECT_LE(gap, 1e-4) << static_cast<int>(p) << skip << static_cast<int>(init);
      }
    }
  }
  IcnnMlp nonconvex(
      IcnnOptions(20, 3).num_hidden(4).positivity(Positivity::kNone).init(InitScheme::kDefault));
  EXPECT_GT(
      MidpointConvexityGap([&](const torch::Tensor& v) { return nonconvex->forward(v); }, x, y),
      1e-3);
}

TEST(ConvexLinear, LazyClippingZeroesNegativesAndKeepsTheirGradient) {
  torch::manual_seed(1);
  ConvexLinear layer(4, 3, Positivity::kLazyClip);
  {
    torch::NoGradGuard no_grad;
    layer->weight.copy_(
        torch::tensor({{-1.0, 2.0, 0.5, -0.1}, {1.0, 1.0, 1.0, 1.0}, {-3.0, 0.2, 0.1, 0.3}}));
  }
  const torch::Tensor x = torch::ones({2, 4});
  layer->forward(x).sum().backward();
  EXPECT_GE(layer->weight.min().item<double>(), 0.0);  // clamped in place
  EXPECT_EQ(layer->weight[0][0].item<double>(), 0.0);
  // Identity gradient (projected gradient descent): the clamped entry still gets d/dw = sum x = 2.
  EXPECT_DOUBLE_EQ(layer->weight.grad()[0][0].item<double>(), 2.0);
}

TEST(ConvexConv2d, ConvexAfterAReluAndNonNegativeWeights) {
  torch::manual_seed(2);
  ConvexConv2d conv(3, 4, 3, 1, 1, Positivity::kLazyClip);
  auto f = [&](const torch::Tensor& v) { return conv->forward(torch::relu(v)).sum({1, 2, 3}); };
  const torch::Tensor x = torch::randn({64, 3, 8, 8}), y = torch::randn({64, 3, 8, 8});
  EXPECT_LE(MidpointConvexityGap(f, x, y), 1e-4);
  EXPECT_GE(conv->weight.min().item<double>(), 0.0);
}

TEST(BiConvex, ZeroAtInitialisationAndIndependentCopies) {
  torch::manual_seed(3);
  BiConvex net(IcnnMlp(IcnnOptions(6, 2).num_hidden(2)));
  const torch::Tensor x = torch::randn({5, 6});
  EXPECT_EQ(net->forward(x).abs().max().item<double>(), 0.0);
  {
    torch::NoGradGuard no_grad;
    net->first->convex[0]->bias.add_(1.0);
  }
  EXPECT_GT(net->forward(x).abs().max().item<double>(), 0.0);
  EXPECT_EQ(net->parameters().size(), 2 * net->first->parameters().size());
}

TEST(Positivity, InversesRoundTrip) {
  const torch::Tensor w = torch::tensor({0.5, 1.0, 2.0}, torch::kFloat64);
  for (Positivity p : {Positivity::kExp, Positivity::kClip, Positivity::kLazyClip}) {
    torch::Tensor raw = InversePositivity(p, w);
    EXPECT_TRUE(torch::allclose(ApplyPositivity(p, raw), w)) << static_cast<int>(p);
  }
  const torch::Tensor signed_w = torch::tensor({-1.5, 2.0}, torch::kFloat64);
  EXPECT_TRUE(
      torch::equal(InversePositivity(Positivity::kNone, signed_w), signed_w));  // no clamping
  EXPECT_FALSE(ParsePositivity("relu").ok());
}

TEST(ConvexLayerNorm, TrainNormalisesSamplesEvalIsAPositiveAffineMap) {
  torch::manual_seed(0);
  ConvexLayerNorm ln(6, Positivity::kExp, 1e-5, /*momentum=*/0.5);
  EXPECT_TRUE(torch::allclose(ln->weight, torch::zeros({6})));  // exp(0) = 1
  const torch::Tensor x = torch::randn({4, 6}) * 3 + 2;
  const torch::Tensor y = ln(x);
  EXPECT_LT(y.mean(1).abs().max().item<double>(), 1e-5);
  EXPECT_LT((y.var(1, false) - 1).abs().max().item<double>(), 1e-3);
  // Running statistics: 0.5 * 0 + 0.5 * (batch mean of the sample means), likewise the variance.
  EXPECT_NEAR(ln->running_mean.item<double>(), 0.5 * x.mean().item<double>(), 1e-5);
  EXPECT_NEAR(ln->running_var.item<double>(), 0.5 + 0.5 * x.var(1, false).mean().item<double>(),
              1e-5);
  ln->eval();
  torch::NoGradGuard no_grad;
  ln->weight.fill_(std::log(2.0));
  ln->bias.fill_(0.25);
  const torch::Tensor expected =
      2.0 * (x - ln->running_mean) / (ln->running_var + 1e-5).sqrt() + 0.25;
  EXPECT_TRUE(torch::allclose(ln(x), expected, 1e-5, 1e-6));
  // Affine with a positive scale: the midpoint of any pair maps exactly to the midpoint.
  const torch::Tensor a = torch::randn({8, 6}), b = torch::randn({8, 6});
  EXPECT_TRUE(torch::allclose(ln((a + b) / 2), (ln(a) + ln(b)) / 2, 1e-5, 1e-5));
}

}  // namespace
}  // namespace icnn
