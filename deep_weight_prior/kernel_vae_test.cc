#include "deep_weight_prior/kernel_vae.h"

#include <torch/torch.h>

#include <cmath>

#include "gtest/gtest.h"

namespace deep_weight_prior {
namespace {

TEST(KernelVae, ShapesOfTheReferenceVaes) {
  torch::manual_seed(0);
  for (auto [k, z, h] : {std::tuple<int64_t, int64_t, int64_t>{7, 2, 32}, {5, 4, 64}, {3, 2, 8}}) {
    KernelVae vae(KernelVaeOptions(k, z, h));
    const Gaussian q = vae->Encode(torch::randn({6, 1, k, k}));
    EXPECT_EQ(q.mean.sizes(), (std::vector<int64_t>{6, z, 1, 1})) << k;
    EXPECT_GT(q.var.min().item<double>(), 0.0);
    const Gaussian p = vae->Decode(q.mean);
    EXPECT_EQ(p.mean.sizes(), (std::vector<int64_t>{6, 1, k, k})) << k;
    EXPECT_EQ(p.var.sizes(), (std::vector<int64_t>{6, 1, k, k})) << k;
  }
}

TEST(KernelVae, ParameterNamesFollowTheReferenceStateDicts) {
  KernelVae v7(KernelVaeOptions(7, 2, 32));
  const auto p7 = v7->named_parameters();
  for (const char* key :
       {"encoder.features.0.weight", "encoder.features.4.bias", "encoder.fc_mu.weight",
        "encoder.fc_var.weight", "decoder.decoder.4.weight", "decoder.fc_var.bias"}) {
    EXPECT_TRUE(p7.contains(key)) << key;
  }
  EXPECT_EQ(p7["decoder.decoder.0.weight"].sizes(),
            (std::vector<int64_t>{2, 64, 3, 3}));  // ConvT (in, out, 3, 3)
  KernelVae v5(KernelVaeOptions(5, 4, 64));
  const auto p5 = v5->named_parameters();
  for (const char* key :
       {"encoder.features.6.weight", "encoder.fc_sigma.weight", "decoder.decoder.6.weight",
        "decoder.fc_mu.0.weight", "decoder.fc_var.0.bias"}) {
    EXPECT_TRUE(p5.contains(key)) << key;
  }
}

TEST(KernelVae, LossMatchesAHandComputation) {
  // All weights zero: z_mu = b1, z_var = softplus(b2), w_mu = b3, w_var = softplus(b4) everywhere.
  KernelVae vae(KernelVaeOptions(5, 2, 4));
  torch::NoGradGuard no_grad;
  for (auto& p : vae->named_parameters()) p.value().zero_();
  vae->encoder->mu->bias.fill_(0.5);
  vae->encoder->var->bias.fill_(0.2);
  vae->decoder->mu->bias.fill_(0.1);
  vae->decoder->var->bias.fill_(-1.0);
  const torch::Tensor w = torch::arange(50, torch::kFloat).reshape({2, 1, 5, 5}) / 50;
  const VaeLoss loss = vae->Loss(w, torch::zeros({2, 2, 1, 1}));
  const double zv = std::log1p(std::exp(0.2)), wv = std::log1p(std::exp(-1.0));
  double nll = 0;
  for (int i = 0; i < 50; ++i) {
    const double x = i / 50.0;
    nll += (x - 0.1) * (x - 0.1) / (2 * wv) + 0.5 * std::log(wv) + 0.5 * std::log(2 * M_PI);
  }
  const double kl = 4 * 0.5 * (zv + 0.25 - 1 - std::log(zv));  // 2 kernels x 2 latents
  EXPECT_NEAR(loss.nll.item<double>(), nll, 1e-3);
  EXPECT_NEAR(loss.kl.item<double>(), kl, 1e-5);
}

// The decoder's transposed convolutions take the GEMM route (conv_transpose_gemm.h); the plain
// Sequential forward (LibTorch's conv_transpose2d) must give the same means and the same
// gradients with respect to the latent code, for the 7x7 and the 5x5 decoders.
TEST(KernelVae, DecoderGemmRouteEqualsTheModules) {
  torch::manual_seed(4);
  for (auto [k, z, h] : {std::tuple<int64_t, int64_t, int64_t>{7, 2, 32}, {5, 4, 64}}) {
    KernelVae vae(KernelVaeOptions(k, z, h));
    const torch::Tensor code = torch::randn({33, z, 1, 1});
    torch::Tensor a = code.clone().requires_grad_(), b = code.clone().requires_grad_();
    const Gaussian decoded = vae->Decode(a);
    const torch::Tensor got = decoded.mean;
    const torch::Tensor trunk_out = vae->decoder->trunk->forward(b);
    const torch::Tensor want = vae->decoder->mu(trunk_out);
    const torch::Tensor want_var = torch::nn::functional::softplus(vae->decoder->var(trunk_out));
    EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-6)) << k;
    EXPECT_TRUE(torch::allclose(decoded.var, want_var, 1e-5, 1e-6)) << k;
    (got.pow(2).sum() + decoded.var.sum()).backward();
    (want.pow(2).sum() + want_var.sum()).backward();
    EXPECT_TRUE(torch::allclose(a.grad(), b.grad(), 1e-4, 1e-6)) << k;
  }
}

