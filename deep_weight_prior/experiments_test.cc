#include "deep_weight_prior/experiments.h"

#include <signal.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>

#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "common/dist/testing.h"
#include "common/train/checkpoint.h"
#include "common/util/interrupt.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deep_weight_prior {
namespace {

using common::data::InMemoryDataset;

// Two classes of 28x28 images: bright left half (0) or bright right half (1), plus noise.
InMemoryDataset Halves(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  const torch::Tensor y = torch::arange(n) % 2;
  torch::Tensor x = 0.2 * torch::rand({n, 1, 28, 28});
  for (int64_t i = 0; i < n; ++i) x[i].narrow(2, y[i].item<int64_t>() * 14, 14) += 0.6;
  return InMemoryDataset(x, y);
}

TEST(Experiments, LinearRuleValues) {
  EXPECT_DOUBLE_EQ(LinearRuleLr(1.0, 0, 10, 0), 1.0);
  EXPECT_NEAR(LinearRuleLr(1.0, 0, 10, 9), 0.1, 1e-15);  // lr / epochs at the last epoch
  EXPECT_DOUBLE_EQ(LinearRuleLr(1.0, 5, 10, 5), 1.0);
  EXPECT_NEAR(LinearRuleLr(1.0, 5, 10, 7), 0.6, 1e-15);
  EXPECT_NEAR(LinearRuleLr(1e-3, 0, 10000, 9999), 1e-7, 1e-18);
}

TEST(Experiments, FewShotIsStratified) {
  const InMemoryDataset data(torch::zeros({1000, 1}), torch::arange(1000) % 10);
  const auto s = FewShot(data, 50, 3);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->size(), 50);
  EXPECT_TRUE(torch::equal(torch::bincount(s->targets()), torch::full({10}, 5, torch::kInt64)));
}

TEST(Experiments, EnsembleAveragesProbabilities) {
  NetOptions o;
  o.c1 = 2, o.c2 = 3;
  DwpNet net(o);
  for (auto& c : net->convs) c.bayes->rho.data().fill_(-1.0);  // visible noise
  const torch::Tensor x = torch::rand({4, 1, 28, 28});
  torch::manual_seed(9);
  const torch::Tensor p = EnsembleProbabilities(*net, x, 3);
  torch::manual_seed(9);
  torch::Tensor expected = torch::zeros_like(p);
  for (int t = 0; t < 3; ++t) expected += torch::softmax(net->forward(x), 1) / 3;
  EXPECT_TRUE(torch::allclose(p, expected, 1e-6, 1e-7));
  EXPECT_FALSE(torch::allclose(p, torch::softmax(net->forward(x), 1), 1e-3, 1e-4));
}

TEST(Experiments, TrainNetAndTrainBnnLearnASeparableTask) {
  const InMemoryDataset train = Halves(200, 1), test = Halves(200, 2);
  NetConfig nc;
  nc.net.net_cfg = "vanilla", nc.net.c1 = 4, nc.net.c2 = 4, nc.net.classes = 2, nc.epochs = 5,
  nc.bs = 50, nc.lr = 3e-3;
  const auto net = TrainNet(nc, {}, train, test);
  ASSERT_TRUE(net.ok()) << net.status();
  EXPECT_GT(net->test_acc, 0.95);
  BnnConfig bc;
  bc.net = nc.net, bc.net.net_cfg = "bayes", bc.prior_list = {"sn", "sn"}, bc.epochs = 5,
  bc.bs = 50, bc.lr = 3e-3, bc.ens = 3;
  const auto bnn = TrainBnn(bc, {}, train, test);
  ASSERT_TRUE(bnn.ok()) << bnn.status();
  EXPECT_GT(bnn->ens_acc, 0.9);
  EXPECT_GT(bnn->det_acc, 0.9);
  EXPECT_GT(bnn->kl, 0);
}

NetConfig SmallNet() {
  NetConfig nc;
  nc.net.net_cfg = "vanilla", nc.net.c1 = 4, nc.net.c2 = 4, nc.net.classes = 2;
  nc.epochs = 4, nc.bs = 50, nc.lr = 3e-3, nc.l2 = 1e-3;
  return nc;
}

