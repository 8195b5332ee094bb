#include "implicit_dl/implicit_model.h"

#include <torch/torch.h>

#include "common/data/synthetic.h"
#include "common/testing/conformance.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "implicit_dl/well_posedness.h"

namespace implicit_dl {
namespace {

using ::testing::HasSubstr;

TEST(WellPosedness, InfProjectsOffendingRowsInPlaceOntoTheSphere) {
  torch::manual_seed(0);
  torch::Tensor A = torch::randn({20, 20}) / 10;  // row L1 norms around 1.6
  A[3] = torch::full({20}, 0.01);                 // inside: L1 = 0.2
  const torch::Tensor before = A.clone();
  ApplyWellPosedness(A, WellPosedness::kInf);
  const torch::Tensor l1 = A.abs().sum(1);
  for (int64_t i = 0; i < 20; ++i) {
    if (before[i].abs().sum().item<double>() > kInfRadius) {
      EXPECT_NEAR(l1[i].item<double>(), 0.95, 1e-6) << i;
    } else {
      EXPECT_TRUE(torch::equal(A[i], before[i])) << i;
    }
  }
  EXPECT_NEAR(InfinityNorm(A), 0.95, 1e-6);
}

TEST(WellPosedness, TriuZeroesInPlaceAndMasksGradient) {
  torch::Tensor A = torch::ones({4, 4}, torch::requires_grad());
  torch::Tensor used = ApplyWellPosedness(A, WellPosedness::kTriu);
  EXPECT_TRUE(torch::equal(A.detach(), torch::ones({4, 4}).triu(1)));
  used.sum().backward();
  EXPECT_TRUE(torch::equal(A.grad(), torch::ones({4, 4}).triu(1)));
}

TEST(WellPosedness, InfScaleScalesValueButPassesGradientStraightThrough) {
  torch::Tensor A = torch::full({3, 3}, 1.0, torch::requires_grad());  // ||A||_inf = 3
  torch::Tensor used = ApplyWellPosedness(A, WellPosedness::kInfScale);
  EXPECT_NEAR(InfinityNorm(used.detach()), 0.99, 1e-6);
  EXPECT_TRUE(torch::equal(A.detach(), torch::ones({3, 3})));  // not in place
  used.sum().backward();
  EXPECT_TRUE(torch::equal(A.grad(), torch::ones({3, 3})));
}

TEST(ImplicitModel, ParameterCountInitScaleAndKeys) {
  torch::manual_seed(0);
  ImplicitModel m(ImplicitModelOptions(20, 50, 1));
  int64_t count = 0;
  for (const auto& p : m->parameters()) count += p.numel();
  EXPECT_EQ(count, 1470);  // n^2 + n p + q n + q p, as the reference notebook
  ImplicitModel big(ImplicitModelOptions(300, 300, 300));
  EXPECT_NEAR(big->A.std().item<double>(), 1.0 / 300, 1e-4);  // randn / n
  EXPECT_NEAR(big->D.std().item<double>(), 1.0 / 300, 1e-4);
  ImplicitModel no_d(ImplicitModelOptions(4, 3, 2).no_D(true).bias(true));
  EXPECT_EQ(no_d->B.size(1), 4);
  EXPECT_EQ(no_d->parameters().size(), 3u);
  EXPECT_EQ(no_d->named_buffers().size(), 1u);  // D
  EXPECT_EQ(common::testing::StateDictRoundTrip(*m, *ImplicitModel(ImplicitModelOptions(20, 50, 1)),
                                                common::data::TestDir("implicit_sd")),
            "");
}

TEST(ImplicitModel, ForwardEqualsExplicitFormulaAtTheFixedPoint) {
  torch::manual_seed(1);
  ImplicitModelOptions o(30, 10, 4);
  o.bias(true).solver().tol = 1e-12;
  o.solver().mitr = 2000;
  ImplicitModel m(o);
  m->to(torch::kFloat64);
  const torch::Tensor u = torch::randn({5, 10}, torch::kFloat64);
  const torch::Tensor y = m->forward(u);
  const torch::Tensor U = torch::cat({u.t(), torch::ones({1, 5}, torch::kFloat64)});
  const torch::Tensor X = m->HiddenState(u).t();
  EXPECT_LT((torch::relu(m->A.mm(X) + m->B.mm(U)) - X).abs().max().item<double>(), 1e-12);
  EXPECT_TRUE(torch::allclose(y, (m->C.mm(X) + m->D.mm(U)).t()));
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({5, 4}));
  EXPECT_TRUE(m->last_stats().forward_converged);
}

TEST(ImplicitModel, BadInputIsAClearError) {
  ImplicitModel m(ImplicitModelOptions(8, 6, 2));
  try {
    m->forward(torch::zeros({3, 5}));
    FAIL() << "wrong width accepted";
  } catch (const c10::Error& e) {
    EXPECT_THAT(e.what_without_backtrace(),
                HasSubstr("input has 5 features but the model expects p = 6"));
  }
  EXPECT_THROW(m->forward(torch::zeros({3, 2, 3})), c10::Error);
  EXPECT_THAT(std::string(Validate(ImplicitModelOptions(0, 6, 2)).message()),
              HasSubstr("--n must be > 0, got 0"));
  EXPECT_THROW(ImplicitModel(ImplicitModelOptions(-1, 6, 2)), c10::Error);
}

TEST(ImplicitModel, TrainingStepReducesLossOnBlobs) {
  torch::manual_seed(0);
  const common::data::InMemoryDataset d = common::data::GaussianBlobs(200, 6, 3, 0);
  ImplicitModel m(ImplicitModelOptions(16, 6, 3).bias(true));
  torch::optim::Adam opt(m->parameters(), 5e-3);
  auto loss = [&] {
    return torch::nn::functional::cross_entropy(m->forward(d.inputs()), d.targets());
  };
  const double before = loss().item<double>();
  for (int i = 0; i < 100; ++i) {
    opt.zero_grad();
    loss().backward();
    opt.step();
  }
  torch::Tensor after = loss();
  EXPECT_LT(after.item<double>(), 0.5 * before);
  after.backward();
  EXPECT_GT(m->last_stats().backward_iterations, 0);
  EXPECT_TRUE(m->last_stats().backward_converged);
}

}  // namespace
}  // namespace implicit_dl
