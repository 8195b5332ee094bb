#include "deep_weight_prior/nets.h"

#include <torch/torch.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deep_weight_prior {
namespace {

using ::testing::HasSubstr;

NetOptions Options(const std::string& cfg, int64_t c1 = 4, int64_t c2 = 6) {
  NetOptions o;
  o.net_cfg = cfg, o.c1 = c1, o.c2 = c2;
  return o;
}

TEST(DwpNet, ShapesAndConfigs) {
  DwpNet bnn(Options("bayes", 32, 128));
  EXPECT_EQ(bnn->forward(torch::rand({2, 1, 28, 28})).sizes(), (std::vector<int64_t>{2, 10}));
  EXPECT_EQ(bnn->linear_classifier->weight.size(1), 1152);  // 128 * 3 * 3 (pooling floors 7 -> 3)
  EXPECT_TRUE(bnn->convs[0].bayes && bnn->convs[1].bayes);
  DwpNet half(Options("bayes-1-0"));
  EXPECT_TRUE(half->convs[0].bayes && !half->convs[1].bayes);
  DwpNet trunc(Options("bayes-mtrunca"));
  EXPECT_EQ(trunc->convs[1].bayes->options.posterior(), Posterior::kMuTruncAlpha);
  NetOptions bad = Options("vanilla-do");
  EXPECT_THAT(std::string(Validate(bad).message()), HasSubstr("two dropout rates"));
}

TEST(DwpNet, VaeInitWritesDecoderMeans) {
  torch::manual_seed(0);
  DwpNet net(Options("vanilla", 3, 2));
  KernelVae vae(KernelVaeOptions(7, 2, 4));
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5),
                   same = at::make_generator<at::CPUGeneratorImpl>(5);
  ASSERT_TRUE(InitKernels(*net, 0, "vae", vae, {}, gen).ok());
  torch::NoGradGuard no_grad;
  const torch::Tensor expected =
      vae->Decode(torch::randn({3, 2, 1, 1}, same)).mean.reshape({3, 1, 7, 7});
  EXPECT_TRUE(torch::allclose(net->convs[0].kernel(), expected));
  EXPECT_THAT(std::string(InitKernels(*net, 1, "vae", vae, {}, gen).message()),
              HasSubstr("5x5 kernels but its VAE is 7x7"));
}

TEST(DwpNet, FilterInitDrawsDistinctSourceKernels) {
  DwpNet net(Options("bayes", 3, 4));
  const torch::Tensor source =
      torch::arange(20, torch::kFloat).view({20, 1, 1, 1}).expand({20, 1, 5, 5}).contiguous();
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
  ASSERT_TRUE(InitKernels(*net, 1, "filters", {nullptr}, source, gen).ok());
  const torch::Tensor ids =
      std::get<0>(net->convs[1].kernel().flatten(2).select(2, 0).flatten().sort());
  EXPECT_EQ(std::get<0>(at::_unique(ids)).numel(), 12);  // 4 x 3 kernels, no repeats
  EXPECT_THAT(
      std::string(InitKernels(*net, 1, "filters", {nullptr}, source.slice(0, 0, 5), gen).message()),
      HasSubstr("needs 12 source kernels, the file has 5"));
}

TEST(DwpNet, ReconInitWritesReconstructionsOfSourceKernels) {
  torch::manual_seed(1);
  DwpNet net(Options("vanilla", 3, 2));
  KernelVae vae(KernelVaeOptions(7, 2, 4));
  vae->eval();
  const torch::Tensor source = torch::randn({10, 1, 7, 7});
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(2),
                   same = at::make_generator<at::CPUGeneratorImpl>(2);
  ASSERT_TRUE(InitKernels(*net, 0, "recon", vae, source, gen).ok());
  // By hand: the same draw of 3 kernels, their posterior means plus the same noise, decoded.
  torch::NoGradGuard no_grad;
  const torch::Tensor picked =
      source.index_select(0, torch::randperm(10, same, torch::kInt64).slice(0, 0, 3));
  const Gaussian q = vae->Encode(picked);
  const torch::Tensor z = q.mean + q.var.sqrt() * torch::randn(q.mean.sizes(), same);
  EXPECT_TRUE(torch::allclose(net->convs[0].kernel(), vae->Decode(z).mean.reshape({3, 1, 7, 7})));
  EXPECT_THAT(std::string(InitKernels(*net, 0, "recon", {nullptr}, source, gen).message()),
              HasSubstr("needs --vae_list"));
  EXPECT_THAT(std::string(InitKernels(*net, 0, "pretrained", vae, source, gen).message()),
              HasSubstr("or recon"));
}

TEST(DwpNet, NetworkKlSumsTheBayesianLayers) {
  DwpNet net(Options("bayes-mtrunca"));
  const auto kl = NetworkKl(*net, {{PriorKind::kLogUniform}, {PriorKind::kLogUniform}});
  ASSERT_TRUE(kl.ok());
  const double per = KlLogUniform(1 / (1 + std::exp(2.0)));
  EXPECT_NEAR(kl->item<double>(), per * (4 * 49 + 6 * 4 * 25), 1e-2);
  DwpNet lv(Options("bayes"));
  EXPECT_FALSE(NetworkKl(*lv, {{PriorKind::kLogUniform}, {PriorKind::kStandardNormal}}).ok());
}