// Training through the GEMM route follows the plain modules' trajectory up to float rounding.
TEST(KernelVae, TrainingThroughTheGemmRouteMatchesTheModules) {
  torch::manual_seed(5);
  KernelVae a(KernelVaeOptions(5, 4, 64));
  torch::manual_seed(5);
  KernelVae b(KernelVaeOptions(5, 4, 64));  // the same initial weights
  const torch::Tensor data = 0.1 * torch::randn({256, 1, 5, 5});
  torch::optim::Adam oa(a->parameters(), 1e-3), ob(b->parameters(), 1e-3);
  for (int step = 0; step < 40; ++step) {
    const torch::Tensor w = data.narrow(0, (step * 64) % 256, 64);
    const torch::Tensor eps = torch::randn({64, 4, 1, 1});
    const torch::Tensor la = a->Loss(w, eps).total();
    const Gaussian q = b->Encode(w);
    const torch::Tensor h = b->decoder->trunk->forward(q.mean + q.var.sqrt() * eps);
    const torch::Tensor lb =
        GaussianNll(w, b->decoder->mu(h), torch::nn::functional::softplus(b->decoder->var(h))) +
        KlToStandardNormal(q.mean, q.var);
    ASSERT_NEAR(la.item<double>(), lb.item<double>(), 1e-4 * std::abs(lb.item<double>()) + 1e-3)
        << "step " << step;
    oa.zero_grad();
    la.backward();
    oa.step();
    ob.zero_grad();
    lb.backward();
    ob.step();
  }
}

// The encoders' 1x1 heads run as matrix products too; the plain modules must agree (all sizes).
TEST(KernelVae, EncoderEqualsTheModules) {
  torch::manual_seed(7);
  for (int64_t k : {3, 5, 7}) {
    KernelVae vae(KernelVaeOptions(k, 3, 16));
    const torch::Tensor w = torch::randn({21, 1, k, k});
    const Gaussian got = vae->Encode(w);
    const torch::Tensor h = vae->encoder->trunk->forward(w);
    EXPECT_TRUE(torch::allclose(got.mean, vae->encoder->mu(h), 1e-5, 1e-6)) << k;
    EXPECT_TRUE(
        torch::allclose(got.var, torch::nn::functional::softplus(vae->encoder->var(h)), 1e-5, 1e-6))
        << k;
  }
}