// The reference's columns after epoch 1 and every eval_freq-th (or, with fastconv, steps).
TEST(Experiments, TrainNetEvaluatesAsTheReference) {
  const InMemoryDataset train = Halves(200, 1), test = Halves(100, 2);
  NetConfig nc = SmallNet();
  nc.eval_freq = 2;
  std::vector<NetEval> rows;
  auto collect = [&](const NetEval& e) {
    rows.push_back(e);
    return absl::OkStatus();
  };
  const auto r = TrainNet(nc, {}, train, test, collect);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(rows.size(), 3u);
  const int64_t epochs[] = {1, 2, 4};
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].epoch, epochs[i]);
    EXPECT_EQ(rows[i].step, epochs[i] * 4);  // 200 examples in batches of 50
    EXPECT_NEAR(rows[i].lr, 3e-3 * (1 - (epochs[i] - 1) / 4.0), 1e-15);
    EXPECT_GT(rows[i].loss, rows[i].train_nll);  // + l2 sum p^2
    EXPECT_GT(rows[i].l2_norm, 0);
  }
  EXPECT_EQ(rows.back().test_acc, r->test_acc);
  rows.clear();
  nc.fastconv = true, nc.eval_freq = 3;
  ASSERT_TRUE(TrainNet(nc, {}, train, test, collect).ok());
  std::vector<int64_t> steps;
  for (const NetEval& e : rows) steps.push_back(e.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 3, 6, 9, 12, 15}));
}

// A run killed in its third epoch resumes after the second and ends as an uninterrupted one.
TEST(Experiments, TrainNetResumesAKilledRun) {
  const InMemoryDataset train = Halves(200, 1), test = Halves(100, 2);
  NetConfig nc = SmallNet();
  const auto straight = TrainNet(nc, {}, train, test);
  ASSERT_TRUE(straight.ok());
  nc.checkpoint_path = common::data::TestDir("net_resume") + "/checkpoint.pt";
  const auto killed = TrainNet(nc, {}, train, test, [](const NetEval& e) {
    return e.epoch == 3 ? absl::AbortedError("killed") : absl::OkStatus();
  });
  EXPECT_EQ(killed.status().code(), absl::StatusCode::kAborted);
  nc.resume = true;
  const auto resumed = TrainNet(nc, {}, train, test);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  const auto a = straight->net->parameters(), b = resumed->net->parameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << i;
}

BnnConfig SmallBnn() {
  BnnConfig bc;
  bc.net.net_cfg = "bayes", bc.net.c1 = 4, bc.net.c2 = 4, bc.net.classes = 2;
  bc.prior_list = {"sn", "sn"}, bc.epochs = 5, bc.bs = 50, bc.lr = 3e-3, bc.ens = 3;
  return bc;
}

// The reference evaluates after epoch 1 and every eval_freq-th epoch, at the LR of that epoch.
TEST(Experiments, TrainBnnEvaluatesAtEpochOneAndEveryEvalFreq) {
  const InMemoryDataset train = Halves(200, 1), test = Halves(100, 2);
  BnnConfig bc = SmallBnn();
  bc.eval_freq = 2;
  std::vector<BnnEval> evals;
  const auto r = TrainBnn(bc, {}, train, test, [&](const BnnEval& e) {
    evals.push_back(e);
    return absl::OkStatus();
  });
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(evals.size(), 3u);
  const double lr_of[] = {0, 3e-3, 3e-3 * 0.8, 0, 3e-3 * 0.4};  // lr (1 - t / 5) in epoch t + 1
  for (const BnnEval& e : evals) {
    EXPECT_NEAR(e.lr, lr_of[e.epoch], 1e-15) << e.epoch;
    EXPECT_GT(e.train_nll, 0) << e.epoch;
    EXPECT_GT(e.test.kl, 0) << e.epoch;
  }
  EXPECT_EQ(evals[0].epoch, 1);
  EXPECT_EQ(evals[1].epoch, 2);
  EXPECT_EQ(evals[2].epoch, 4);
  EXPECT_LT(evals[2].train_nll, evals[0].train_nll);
}

