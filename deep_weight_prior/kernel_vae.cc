#include "deep_weight_prior/kernel_vae.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/modules/activation.h>

#include <cmath>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "deep_weight_prior/conv_transpose_gemm.h"
#include "deep_weight_prior/toom_conv.h"

namespace deep_weight_prior {
namespace {

using torch::nn::Conv2d;
using torch::nn::Conv2dOptions;
using torch::nn::ConvTranspose2d;
using torch::nn::ConvTranspose2dOptions;
using torch::nn::ELU;
using torch::nn::Sequential;

Conv2d Conv(int64_t in, int64_t out, int64_t k, int64_t pad = 0) {
  return Conv2d(Conv2dOptions(in, out, k).padding(pad));
}
ConvTranspose2d ConvT(int64_t in, int64_t out) {
  return ConvTranspose2d(ConvTranspose2dOptions(in, out, 3));
}

// Trunks of the encoder and the decoder for each kernel size (ELU after every layer).
std::pair<Sequential, Sequential> Trunks(int64_t k, int64_t z, int64_t h) {
  switch (k) {
    case 7:
      return {
          Sequential(Conv(1, h, 3), ELU(), Conv(h, 2 * h, 3), ELU(), Conv(2 * h, 2 * h, 3), ELU()),
          Sequential(ConvT(z, 2 * h), ELU(), ConvT(2 * h, 2 * h), ELU(), ConvT(2 * h, h), ELU())};
    case 5:
      return {Sequential(Conv(1, h, 3, 1), ELU(), Conv(h, h, 3, 1), ELU(), Conv(h, 2 * h, 3), ELU(),
                         Conv(2 * h, 2 * h, 3), ELU()),
              Sequential(Conv(z, 2 * h, 1), ELU(), ConvT(2 * h, 2 * h), ELU(), ConvT(2 * h, 2 * h),
                         ELU(), Conv(2 * h, h, 1), ELU())};
    default:  // 3
      return {Sequential(Conv(1, h, 3, 1), ELU(), Conv(h, 2 * h, 3), ELU()),
              Sequential(ConvT(z, 2 * h), ELU(), Conv(2 * h, h, 1), ELU())};
  }
}

}  // namespace

absl::Status Validate(const KernelVaeOptions& o) {
  if (o.kernel_dim() != 3 && o.kernel_dim() != 5 && o.kernel_dim() != 7) {
    return absl::InvalidArgumentError(
        absl::StrCat("--kernel_dim must be 3, 5 or 7, got ", o.kernel_dim()));
  }
  if (o.z_dim() < 1 || o.hidden_dim() < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--z_dim and --hidden_dim must be >= 1, got ",
                                                   o.z_dim(), " and ", o.hidden_dim()));
  }
  return absl::OkStatus();
}

torch::Tensor GaussianNll(const torch::Tensor& x, const torch::Tensor& mean,
                          const torch::Tensor& var) {
  return ((x - mean).pow(2) / (2 * var) + 0.5 * var.log()).sum() +
         0.5 * std::log(2 * M_PI) * static_cast<double>(x.numel());
}

torch::Tensor KlToStandardNormal(const torch::Tensor& mean, const torch::Tensor& var) {
  return 0.5 * (var + mean.pow(2) - 1 - var.log()).sum();
}

HeadedNetImpl::HeadedNetImpl(const std::string& trunk_name, Sequential trunk_,
                             const std::string& var_name, Conv2d mu_, Conv2d var_,
                             bool heads_in_sequential)
    : trunk(register_module(trunk_name, trunk_)) {
  if (heads_in_sequential) {  // the 5x5 decoder's fc_mu.0 / fc_var.0
    register_module("fc_mu", Sequential(mu_));
    register_module(var_name, Sequential(var_));
  } else {
    register_module("fc_mu", mu_);
    register_module(var_name, var_);
  }
  mu = mu_, var = var_;
}

void HeadedNetImpl::clone_(torch::nn::Module& other, const c10::optional<torch::Device>& device) {
  torch::NoGradGuard no_grad;
  auto params = named_parameters(), buffers = named_buffers();
  for (const auto& p : other.named_parameters()) params[p.key()].copy_(p.value());
  for (const auto& b : other.named_buffers()) buffers[b.key()].copy_(b.value());
  if (device) to(*device);
}

