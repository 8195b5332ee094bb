// Tests of the analysis tools around ImplicitModel: FFNN conversion, robustness bounds, the RNN
// cell and the sparsity figure.
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "implicit_dl/ffnn_conversion.h"
#include "implicit_dl/implicit_rnn.h"
#include "implicit_dl/sensitivity.h"
#include "implicit_dl/sparsity_figure.h"

namespace implicit_dl {
namespace {

using ::testing::HasSubstr;

torch::Tensor Mlp(std::vector<torch::nn::Linear> layers, torch::Tensor u) {
  for (size_t k = 0; k < layers.size(); ++k) {
    u = layers[k]->forward(u);
    if (k + 1 < layers.size()) u = torch::relu(u);
  }
  return u;
}

TEST(ImplicitFromMlp, ReproducesTheMlpWithATriangularModel) {
  torch::manual_seed(0);
  for (bool bias : {false, true}) {
    std::vector<torch::nn::Linear> layers = {
        torch::nn::Linear(torch::nn::LinearOptions(12, 6).bias(bias)),
        torch::nn::Linear(torch::nn::LinearOptions(6, 4).bias(bias)),
        torch::nn::Linear(torch::nn::LinearOptions(4, 3).bias(bias))};
    ImplicitModel m = ImplicitFromMlp(layers).value();
    EXPECT_EQ(m->options.n(), 10);
    EXPECT_TRUE(torch::equal(m->A, m->A.triu(1)));  // strictly block-upper-triangular
    const torch::Tensor u = torch::randn({7, 12});
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::allclose(m->forward(u), Mlp(layers, u), 1e-5, 1e-6)) << bias;
    // Exact after depth (2) maps; the next one confirms it.
    EXPECT_LE(m->last_stats().forward_iterations, 3);
  }
  std::vector<torch::nn::Linear> broken = {torch::nn::Linear(5, 4), torch::nn::Linear(3, 2)};
  EXPECT_THAT(std::string(ImplicitFromMlp(broken).status().message()),
              HasSubstr("layer 1 takes 3 inputs but layer 0 gives 4"));
}

TEST(Sensitivity, ClosedFormWithoutFeedbackAndEmpiricalBound) {
  torch::manual_seed(1);
  ImplicitModel m(ImplicitModelOptions(8, 5, 3).bias(true));
  m->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    m->A.zero_();
  }
  const torch::Tensor S0 = SensitivityMatrix(*m);
  EXPECT_TRUE(
      torch::allclose(S0, m->C.abs().mm(m->B.abs().narrow(1, 0, 5)) + m->D.abs().narrow(1, 0, 5)));
  // With feedback: no perturbation in the box moves an output by more than its bound.
  {
    torch::NoGradGuard no_grad;
    m->A.copy_(torch::randn({8, 8}, torch::kFloat64));
  }
  const double sigma = 0.1;
  torch::NoGradGuard no_grad;
  const torch::Tensor u = torch::randn({1, 5}, torch::kFloat64);
  const torch::Tensor y = m->forward(u);  // projects A: ||A||_inf <= 0.95
  const torch::Tensor bound = OutputBound(*m, sigma);
  for (int i = 0; i < 200; ++i) {
    const torch::Tensor du = sigma * (2 * torch::randint(0, 2, {1, 5}, torch::kFloat64) - 1);
    const torch::Tensor dy = (m->forward(u + du) - y).abs().squeeze(0);
    ASSERT_TRUE((dy <= bound + 1e-9).all().item<bool>()) << dy << bound;
  }
}

TEST(Robustness, ZeroBudgetsReduceToCleanAccuracyAndBoundsOrder) {
  torch::manual_seed(2);
  const common::data::InMemoryDataset d = common::data::GaussianBlobs(200, 6, 3, 3);
  ImplicitModel m(ImplicitModelOptions(10, 6, 3).bias(true));
  torch::optim::Adam opt(m->parameters(), 1e-2);
  for (int i = 0; i < 150; ++i) {
    opt.zero_grad();
    torch::nn::functional::cross_entropy(m->forward(d.inputs()), d.targets()).backward();
    opt.step();
  }
  const InputRange wide{-100, 100};
  double clean;
  {
    torch::NoGradGuard no_grad;
    clean =
        (m->forward(d.inputs()).argmax(1) == d.targets()).to(torch::kFloat64).mean().item<double>();
  }
  EXPECT_GT(clean, 0.9);
  EXPECT_DOUBLE_EQ(FgsmAccuracy(m, d, 0.0, wide), clean);
  EXPECT_DOUBLE_EQ(NoiseAccuracy(m, d, 0.0, wide, 0), clean);
  EXPECT_DOUBLE_EQ(CertifiedAccuracy(m, d, 0.0), clean);
  // Certified <= attacked <= clean at the same budget.
  const double certified = CertifiedAccuracy(m, d, 0.5), attacked = FgsmAccuracy(m, d, 0.5, wide);
  EXPECT_LE(certified, attacked);
  EXPECT_LE(attacked, clean);
  EXPECT_LT(FgsmAccuracy(m, d, 3.0, wide), clean);
}