// A run killed in its fourth epoch (checkpoints after the second) resumes there and ends with the
// same numbers as an uninterrupted run.
TEST(Experiments, TrainBnnResumesAKilledRun) {
  const InMemoryDataset train = Halves(200, 1), test = Halves(100, 2);
  BnnConfig bc = SmallBnn();
  bc.eval_freq = 2;
  const auto straight = TrainBnn(bc, {}, train, test);
  ASSERT_TRUE(straight.ok()) << straight.status();
  bc.checkpoint_path = common::data::TestDir("bnn_resume") + "/checkpoint.pt";
  const auto killed = TrainBnn(bc, {}, train, test, [](const BnnEval& e) {
    return e.epoch == 4 ? absl::AbortedError("killed") : absl::OkStatus();
  });
  EXPECT_EQ(killed.status().code(), absl::StatusCode::kAborted);
  bc.resume = true;
  std::vector<int64_t> epochs;
  const auto resumed = TrainBnn(bc, {}, train, test, [&](const BnnEval& e) {
    epochs.push_back(e.epoch);
    return absl::OkStatus();
  });
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(epochs, (std::vector<int64_t>{4}));  // epochs 3-5 again; evaluation after the 4th
  EXPECT_EQ(resumed->ens_acc, straight->ens_acc);
  EXPECT_EQ(resumed->test_nll, straight->test_nll);
  EXPECT_EQ(resumed->kl, straight->kl);
}

// Three classes of 32x32 colour images: class c has channel c brighter, plus noise.
InMemoryDataset Colours(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  const torch::Tensor y = torch::arange(n) % 3;
  torch::Tensor x = 0.3 * torch::rand({n, 3, 32, 32});
  for (int64_t i = 0; i < n; ++i) x[i][y[i].item<int64_t>()] += 0.5;
  return InMemoryDataset(x, y);
}

TEST(Experiments, CifarModelsLearnAColourTask) {
  const InMemoryDataset train = Colours(150, 1), test = Colours(150, 2);
  NetConfig nc;
  nc.net.model = "cifarnetnew", nc.net.model_size = 1.0 / 16, nc.net.net_cfg = "vanilla",
  nc.net.classes = 3;
  nc.epochs = 4, nc.bs = 50, nc.lr = 3e-3, nc.aug = true;
  const auto net = TrainNet(nc, {}, train, test);
  ASSERT_TRUE(net.ok()) << net.status();
  EXPECT_GT(net->test_acc, 0.9);
  // A CIFARNet BNN (the reference crashes on --model cifarnet in train-bnn).
  BnnConfig bc;
  bc.net = nc.net, bc.net.model = "cifarnet", bc.net.net_cfg = "bayes1000", bc.prior_list = {"sn"};
  // Evaluated in eval mode, as the reference: enough steps for BatchNorm's running statistics.
  bc.epochs = 12, bc.bs = 50, bc.lr = 3e-3, bc.ens = 2;
  const auto bnn = TrainBnn(bc, {}, train, test);
  ASSERT_TRUE(bnn.ok()) << bnn.status();
  EXPECT_GT(bnn->ens_acc, 0.9);
  EXPECT_GT(bnn->kl, 0);
  NetConfig fconv_aug;
  fconv_aug.aug = true;
  EXPECT_THAT(std::string(TrainNet(fconv_aug, {}, train, test).status().message()),
              ::testing::HasSubstr("--aug is for the CIFAR models"));
}

// A small CIFAR net with augmentation on the colour task, for the resume tests below.
NetConfig AugmentedColourNet(int64_t epochs) {
  NetConfig nc;
  nc.net.model = "cifarnetnew", nc.net.model_size = 1.0 / 16, nc.net.net_cfg = "vanilla",
  nc.net.classes = 3;
  nc.epochs = epochs, nc.bs = 50, nc.lr = 3e-3, nc.aug = true;
  return nc;
}