namespace {

bool IsPointwise(const torch::nn::Conv2dImpl& conv) {
  const auto& o = conv.options;
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  return conv.weight.size(2) == 1 && conv.weight.size(3) == 1 && (*o.stride())[0] == 1 &&
         (*o.stride())[1] == 1 && padding != nullptr && (**padding)[0] == 0 &&
         (**padding)[1] == 0 && o.groups() == 1;
}

// Stride 1, dilation 1, one group, symmetric zero padding: the padding, else -1.
int64_t PlainPadding(const torch::nn::Conv2dImpl& conv) {
  const auto& o = conv.options;
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (padding == nullptr || (**padding)[0] != (**padding)[1] || (*o.stride())[0] != 1 ||
      (*o.stride())[1] != 1 || (*o.dilation())[0] != 1 || (*o.dilation())[1] != 1 ||
      o.groups() != 1 || c10::get_if<torch::enumtype::kZeros>(&o.padding_mode()) == nullptr) {
    return -1;
  }
  return (**padding)[0];
}

// 1x1 convolutions as matrix products over pixels; frozen 3x3 ones by Toom-Cook transforms where
// `toom` and they apply (the 5x5 and 3x3 VAEs inside the DWP's KL); the others as LibTorch runs
// them.
torch::Tensor ConvForward(torch::nn::Conv2dImpl& conv, const torch::Tensor& x, bool toom) {
  if (IsPointwise(conv) && x.scalar_type() == torch::kFloat)
    return Conv1x1Gemm(x, conv.weight, conv.bias);
  const int64_t padding = PlainPadding(conv);
  if (toom && padding >= 0 && ToomConvApplies(x, conv.weight, padding))
    return ToomConv3x3(x, conv.weight, conv.bias, padding);
  return conv.forward(x);
}

torch::Tensor ConvTransposeForward(torch::nn::ConvTranspose2dImpl& conv, const torch::Tensor& x,
                                   bool toom) {
  if (toom && ToomConvTransposeApplies(x, conv.weight))
    return ToomConvTranspose3x3(x, conv.weight, conv.bias);
  return ConvTranspose2dGemm(x, conv.weight, conv.bias);
}

}  // namespace

// The transposed and the 1x1 convolutions run as matrix products in channels-last memory, so the
// decoders' tails (ConvT -> ELU -> 1x1 -> ELU -> 1x1 heads) never change layout; LibTorch's CPU
// kernels for these thousands of tiny images are several times slower. A frozen VAE (the prior
// in the KL bound) runs its 3x3 convolutions by Toom-Cook transforms, also channels last.
Gaussian HeadedNetImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x;
  for (auto& layer : *trunk) {
    if (auto* t = dynamic_cast<torch::nn::ConvTranspose2dImpl*>(layer.ptr().get())) {
      h = ConvTransposeForward(*t, h, toom);
    } else if (auto* c = dynamic_cast<torch::nn::Conv2dImpl*>(layer.ptr().get())) {
      h = ConvForward(*c, h, toom);
    } else {
      h = layer.forward(h);
    }
  }
  return {ConvForward(*mu, h, toom),
          torch::nn::functional::softplus(ConvForward(*var, h, toom))};  // no floor, as reference
}

KernelVaeImpl::KernelVaeImpl(KernelVaeOptions options_) : options(std::move(options_)) { reset(); }

void KernelVaeImpl::reset() {
  TORCH_CHECK(Validate(options).ok(), Validate(options).message());
  const int64_t z = options.z_dim(), h = options.hidden_dim();
  auto [enc, dec] = Trunks(options.kernel_dim(), z, h);
  const bool five = options.kernel_dim() == 5;
  encoder = register_module("encoder", HeadedNet("features", enc, five ? "fc_sigma" : "fc_var",
                                                 Conv(2 * h, z, 1), Conv(2 * h, z, 1), false));
  decoder = register_module(
      "decoder", HeadedNet("decoder", dec, "fc_var", Conv(h, 1, 1), Conv(h, 1, 1), five));
  // The 7x7 VAE's hidden activations are large (up to about 90 in the released one) and its
  // means small: the transforms' float error, 1e-5 of the means against 1e-6 for direct
  // convolutions, is not worth the speed there (its share of the KL is 32 kernels of 4,128).
  encoder->toom = decoder->toom = options.kernel_dim() != 7;
}

void KernelVaeImpl::pretty_print(std::ostream& stream) const {
  stream << "deep_weight_prior::KernelVae(kernel " << options.kernel_dim() << ", z "
         << options.z_dim() << ", hidden " << options.hidden_dim() << ")";
}

Gaussian KernelVaeImpl::Encode(const torch::Tensor& w) { return encoder->forward(w); }

Gaussian KernelVaeImpl::Decode(const torch::Tensor& z) {
  Gaussian out = decoder->forward(z);
  if (options.fixed_var() > 0) out.var = torch::full_like(out.mean, options.fixed_var());
  return out;
}

VaeLoss KernelVaeImpl::Loss(const torch::Tensor& w, const torch::Tensor& eps) {
  const Gaussian q = Encode(w);
  const torch::Tensor noise = eps.defined() ? eps : torch::randn_like(q.mean);
  const Gaussian p = Decode(q.mean + q.var.sqrt() * noise);
  return {GaussianNll(w, p.mean, p.var), KlToStandardNormal(q.mean, q.var)};
}

}  // namespace deep_weight_prior