// A frozen VAE (the prior inside the KL bound) runs its 3x3 convolutions by Toom-Cook transforms
// (toom_conv.h): the whole loss and its gradient with respect to the kernels must equal the plain
// modules', for every kernel size.
TEST(KernelVae, FrozenVaeEqualsTheModules) {
  torch::manual_seed(8);
  for (auto [k, z, h] : {std::tuple<int64_t, int64_t, int64_t>{7, 2, 32}, {5, 4, 64}, {3, 2, 8}}) {
    KernelVae vae(KernelVaeOptions(k, z, h));
    for (auto& p : vae->parameters()) p.requires_grad_(false);
    const torch::Tensor w0 = 0.2 * torch::randn({37, 1, k, k}), eps = torch::randn({37, z, 1, 1});
    torch::Tensor a = w0.clone().requires_grad_(), b = w0.clone().requires_grad_();
    const torch::Tensor got = vae->Loss(a, eps).total();
    const torch::Tensor hq = vae->encoder->trunk->forward(b);
    const torch::Tensor zm = vae->encoder->mu(hq),
                        zv = torch::nn::functional::softplus(vae->encoder->var(hq));
    const torch::Tensor hp = vae->decoder->trunk->forward(zm + zv.sqrt() * eps);
    const torch::Tensor want = GaussianNll(b, vae->decoder->mu(hp),
                                           torch::nn::functional::softplus(vae->decoder->var(hp))) +
                               KlToStandardNormal(zm, zv);
    EXPECT_NEAR(got.item<double>(), want.item<double>(), 1e-5 * std::abs(want.item<double>())) << k;
    got.backward();
    want.backward();
    EXPECT_TRUE(
        torch::allclose(a.grad(), b.grad(), 1e-3, 1e-4 * b.grad().abs().max().item<double>()))
        << k;
  }
}

// The frozen route's accuracy against float64 direct convolutions, with hidden activations as
// large as the released 7x7 VAE's (up to about 90): the 7x7 VAE takes the direct route (bit for
// bit the trained route's decoder means), the 5x5 one the transforms, within 1e-5 of the largest.
TEST(KernelVae, FrozenDecoderMeansAsAccurateAsDirectConvolutions) {
  torch::manual_seed(12);
  for (auto [k, z, h] : {std::tuple<int64_t, int64_t, int64_t>{7, 2, 32}, {5, 4, 64}}) {
    KernelVae vae(KernelVaeOptions(k, z, h));
    {
      torch::NoGradGuard no_grad;
      for (auto& p : vae->decoder->trunk->parameters()) p.mul_(8);  // large hidden activations
    }
    const torch::Tensor zs = 3 * torch::randn({512, z, 1, 1});
    const torch::Tensor trained = vae->Decode(zs).mean.detach();
    KernelVae f64(KernelVaeOptions(k, z, h));
    {
      torch::NoGradGuard no_grad;
      auto dst = f64->named_parameters();
      for (const auto& p : vae->named_parameters()) dst[p.key()].copy_(p.value());
    }
    f64->to(torch::kDouble);
    const torch::Tensor exact = f64->Decode(zs.to(torch::kDouble)).mean.detach();
    for (auto& p : vae->parameters()) p.requires_grad_(false);
    const torch::Tensor frozen = vae->Decode(zs).mean;
    const double scale = exact.abs().max().item<double>();
    const double err = (frozen.to(torch::kDouble) - exact).abs().max().item<double>() / scale;
    EXPECT_LT(err, 1e-5) << k;
    if (k == 7) {
      EXPECT_TRUE(torch::equal(frozen, trained));
    }
  }
}

TEST(KernelVae, CloneIsAnIndependentCopy) {
  torch::manual_seed(6);
  for (int64_t k : {5, 7}) {
    KernelVae vae(KernelVaeOptions(k, 3, 8));
    KernelVae copy = std::dynamic_pointer_cast<KernelVaeImpl>(vae->clone());
    const torch::Tensor w = torch::randn({4, 1, k, k}), eps = torch::randn({4, 3, 1, 1});
    EXPECT_EQ(vae->Loss(w, eps).total().item<double>(), copy->Loss(w, eps).total().item<double>())
        << k;
    {
      torch::NoGradGuard no_grad;
      for (auto& p : copy->parameters()) p.add_(1.0);
    }
    EXPECT_NE(vae->Loss(w, eps).total().item<double>(), copy->Loss(w, eps).total().item<double>())
        << k;
  }
}

TEST(KernelVae, BadOptions) {
  EXPECT_FALSE(Validate(KernelVaeOptions(4, 2, 8)).ok());
  EXPECT_FALSE(Validate(KernelVaeOptions(7, 0, 8)).ok());
}

}  // namespace
}  // namespace deep_weight_prior
