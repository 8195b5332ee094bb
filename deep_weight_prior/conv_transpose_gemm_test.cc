#include "deep_weight_prior/conv_transpose_gemm.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace deep_weight_prior {
namespace {

namespace F = torch::nn::functional;

// Value and all three gradients against LibTorch's conv_transpose2d, on the decoders' input sizes.
TEST(ConvTranspose2dGemm, MatchesConvTranspose2dAndItsGradients) {
  torch::manual_seed(0);
  struct Case {
    int64_t batch, in, out, side, k;
    bool bias;
  };
  for (const Case& c : {Case{7, 4, 6, 1, 3, true}, Case{5, 6, 3, 3, 3, true},
                        Case{3, 5, 7, 5, 3, false}, Case{2, 3, 4, 4, 2, true}}) {
    const torch::Tensor x0 = torch::randn({c.batch, c.in, c.side, c.side});
    const torch::Tensor w0 = torch::randn({c.in, c.out, c.k, c.k}) * 0.3;
    const torch::Tensor b0 = c.bias ? torch::randn({c.out}) : torch::Tensor();
    const torch::Tensor probe = torch::randn({c.batch, c.out, c.side + c.k - 1, c.side + c.k - 1});
    auto run = [&](bool gemm) {
      torch::Tensor x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_();
      torch::Tensor b = c.bias ? b0.clone().requires_grad_() : torch::Tensor();
      const torch::Tensor y =
          gemm ? ConvTranspose2dGemm(x, w, b)
               : F::conv_transpose2d(x, w, F::ConvTranspose2dFuncOptions().bias(b));
      (y * probe).sum().backward();
      return std::vector<torch::Tensor>{y.detach(), x.grad(), w.grad(),
                                        c.bias ? b.grad() : torch::zeros({1})};
    };
    const auto want = run(false), got = run(true);
    const char* names[] = {"value", "grad x", "grad w", "grad b"};
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(got[i].sizes(), want[i].sizes()) << names[i];
      EXPECT_TRUE(torch::allclose(got[i], want[i], 1e-4, 1e-5)) << names[i] << " side " << c.side;
    }
  }
}

TEST(ConvTranspose2dGemm, FrozenWeightsGetNoGradient) {
  const torch::Tensor x = torch::randn({2, 3, 3, 3}).requires_grad_();
  const torch::Tensor w = torch::randn({3, 4, 3, 3}), b = torch::randn({4});
  ConvTranspose2dGemm(x, w, b).sum().backward();
  EXPECT_TRUE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
  // Double tensors take LibTorch's route, same values.
  const torch::Tensor xd = torch::randn({2, 3, 3, 3}, torch::kDouble),
                      wd = torch::randn({3, 4, 3, 3}, torch::kDouble);
  EXPECT_TRUE(torch::allclose(ConvTranspose2dGemm(xd, wd, {}), F::conv_transpose2d(xd, wd)));
}

}  // namespace
}  // namespace deep_weight_prior
