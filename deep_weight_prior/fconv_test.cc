#include "deep_weight_prior/fconv.h"

#include <torch/torch.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deep_weight_prior {
namespace {

using ::testing::HasSubstr;

FConvOptions Options(const std::string& cfg, int64_t c1 = 4, int64_t c2 = 6) {
  FConvOptions o;
  o.net_cfg = cfg, o.c1 = c1, o.c2 = c2;
  return o;
}

TEST(FConv, ShapesAndConfigs) {
  FConv bnn(Options("bayes", 32, 128));
  EXPECT_EQ(bnn->forward(torch::rand({2, 1, 28, 28})).sizes(), (std::vector<int64_t>{2, 10}));
  EXPECT_EQ(bnn->classifier->weight.size(1), 1152);  // 128 * 3 * 3 (pooling floors 7 -> 3)
  EXPECT_TRUE(bnn->convs[0].bayes && bnn->convs[1].bayes);
  FConv half(Options("bayes-1-0"));
  EXPECT_TRUE(half->convs[0].bayes && !half->convs[1].bayes);
  FConv trunc(Options("bayes-mtrunca"));
  EXPECT_EQ(trunc->convs[1].bayes->options.posterior(), Posterior::kMuTruncAlpha);
  FConvOptions bad = Options("vanilla-do");
  EXPECT_THAT(std::string(Validate(bad).message()), HasSubstr("two dropout rates"));
}

TEST(FConv, VaeInitWritesDecoderMeans) {
  torch::manual_seed(0);
  FConv net(Options("vanilla", 3, 2));
  KernelVae vae(KernelVaeOptions(7, 2, 4));
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5), same = at::make_generator<at::CPUGeneratorImpl>(5);
  ASSERT_TRUE(InitKernels(*net, 0, "vae", vae, {}, gen).ok());
  torch::NoGradGuard no_grad;
  const torch::Tensor expected = vae->Decode(torch::randn({3, 2, 1, 1}, same)).mean.reshape({3, 1, 7, 7});
  EXPECT_TRUE(torch::allclose(net->convs[0].kernel(), expected));
  EXPECT_THAT(std::string(InitKernels(*net, 1, "vae", vae, {}, gen).message()), HasSubstr("5x5 kernels but its VAE is 7x7"));
}

TEST(FConv, FilterInitDrawsDistinctSourceKernels) {
  FConv net(Options("bayes", 3, 4));
  const torch::Tensor source = torch::arange(20, torch::kFloat).view({20, 1, 1, 1}).expand({20, 1, 5, 5}).contiguous();
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
  ASSERT_TRUE(InitKernels(*net, 1, "filters", {nullptr}, source, gen).ok());
  const torch::Tensor ids = std::get<0>(net->convs[1].kernel().flatten(2).select(2, 0).flatten().sort());
  EXPECT_EQ(std::get<0>(at::_unique(ids)).numel(), 12);  // 4 x 3 kernels, no repeats
  EXPECT_THAT(std::string(InitKernels(*net, 1, "filters", {nullptr}, source.slice(0, 0, 5), gen).message()),
              HasSubstr("needs 12 source kernels, the file has 5"));
}

TEST(FConv, NetworkKlSumsTheBayesianLayers) {
  FConv net(Options("bayes-mtrunca"));
  const auto kl = NetworkKl(*net, {{PriorKind::kLogUniform}, {PriorKind::kLogUniform}});
  ASSERT_TRUE(kl.ok());
  const double per = KlLogUniform(1 / (1 + std::exp(2.0)));
  EXPECT_NEAR(kl->item<double>(), per * (4 * 49 + 6 * 4 * 25), 1e-2);
  FConv lv(Options("bayes"));
  EXPECT_FALSE(NetworkKl(*lv, {{PriorKind::kLogUniform}, {PriorKind::kStandardNormal}}).ok());
}

TEST(FConv, VanillaDropoutOnlyInTraining) {
  torch::manual_seed(2);
  FConvOptions o = Options("vanilla-do");
  o.dropout = {0.5, 0.5};
  FConv net(o);
  const torch::Tensor x = torch::rand({3, 1, 28, 28});
  net->train();
  EXPECT_FALSE(torch::allclose(net->forward(x), net->forward(x)));  // fresh masks
  net->eval();
  EXPECT_TRUE(torch::equal(net->forward(x), net->forward(x)));
  FConvOptions plain = Options("vanilla");
  torch::manual_seed(2);
  FConv reference(plain);  // same init draws: dropout adds no parameters
  reference->eval();
  EXPECT_TRUE(torch::allclose(net->forward(x), reference->forward(x)));
}

}  // namespace
}  // namespace deep_weight_prior