void ExpectSameParameters(const NetResult& a, const NetResult& b) {
  const auto pa = a.net->parameters(), pb = b.net->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t k = 0; k < pa.size(); ++k) EXPECT_TRUE(torch::equal(pa[k], pb[k])) << k;
}

// --aug: the augmentation generator runs across epochs, so its state is part of the checkpoint;
// a run killed in its third epoch resumes to the uninterrupted run's weights.
TEST(Experiments, TrainNetWithAugmentationResumesAKilledRun) {
  const InMemoryDataset train = Colours(150, 1), test = Colours(60, 2);
  NetConfig nc = AugmentedColourNet(/*epochs=*/4);
  const auto straight = TrainNet(nc, {}, train, test);
  ASSERT_TRUE(straight.ok()) << straight.status();
  nc.checkpoint_path = common::data::TestDir("net_resume_aug") + "/checkpoint.pt";
  const auto killed = TrainNet(nc, {}, train, test, [](const NetEval& e) {
    return e.epoch == 3 ? absl::AbortedError("killed") : absl::OkStatus();
  });
  EXPECT_EQ(killed.status().code(), absl::StatusCode::kAborted);
  nc.resume = true;
  const auto resumed = TrainNet(nc, {}, train, test);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  ExpectSameParameters(*straight, *resumed);
}

// SIGTERM inside an epoch: train_net stops after the current step with a mid-epoch checkpoint
// (the augmentation generator's state included) and the resumed run ends as an uninterrupted one.
TEST(Experiments, TrainNetInterruptedMidEpochResumes) {
  const InMemoryDataset train = Colours(150, 1), test = Colours(60, 2);
  NetConfig nc = AugmentedColourNet(/*epochs=*/2);
  const auto straight = TrainNet(nc, {}, train, test);
  ASSERT_TRUE(straight.ok()) << straight.status();
  nc.checkpoint_path = common::data::TestDir("net_interrupt") + "/checkpoint.pt";
  common::util::RequestInterrupt(SIGTERM);
  const auto stopped = TrainNet(nc, {}, train, test);
  common::util::ClearInterruptForTesting();
  ASSERT_TRUE(common::util::IsInterrupted(stopped.status())) << stopped.status();
  EXPECT_THAT(std::string(stopped.status().message()),
              ::testing::HasSubstr("at step 1 (epoch 1, batch 1)"));
  nc.resume = true;
  const auto resumed = TrainNet(nc, {}, train, test);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  ExpectSameParameters(*straight, *resumed);
}

// The DWP regulariser pulls the kernels towards the VAE's high-density region: with a large
// coefficient the kernels' -ELBO under that VAE ends lower than without it (same seed, same data).
TEST(Experiments, DwpRegulariserLowersTheKernelsVaeLoss) {
  const InMemoryDataset train = Halves(100, 1), test = Halves(50, 2);
  torch::manual_seed(3);
  KernelVae vae7(KernelVaeOptions(7, 2, 8)), vae5(KernelVaeOptions(5, 2, 8));
  KernelInit init;
  init.vaes = {vae7, vae5};
  NetConfig nc;
  nc.net.net_cfg = "vanilla", nc.net.c1 = 4, nc.net.c2 = 4, nc.net.classes = 2, nc.epochs = 10,
  nc.bs = 25, nc.lr = 1e-2;
  auto vae_loss = [&](NetResult& r) {
    torch::NoGradGuard no_grad;
    torch::manual_seed(9);  // the same z samples for both nets
    double total = 0;
    for (size_t i = 0; i < 2; ++i) {
      const torch::Tensor& w = r.net->convs[i].kernel();
      total += (i == 0 ? vae7 : vae5)
                   ->Loss(w.reshape({-1, 1, w.size(2), w.size(3)}))
                   .total()
                   .item<double>();
    }
    return total;
  };
  auto plain = TrainNet(nc, init, train, test);
  nc.dwp_reg = 1.0;
  auto regularised = TrainNet(nc, init, train, test);
  ASSERT_TRUE(plain.ok() && regularised.ok()) << regularised.status();
  EXPECT_LT(vae_loss(*regularised), vae_loss(*plain) - 5.0);  // 387.9 vs 397.8 here
  EXPECT_EQ(plain->dwp_reg, 0);
  EXPECT_NE(regularised->dwp_reg, 0);
  nc.dwp_reg = 1.0;
  EXPECT_THAT(std::string(TrainNet(nc, {}, train, test).status().message()),
              ::testing::HasSubstr("needs --vae_list"));
}