TEST(DwpNet, VanillaDropoutOnlyInTraining) {
  torch::manual_seed(2);
  NetOptions o = Options("vanilla-do");
  o.dropout = {0.5, 0.5};
  DwpNet net(o);
  const torch::Tensor x = torch::rand({3, 1, 28, 28});
  net->train();
  EXPECT_FALSE(torch::allclose(net->forward(x), net->forward(x)));  // fresh masks
  net->eval();
  EXPECT_TRUE(torch::equal(net->forward(x), net->forward(x)));
  NetOptions plain = Options("vanilla");
  torch::manual_seed(2);
  DwpNet reference(plain);  // same init draws: dropout adds no parameters
  reference->eval();
  EXPECT_TRUE(torch::allclose(net->forward(x), reference->forward(x)));
}

NetOptions Cifar(const std::string& model, const std::string& cfg, double k = 0.125) {
  NetOptions o;
  o.model = model, o.net_cfg = cfg, o.model_size = k;
  return o;
}

int64_t Count(const std::vector<torch::Tensor>& params) {
  int64_t n = 0;
  for (const torch::Tensor& p : params) n += p.numel();
  return n;
}

TEST(DwpNet, CifarNetShapesParameterCountAndNames) {
  DwpNet net(Cifar("cifarnet", "vanilla"));  // d1 = 16, d2 = 32
  net->eval();
  EXPECT_EQ(net->forward(torch::rand({2, 3, 32, 32})).sizes(), (std::vector<int64_t>{2, 10}));
  ASSERT_EQ(net->convs.size(), 4u);
  // convs (weights + biases) + 4 BatchNorm2d (2 per channel) + fc1 + BN1d + linear, by hand:
  const int64_t convs =
      (3 * 16 * 49 + 16) + (16 * 32 * 25 + 32) + (32 * 32 * 25 + 32) + (32 * 512 * 25 + 512);
  const int64_t bns = 2 * (16 + 32 + 32 + 512);
  const int64_t head = (512 * 512 + 512) + 2 * 512 + (512 * 10 + 10);
  EXPECT_EQ(Count(net->parameters()), convs + bns + head);
  EXPECT_EQ(Count(net->FeatureParameters()), convs + bns);
  EXPECT_EQ(Count(net->RfeParameters()), head + bns);  // --rfe: classifier + BN in features
  const auto names = net->named_parameters();
  EXPECT_TRUE(names.contains("classifier.fc1.weight") && names.contains("classifier.linear.bias") &&
              names.contains("bn4.weight"));
  EXPECT_EQ(net->InputShape(), std::make_pair(int64_t{3}, int64_t{32}));
}

TEST(DwpNet, CifarConfigsMapBayesianLayers) {
  DwpNet half(Cifar("cifarnet", "bayes1100"));
  EXPECT_TRUE(half->convs[0].bayes && half->convs[1].bayes && !half->convs[2].bayes &&
              !half->convs[3].bayes);
  DwpNet trunc(Cifar("cifarnet", "bayes1000-mtrunca"));
  EXPECT_EQ(trunc->convs[0].bayes->options.posterior(), Posterior::kMuTruncAlpha);
  EXPECT_FALSE(trunc->convs[1].bayes);
  DwpNet newer(Cifar("cifarnetnew", "bayes110"));
  ASSERT_EQ(newer->convs.size(), 3u);
  EXPECT_TRUE(newer->convs[1].bayes && !newer->convs[2].bayes);
  EXPECT_TRUE(newer->conv_bns.empty());
  EXPECT_THAT(std::string(Validate(Cifar("cifarnetnew", "bayes")).message()),
              HasSubstr("must be one of vanilla, vanilla-nofc"));
  EXPECT_THAT(std::string(Validate(Cifar("lenet", "vanilla")).message()),
              HasSubstr("--model must be"));
}

TEST(DwpNet, CifarNetNewHeads) {
  torch::manual_seed(3);
  DwpNet nofc(Cifar("cifarnetnew", "bayes100-nofc"));
  // flatten d2 * 5 * 5 straight into the classes
  EXPECT_EQ(nofc->mlp_classifier->size(), 1u);
  EXPECT_EQ(Count(nofc->RfeParameters()), 32 * 25 * 10 + 10);
  DwpNet dropout(Cifar("cifarnetnew", "vanilla-do"));
  const torch::Tensor x = torch::rand({4, 3, 32, 32});
  dropout->train();
  EXPECT_FALSE(torch::allclose(dropout->forward(x), dropout->forward(x)));
  dropout->eval();
  EXPECT_TRUE(torch::equal(dropout->forward(x), dropout->forward(x)));
}

TEST(DwpNet, CifarFilterInitTilesTheSourceTenTimes) {
  DwpNet net(Cifar("cifarnetnew", "vanilla", 1.0 / 128));  // conv1 3 -> 1 channel: 3 kernels
  const torch::Tensor one = torch::full({1, 1, 7, 7}, 0.5);
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
  ASSERT_TRUE(InitKernels(*net, 0, "filters", {nullptr}, one, gen).ok());  // 1 x 10 >= 3
  EXPECT_TRUE(torch::equal(net->convs[0].kernel(), torch::full({1, 3, 7, 7}, 0.5)));
  const torch::Tensor few = torch::zeros({1, 1, 5, 5});  // conv2: 2 x 1 = 2 kernels; ok, conv3 4
  EXPECT_TRUE(InitKernels(*net, 2, "filters", {nullptr}, few, gen).ok());
  DwpNet wide(Cifar("cifarnetnew", "vanilla", 1.0 / 32));  // conv2: 8 x 4 = 32 > 10
  EXPECT_THAT(std::string(InitKernels(*wide, 1, "filters", {nullptr}, few, gen).message()),
              HasSubstr("needs 32 source kernels, the file has 1 (x10)"));
}

}  // namespace
}  // namespace deep_weight_prior