TEST(RobustCrossEntropy, BoundsTheWorstCaseCrossEntropy) {
  const torch::Tensor logits = torch::tensor({{2.0, 0.5, -1.0}});
  const torch::Tensor sigma = torch::tensor({0.3, 0.2, 0.1});
  const torch::Tensor y = torch::tensor({0}, torch::kInt64);
  // Worst case: the true logit - 0.3, the others + their sigma.
  const torch::Tensor worst = torch::tensor({{1.7, 0.7, -0.9}});
  const double worst_ce = torch::nn::functional::cross_entropy(worst, y).item<double>();
  const double robust = RobustCrossEntropy(logits, sigma, y).item<double>();
  EXPECT_GE(robust, worst_ce - 1e-6);
  // Closed form: CE(logits + sigma) + 2 sigma_y.
  EXPECT_NEAR(
      robust,
      torch::nn::functional::cross_entropy(logits + sigma.view({1, -1}), y).item<double>() + 0.6,
      1e-6);
}

TEST(ImplicitRNN, ParameterCountAndRecurrence) {
  torch::manual_seed(3);
  ImplicitRNN rnn(/*input=*/1, /*hidden=*/20, /*output=*/10, ImplicitModelOptions(20, 1, 1));
  int64_t count = 0;
  for (const auto& p : rnn->parameters()) count += p.numel();
  EXPECT_EQ(count, 1850);  // as the reference notebook
  const torch::Tensor x = torch::rand({4, 10, 1}) * 2 - 1;
  auto [outputs, last] = rnn->cell->forward(x);
  EXPECT_EQ(outputs.sizes(), torch::IntArrayRef({4, 10, 20}));
  EXPECT_TRUE(torch::equal(outputs.select(1, 9), last));
  // h_1 is the implicit layer applied to [x_0, 0].
  torch::Tensor h1 =
      rnn->cell->layer->forward(torch::cat({x.select(1, 0), torch::zeros({4, 20})}, 1));
  EXPECT_TRUE(torch::allclose(outputs.select(1, 0), h1));
  EXPECT_EQ(rnn->forward(x).sizes(), torch::IntArrayRef({4, 10}));
}

TEST(SparsityFigure, CountsTheBlockMatrixNonZeros) {
  torch::manual_seed(4);
  std::vector<torch::nn::Linear> layers = {torch::nn::Linear(5, 4), torch::nn::Linear(4, 3),
                                           torch::nn::Linear(3, 2)};
  ImplicitModel m = ImplicitFromMlp(layers).value();
  const torch::Tensor block = BlockMatrix(*m);
  EXPECT_EQ(block.sizes(), torch::IntArrayRef({2 + 7, 7 + 6}));
  const int64_t nonzero = (block != 0).sum().item<int64_t>();
  // W0, W1, W2 and the three bias vectors.
  EXPECT_EQ(nonzero, 5 * 4 + 4 * 3 + 3 * 2 + 4 + 3 + 2);
  const std::string path = common::data::TestDir("spy") + "/abcd.svg";
  ASSERT_TRUE(WriteSparsityFigure(*m, path).ok());
  std::string svg = common::data::ReadFileBytes(path).value();
  // PLplot writes text as character references; the count is in the x label.
  const std::string label = absl::StrCat(nonzero, " of ", block.numel());
  std::string encoded;
  for (char c : label)
    encoded += absl::StrCat("&#x", absl::Hex(static_cast<unsigned char>(c)), ";");
  EXPECT_THAT(svg, HasSubstr(encoded));
}

}  // namespace
}  // namespace implicit_dl
