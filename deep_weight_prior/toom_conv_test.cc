#include "deep_weight_prior/toom_conv.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace deep_weight_prior {
namespace {

namespace F = torch::nn::functional;

// Values and input gradients of the float Toom-Cook route against LibTorch's direct convolution
// in double precision, on the kernel VAEs' sizes (and odd channel counts).
struct Case {
  int64_t batch, in, out, side, padding;
  bool bias;
};

void ExpectClose(const torch::Tensor& got, const torch::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const double err = (got.to(torch::kDouble) - want).abs().max().item<double>();
  EXPECT_LT(err, 2e-5 * (1 + want.abs().max().item<double>())) << what;
}

template <typename Direct, typename Toom>
void CompareWithDirect(const Case& c, const torch::Tensor& w, Direct direct, Toom toom,
                       int64_t out_side) {
  const torch::Tensor x0 = torch::randn({c.batch, c.in, c.side, c.side});
  const torch::Tensor b = c.bias ? torch::randn({c.out}) : torch::Tensor();
  const torch::Tensor probe = torch::randn({c.batch, c.out, out_side, out_side}, torch::kDouble);
  torch::Tensor xd = x0.to(torch::kDouble).requires_grad_();
  const torch::Tensor want = direct(xd, w.to(torch::kDouble), c.bias ? b.to(torch::kDouble) : b);
  (want * probe).sum().backward();
  torch::Tensor x = x0.clone().requires_grad_();
  const torch::Tensor got = toom(x, w, b);
  (got * probe.to(torch::kFloat)).sum().backward();
  const std::string what =
      "side " + std::to_string(c.side) + " padding " + std::to_string(c.padding);
  ExpectClose(got.detach(), want.detach(), "value, " + what);
  ExpectClose(x.grad(), xd.grad(), "input gradient, " + what);
}

TEST(ToomConvTranspose3x3, EqualsConvTranspose2d) {
  torch::manual_seed(0);
  for (const Case& c :
       {Case{9, 128, 128, 3, 0, true}, Case{5, 7, 3, 3, 0, false}, Case{4, 6, 3, 3, 0, true}}) {
    const torch::Tensor w = 0.1 * torch::randn({c.in, c.out, 3, 3});
    ASSERT_TRUE(ToomConvTransposeApplies(torch::zeros({1, c.in, c.side, c.side}), w));
    CompareWithDirect(
        c, w,
        [](const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
          return F::conv_transpose2d(x, w, F::ConvTranspose2dFuncOptions().bias(b));
        },
        ToomConvTranspose3x3, c.side + 2);
  }
}

TEST(ToomConv3x3, EqualsConv2d) {
  torch::manual_seed(1);
  for (const Case& c : {Case{9, 64, 128, 5, 0, true}, Case{6, 64, 64, 5, 1, true},
                        Case{3, 1, 4, 5, 1, false}, Case{4, 5, 3, 3, 1, true}}) {
    const torch::Tensor w = 0.1 * torch::randn({c.out, c.in, 3, 3});
    ASSERT_TRUE(ToomConvApplies(torch::zeros({1, c.in, c.side, c.side}), w, c.padding));
    const int64_t pad = c.padding;
    CompareWithDirect(
        c, w,
        [pad](const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
          return F::conv2d(x, w, F::Conv2dFuncOptions().bias(b).padding(pad));
        },
        [pad](const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
          return ToomConv3x3(x, w, b, pad);
        },
        c.side + 2 * pad - 2);
  }
}

TEST(ToomConv, OnlyForFrozenFloatWeightsAndExactSizes) {
  const torch::Tensor x = torch::zeros({2, 4, 5, 5});
  EXPECT_FALSE(
      ToomConvApplies(x, torch::zeros({3, 4, 3, 3}).requires_grad_(), 0));  // trained weights
  EXPECT_FALSE(
      ToomConvApplies(x.to(torch::kDouble), torch::zeros({3, 4, 3, 3}, torch::kDouble), 0));
  EXPECT_FALSE(
      ToomConvApplies(torch::zeros({2, 4, 3, 3}), torch::zeros({3, 4, 3, 3}), 0));  // 1x1 output
  EXPECT_FALSE(ToomConvApplies(x, torch::zeros({3, 4, 5, 5}), 0));                  // 5x5 kernel
  EXPECT_FALSE(ToomConvTransposeApplies(torch::zeros({2, 4, 1, 1}), torch::zeros({4, 3, 3, 3})));
  EXPECT_TRUE(ToomConvTransposeApplies(torch::zeros({2, 4, 3, 3}), torch::zeros({4, 3, 3, 3})));
  // 7 points (5 -> 7 transposed, 7 -> 5): too ill-conditioned in float, the direct route instead.
  EXPECT_FALSE(ToomConvTransposeApplies(torch::zeros({2, 4, 5, 5}), torch::zeros({4, 3, 3, 3})));
  EXPECT_FALSE(ToomConvApplies(torch::zeros({2, 4, 7, 7}), torch::zeros({3, 4, 3, 3}), 0));
  EXPECT_TRUE(ToomConvApplies(torch::zeros({2, 4, 5, 5}), torch::zeros({3, 4, 3, 3}), 1));
}

}  // namespace
}  // namespace deep_weight_prior