TEST(Experiments, PretrainedCopiesADeterministicNetIntoTheBnn) {
  torch::manual_seed(8);
  NetOptions vanilla;
  vanilla.net_cfg = "vanilla", vanilla.c1 = 3, vanilla.c2 = 5;
  DwpNet source(vanilla);
  const std::string path = ::testing::TempDir() + "/pretrained.pt";
  ASSERT_TRUE(common::train::SaveStateDict(path, *source).ok());
  NetOptions bayes = vanilla;
  bayes.net_cfg = "bayes";
  DwpNet bnn(bayes);
  const torch::Tensor rho = bnn->convs[1].bayes->rho.detach().clone();
  ASSERT_TRUE(CopyPretrained(*bnn, path).ok());
  EXPECT_TRUE(torch::equal(bnn->convs[0].kernel(), source->convs[0].kernel()));  // into the means
  EXPECT_TRUE(torch::equal(bnn->convs[1].bayes->bias, source->convs[1].plain->bias));
  EXPECT_TRUE(torch::equal(bnn->linear_classifier->weight, source->linear_classifier->weight));
  EXPECT_TRUE(torch::equal(bnn->convs[1].bayes->rho, rho));  // variances keep their init
  bayes.c2 = 6;  // another width: a clear error naming the tensor
  DwpNet wider(bayes);
  EXPECT_THAT(std::string(CopyPretrained(*wider, path).message()),
              ::testing::HasSubstr("check --hid_dim"));
  EXPECT_FALSE(CopyPretrained(*bnn, path + ".missing").ok());
}

TEST(Experiments, BadConfigurations) {
  const InMemoryDataset d = Halves(20, 1);
  BnnConfig bc;
  bc.net.c1 = 2, bc.net.c2 = 2, bc.net.classes = 2, bc.prior_list = {"loguniform", "loguniform"},
  bc.epochs = 1;
  EXPECT_THAT(std::string(TrainBnn(bc, {}, d, d).status().message()),
              ::testing::HasSubstr("bayes-mtrunca"));
  bc.prior_list = {"vae", "sn"};
  EXPECT_THAT(std::string(TrainBnn(bc, {}, d, d).status().message()),
              ::testing::HasSubstr("needs a VAE"));
  VaeConfig vc;
  vc.vae = KernelVaeOptions(5, 2, 4);
  EXPECT_THAT(std::string(TrainVae(vc, {torch::zeros({4, 1, 7, 7}), torch::zeros({2, 1, 7, 7})})
                              .status()
                              .message()),
              ::testing::HasSubstr("--kernel_dim=5 but the kernels are 7x7"));
  EXPECT_FALSE(LoadVae(::testing::TempDir() + "/no_vae").ok());
}

TEST(Experiments, VaeSaveLoadRoundTrip) {
  VaeConfig vc;
  vc.vae = KernelVaeOptions(3, 2, 4), vc.epochs = 2, vc.bs = 16;
  const auto r =
      TrainVae(vc, {torch::randn({64, 1, 3, 3}) * 0.1, torch::randn({16, 1, 3, 3}) * 0.1});
  ASSERT_TRUE(r.ok()) << r.status();
  KernelVae vae = r->vae;
  const std::string dir = ::testing::TempDir() + "/vae";
  ASSERT_TRUE(SaveVae(dir, vae).ok());
  auto back = LoadVae(dir);
  ASSERT_TRUE(back.ok()) << back.status();
  KernelVae loaded = *back;
  const torch::Tensor z = torch::randn({5, 2, 1, 1});
  EXPECT_TRUE(torch::allclose(loaded->Decode(z).mean, vae->Decode(z).mean));
}

