#include "weightnorm_init/init.h"

#include <torch/torch.h>

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "weightnorm_init/models.h"

namespace weightnorm_init {
namespace {

using ::testing::HasSubstr;

class InitTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

InitScheme Scheme(const std::string& name, const std::string& extra = "", bool backward = false) {
  return ParseInitScheme(name, /*weight_norm=*/true, backward, extra).value();
}

std::shared_ptr<NetImpl> Build(const ModelOptions& options, const InitScheme& scheme,
                               const torch::Tensor& batch = {}) {
  auto net = BuildModel(options, scheme, batch);
  EXPECT_TRUE(net.ok()) << net.status();
  return *net;
}

// Every entry of the parameter `name` equals `value`.
void ExpectConstant(NetImpl& net, const std::string& name, double value) {
  const auto params = net.named_parameters();
  const torch::Tensor* p = params.find(name);
  ASSERT_NE(p, nullptr) << name;
  EXPECT_NEAR(p->min().item<double>(), value, 1e-6) << name;
  EXPECT_NEAR(p->max().item<double>(), value, 1e-6) << name;
}

TEST_F(InitTest, ProposedInitNeedsWeightNorm) {
  const auto s = ParseInitScheme("he_proposed", /*weight_norm=*/false);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("--init=he_proposed"));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("needs --weight_norm"));
  EXPECT_FALSE(ParseInitScheme("orthogonal_datadep", false).ok());
  EXPECT_TRUE(ParseInitScheme("orthogonal", false).ok());
  EXPECT_THAT(std::string(ParseInitScheme("xavier", true).status().message()),
              HasSubstr("--init must be"));
}

TEST_F(InitTest, MlpGainsMatchThePaper) {
  auto net = Build(ModelOptions("mlp", 1, 28, 10).num_layers(3).weight_norm(true),
                   Scheme("orthogonal_proposed"));
  ExpectConstant(*net, "layer0.weight_g", 3.5);  // sqrt(2 * 784 / 128)
  ExpectConstant(*net, "layer1.weight_g", std::sqrt(2.0));
  ExpectConstant(*net, "layer2.bias", 0.0);
  // The classifier keeps PyTorch's default init: a non-zero bias.
  EXPECT_GT(net->named_parameters()["classifier.bias"].abs().max().item<double>(), 0.0);
  auto backward =
      Build(ModelOptions("mlp", 1, 28, 10).weight_norm(true), Scheme("he_proposed", "", true));
  ExpectConstant(*backward, "layer0.weight_g", std::sqrt(2.0));
}

TEST_F(InitTest, WrnGainsMatchTheSpecTable) {
  // WRN-40-10 (N = 6, k = 10): the spec's values computed with the reference code.
  auto net = Build(ModelOptions("wrn", 3, 32, 10).wrn_n(6).wrn_k(10).weight_norm(true),
                   Scheme("he_proposed"));
  ExpectConstant(*net, "stem.weight_g", 0.4330127);                 // sqrt(3 / 16)
  ExpectConstant(*net, "stage1_block1.conv1.weight_g", 0.4472136);  // sqrt(2 * 16 / 160)
  ExpectConstant(*net, "stage1_block1.conv2.weight_g", 1 / std::sqrt(6.0));
  ExpectConstant(*net, "stage1_block1.shortcut.weight_g", 0.3162278);
  ExpectConstant(*net, "stage1_block2.conv1.weight_g", std::sqrt(2.0));
  ExpectConstant(*net, "stage2_block1.conv1.weight_g", 1.0);
  ExpectConstant(*net, "stage2_block1.shortcut.weight_g", std::sqrt(0.5));
  EXPECT_FALSE(net->named_parameters().contains("stage1_block2.shortcut.weight_g"));
}

TEST_F(InitTest, ResNetStemHasGammaTwoAndHaninRestartsPerStage) {
  auto net =
      Build(ModelOptions("resnet", 3, 32, 10).hidden_size(16).num_blocks(3).weight_norm(true),
            Scheme("orthogonal_proposed", "hanin"));
  ExpectConstant(*net, "stem.weight_g", std::sqrt(2.0 * 3 / 16));
  ExpectConstant(*net, "stage1_block1.conv2.weight_g", 0.9);
  ExpectConstant(*net, "stage1_block3.conv2.weight_g", 0.729);
  ExpectConstant(*net, "stage3_block1.conv2.weight_g", 0.9);
  ExpectConstant(*net, "stage2_block1.shortcut.weight_g", std::sqrt(16.0 / 32));
}

TEST_F(InitTest, DefaultGainIsTheDirectionNorm) {
  auto orth = Build(ModelOptions("mlp", 1, 28, 10).weight_norm(true), Scheme("orthogonal"));
  ExpectConstant(*orth, "layer0.weight_g", 1.0);  // 128 orthonormal rows
  auto he = Build(ModelOptions("mlp", 1, 28, 10).weight_norm(true), Scheme("he"));
  const torch::Tensor g = he->named_parameters()["layer0.weight_g"];
  EXPECT_NEAR(g.mean().item<double>(), std::sqrt(2.0), 0.02);  // E||v||^2 = 784 * 2 / 784
}

