#include "common/testing/conformance.h"

#include <torch/torch.h>

#include "common/data/synthetic.h"
#include "gtest/gtest.h"

namespace common::testing {
namespace {

// y = x^2 with a deliberately wrong backward (2x + 1): the checker must notice.
class WrongSquare : public torch::autograd::Function<WrongSquare> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x) {
    ctx->save_for_backward({x});
    return x * x;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list g) {
    return {g[0] * (2 * ctx->get_saved_variables()[0] + 1)};
  }
};

TEST(CheckGradients, AcceptsCorrectAndRejectsWrongGradients) {
  torch::manual_seed(0);
  torch::Tensor a = torch::randn({3, 4}).requires_grad_();
  torch::Tensor b = torch::randn({4, 2}).requires_grad_();
  GradientCheck ok =
      CheckGradients([](const TensorList& in) { return torch::tanh(in[0].mm(in[1])); }, {a, b});
  EXPECT_LT(ok.max_abs_error, 1e-8);
  EXPECT_GT(ok.max_abs_grad, 1e-2);
  GradientCheck bad =
      CheckGradients([](const TensorList& in) { return WrongSquare::apply(in[0]); }, {a});
  EXPECT_GT(bad.max_abs_error, 0.1);
}

TEST(StateDictRoundTrip, CopiesEveryTensor) {
  torch::manual_seed(0);
  torch::nn::Linear a(3, 2), b(3, 2);
  ASSERT_FALSE(torch::equal(a->weight, b->weight));
  EXPECT_EQ(StateDictRoundTrip(*a, *b, data::TestDir("sd_round_trip")), "");
  EXPECT_TRUE(torch::equal(a->weight, b->weight));
  EXPECT_TRUE(AllTensorsHaveDtype(*a, torch::kFloat32));
  a->to(torch::kFloat64);
  EXPECT_TRUE(AllTensorsHaveDtype(*a, torch::kFloat64));
}

}  // namespace
}  // namespace common::testing