KernelSplit SmoothKernels() {
  torch::manual_seed(9);
  const torch::Tensor ramp = torch::linspace(-1, 1, 5);
  auto make = [&](int64_t n) {  // scaled horizontal ramps: a one-dimensional family plus noise
    return (torch::randn({n, 1, 1, 1}) * ramp.view({1, 1, 1, 5}) * 0.2 +
            0.01 * torch::randn({n, 1, 5, 5}));
  };
  return {make(256), make(64)};
}

// Held-out fit per kernel: with all weights zero the -ELBO does not depend on z (closed form, as
// kernel_vae_test's LossMatchesAHandComputation) and is the same for every kernel count and
// number of samples; a VAE trained on ramps fits held-out ramps better than noise of the same norm.
TEST(Experiments, HeldOutFitIsPerKernelAndSeparatesFamilies) {
  KernelVae zero(KernelVaeOptions(5, 2, 4));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : zero->named_parameters()) p.value().zero_();
    zero->encoder->mu->bias.fill_(0.5);
    zero->encoder->var->bias.fill_(0.2);
    zero->decoder->mu->bias.fill_(0.1);
    zero->decoder->var->bias.fill_(-1.0);
  }
  const torch::Tensor w = torch::arange(50, torch::kFloat).reshape({2, 1, 5, 5}) / 50;
  const double zv = std::log1p(std::exp(0.2)), wv = std::log1p(std::exp(-1.0));
  double nll = 0;
  for (int i = 0; i < 50; ++i) {
    const double x = i / 50.0;
    nll += ((x - 0.1) * (x - 0.1) / (2 * wv) + 0.5 * std::log(wv) + 0.5 * std::log(2 * M_PI)) / 2;
  }
  const double kl = 2 * 0.5 * (zv + 0.25 - 1 - std::log(zv));  // per kernel: 2 latents
  for (int samples : {1, 7}) {
    const VaeFit fit = HeldOutFit(zero, w, samples).value();
    EXPECT_EQ(fit.kernels, 2);
    EXPECT_NEAR(fit.nll, nll, 1e-4);
    EXPECT_NEAR(fit.kl, kl, 1e-6);
    EXPECT_NEAR(fit.neg_elbo, nll + kl, 1e-4);
  }
  EXPECT_THAT(std::string(HeldOutFit(zero, torch::zeros({3, 1, 7, 7})).status().message()),
              ::testing::HasSubstr("[N, 1, 5, 5]"));
  EXPECT_FALSE(HeldOutFit(zero, torch::zeros({0, 1, 5, 5})).ok());

  VaeConfig vc;
  vc.vae = KernelVaeOptions(5, 2, 8), vc.epochs = 30, vc.bs = 32;
  const KernelSplit ramps = SmoothKernels();
  auto r = TrainVae(vc, ramps);
  ASSERT_TRUE(r.ok()) << r.status();
  torch::manual_seed(3);
  torch::Tensor noise = torch::randn_like(ramps.test);
  noise =
      noise * (ramps.test.flatten(1).norm(2, 1) / noise.flatten(1).norm(2, 1)).view({-1, 1, 1, 1});
  const double on_ramps = HeldOutFit(r->vae, ramps.test).value().neg_elbo;
  const double on_noise = HeldOutFit(r->vae, noise).value().neg_elbo;
  EXPECT_LT(on_ramps, on_noise - 10) << on_ramps << " vs " << on_noise;
}