TEST_F(InitTest, WnResNet56HasTheSpecParameterCount) {
  auto wn = Build(ModelOptions("resnet", 3, 32, 10).hidden_size(16).num_blocks(9).weight_norm(true),
                  Scheme("he_proposed"));
  EXPECT_EQ(CountParameters(*wn), 855770);
  auto plain = BuildModel(ModelOptions("resnet", 3, 32, 10).hidden_size(16).num_blocks(9),
                          ParseInitScheme("he", false).value(), {});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(CountParameters(**plain), 855770 - 2128);  // one g per output channel
}

// Mean over the batch of ||h|| / ||x||.
std::vector<double> NormRatios(NetImpl& net, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  const torch::Tensor in = x.flatten(1).norm(2, 1);
  std::vector<double> out;
  for (const torch::Tensor& h : net.Trace(x))
    out.push_back((h.flatten(1).norm(2, 1) / in).mean().item<double>());
  return out;
}

TEST_F(InitTest, ProposedInitPreservesTheNormThroughTwentyLayers) {
  const torch::Tensor x = torch::randn({256, 1, 28, 28});
  auto options = ModelOptions("mlp", 1, 28, 10).num_layers(20).weight_norm(true);
  const std::vector<double> proposed =
      NormRatios(*Build(options, Scheme("orthogonal_proposed")), x);
  ASSERT_EQ(proposed.size(), 20u);
  for (size_t l = 0; l < proposed.size(); ++l) {
    EXPECT_GT(proposed[l], 0.7) << "layer " << l + 1;
    EXPECT_LT(proposed[l], 1.5) << "layer " << l + 1;
  }
  const std::vector<double> dflt = NormRatios(*Build(options, Scheme("orthogonal")), x);
  EXPECT_LT(dflt[9], 0.05);    // 1/sqrt(2) per layer after the first: the spec's 0.014
  EXPECT_LT(dflt[19], 0.002);  // spec: 0.0005
}

// RMS of the last stage output over RMS of the input, for a WN-WRN with k = 1.
double WrnGain(const std::string& init, int64_t n) {
  torch::manual_seed(1);
  auto net = BuildModel(ModelOptions("wrn", 16, 8, 10).wrn_n(n).wrn_k(1).weight_norm(true),
                        ParseInitScheme(init, true).value(), {});
  const torch::Tensor x = torch::randn({8, 16, 8, 8});
  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> trace = (*net)->Trace(x);
  return (trace.back().pow(2).mean().sqrt() / trace.front().pow(2).mean().sqrt()).item<double>();
}

TEST_F(InitTest, WrnGainStaysBoundedWithDepthOnlyForTheProposedInit) {
  for (int64_t n : {1, 6, 40}) {
    const double g = WrnGain("orthogonal_proposed", n);
    EXPECT_GT(g, 0.3) << "N=" << n;
    EXPECT_LT(g, 5.0) << "N=" << n;  // (1 + 1/N)^(N/2) per stage
  }
  // sqrt(1.5)^N per stage in theory, less here (zero padding on 8x8, 4x4, 2x2 maps).
  const double dflt = WrnGain("orthogonal", 40);
  EXPECT_GT(dflt, 100.0);
  EXPECT_GT(dflt, 20 * WrnGain("orthogonal", 6));
}

TEST_F(InitTest, DataDependentInitWhitensEveryLayerOnTheInitBatch) {
  const torch::Tensor batch = torch::randn({32, 3, 8, 8}) * 3 + 1;
  const InitScheme s = Scheme("he_datadep");
  WnLayer a(WnLayerOptions(3, 8, 3).padding(1)), b(WnLayerOptions(8, 4, 3).stride(2).padding(1));
  const torch::Tensor ya = InitLayer(a, s, 2.0, batch);
  const torch::Tensor yb = InitLayer(b, s, 2.0, torch::relu(ya));
  for (const torch::Tensor& y : {ya, yb}) {
    const torch::Tensor mean = y.mean({0, 2, 3}), var = y.var({0, 2, 3}, false);
    EXPECT_LT(mean.abs().max().item<double>(), 1e-5);
    EXPECT_LT((var - 1).abs().max().item<double>(), 1e-4);
  }
  // Through a residual block: conv1 and conv2 outputs are whitened; the shortcut too.
  ResBlock block(8, 16, 2, /*weight_norm=*/true, /*batch_norm=*/false);
  const torch::Tensor in = torch::relu(ya);
  const torch::Tensor out = block->Initialize(s, 0.5, in);
  torch::NoGradGuard no_grad;
  const torch::Tensor branch = block->conv2(torch::relu(block->conv1(in)));
  const torch::Tensor skip = block->shortcut(in);
  EXPECT_TRUE(torch::allclose(out, branch + skip, 1e-5, 1e-5));
  for (const torch::Tensor& y : {branch, skip, block->conv1(in)}) {
    EXPECT_LT(y.mean({0, 2, 3}).abs().max().item<double>(), 1e-5);
    EXPECT_LT((y.var({0, 2, 3}, false) - 1).abs().max().item<double>(), 1e-4);
  }
}

}  // namespace
}  // namespace weightnorm_init