// Every epoch gives a row; the test -ELBO is its NLL plus its KL; evaluating does not change the
// training run; the loss falls.
TEST(Experiments, TrainVaeReportsEveryEpoch) {
  VaeConfig vc;
  vc.vae = KernelVaeOptions(5, 2, 8), vc.epochs = 4, vc.bs = 64;
  const KernelSplit data = SmoothKernels();
  std::vector<VaeEpoch> rows;
  const auto with_rows = TrainVae(vc, data, [&](const VaeEpoch& e) {
    rows.push_back(e);
    return absl::OkStatus();
  });
  ASSERT_TRUE(with_rows.ok()) << with_rows.status();
  ASSERT_EQ(rows.size(), 4u);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].epoch, static_cast<int64_t>(i) + 1);
    EXPECT_NEAR(rows[i].test_loss, rows[i].test_nll + rows[i].test_kl,
                1e-4 * std::abs(rows[i].test_loss));
    EXPECT_GT(rows[i].test_kl, 0);
  }
  EXPECT_LT(rows.back().train_loss, rows.front().train_loss);
  const auto without = TrainVae(vc, data);
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(without->test_loss_per_kernel, with_rows->test_loss_per_kernel);
}

// A run killed in its third epoch resumes after the second and ends as an uninterrupted one.
TEST(Experiments, TrainVaeResumesAKilledRun) {
  VaeConfig vc;
  vc.vae = KernelVaeOptions(5, 2, 8), vc.epochs = 4, vc.bs = 64;
  const KernelSplit data = SmoothKernels();
  const auto straight = TrainVae(vc, data);
  ASSERT_TRUE(straight.ok());
  vc.checkpoint_path = common::data::TestDir("vae_resume") + "/checkpoint.pt";
  const auto killed = TrainVae(vc, data, [](const VaeEpoch& e) {
    return e.epoch == 3 ? absl::AbortedError("killed") : absl::OkStatus();
  });
  EXPECT_EQ(killed.status().code(), absl::StatusCode::kAborted);
  vc.resume = true;
  std::vector<int64_t> epochs;
  const auto resumed = TrainVae(vc, data, [&](const VaeEpoch& e) {
    epochs.push_back(e.epoch);
    return absl::OkStatus();
  });
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(epochs, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(resumed->train_loss_per_kernel, straight->train_loss_per_kernel);
  EXPECT_EQ(resumed->test_loss_per_kernel, straight->test_loss_per_kernel);
}

// Data-parallel: 2 ranks started by the test (Gloo on localhost) end with one process's
// weights; 203 images in batches of 50 (the last, 3, splits 1 / 2) and an l2 term, which each
// rank adds with its share's weight.
NetConfig DataParallelNet() {
  NetConfig nc;
  nc.net.net_cfg = "vanilla", nc.net.c1 = 4, nc.net.c2 = 4, nc.net.classes = 2, nc.epochs = 2,
  nc.bs = 50, nc.lr = 3e-3, nc.l2 = 1e-3;
  return nc;
}

TEST(DataParallelRank, TrainNet) {
  if (!common::dist::InSpawnedRank()) GTEST_SKIP() << "runs as a rank of DataParallel.*";
  const auto r = TrainNet(DataParallelNet(), {}, Halves(203, 1), Halves(100, 2));
  ASSERT_TRUE(r.ok()) << r.status();
  if (std::string(std::getenv("RANK")) == "0") {
    ASSERT_TRUE(common::train::SaveStateDict(std::getenv("WEIGHTS"), *r->net).ok());
  }
}

TEST(DataParallel, TwoRanksTrainLikeOneProcess) {
  const auto one = TrainNet(DataParallelNet(), {}, Halves(203, 1), Halves(100, 2));
  ASSERT_TRUE(one.ok()) << one.status();
  const std::string weights = common::data::TestDir("dwp_dp") + "/two.pt";
  const auto ranks =
      common::dist::SpawnRanks(2, "DataParallelRank.TrainNet", {"WEIGHTS=" + weights});
  for (const auto& r : ranks) ASSERT_EQ(r.exit_code, 0) << r.output;
  const common::train::TensorMap a = common::train::StateDict(*one->net);
  const common::train::TensorMap b = common::train::LoadTensorMap(weights).value();
  EXPECT_EQ(common::dist::StateDictDifferences(a, b, 1e-4, 1e-5), "");
}

}  // namespace
}  // namespace deep_weight_prior
