#include "excess_capacity/cyclic_conv.h"

#include <torch/torch.h>

namespace excess_capacity {
namespace {

namespace F = torch::nn::functional;

// Pads cyclically for a kh x kw kernel: kh/2 rows before and kh - 1 - kh/2 after (columns
// alike), or the reverse with `adjoint`.
torch::Tensor CyclicPad(const torch::Tensor& x, int64_t kh, int64_t kw, bool adjoint) {
  int64_t top = kh / 2, bottom = kh - 1 - kh / 2, left = kw / 2, right = kw - 1 - kw / 2;
  if (adjoint) {
    std::swap(top, bottom);
    std::swap(left, right);
  }
  if (top + bottom + left + right == 0) return x;
  return F::pad(x, F::PadFuncOptions({left, right, top, bottom}).mode(torch::kCircular));
}

// Per-frequency singular values and vectors of the DFT of an embedded kernel, on the half
// spectrum of the real FFT: X [H, W/2 + 1, cout, cin] complex.
torch::Tensor HalfSpectrum(const torch::Tensor& embedded) {
  return torch::fft::rfft2(embedded, c10::nullopt, {2, 3}).permute({2, 3, 0, 1});
}

}  // namespace

torch::Tensor CyclicConv2d(const torch::Tensor& x, const torch::Tensor& w, int64_t stride) {
  TORCH_CHECK(x.dim() == 4 && w.dim() == 4 && x.size(1) == w.size(1),
              "CyclicConv2d expects x [B, ", w.size(1), ", H, W] for a kernel ", w.sizes(),
              ", got ", x.sizes());
  return F::conv2d(CyclicPad(x, w.size(2), w.size(3), false), w,
                   F::Conv2dFuncOptions().stride(stride));
}

// With before-padding b the forward is y[i] = sum_t w[t] x[i + t - b]; its adjoint is the
// correlation with the flipped kernel and before-padding k - 1 - b: the paddings swap.
torch::Tensor CyclicConv2dAdjoint(const torch::Tensor& y, const torch::Tensor& w) {
  return F::conv2d(CyclicPad(y, w.size(2), w.size(3), true), w.flip({2, 3}).transpose(0, 1));
}

torch::Tensor EmbedKernel(const torch::Tensor& w, int64_t height, int64_t width) {
  const int64_t kh = w.size(2), kw = w.size(3);
  if (kh > height || kw > width) return w;  // same as reference: no embedding when it cannot fit
  return F::pad(w, F::PadFuncOptions({0, width - kw, 0, height - kh}));
}

double CyclicConvSpectralNorm(const torch::Tensor& w, int64_t height, int64_t width) {
  torch::NoGradGuard no_grad;
  const torch::Tensor x = HalfSpectrum(EmbedKernel(w.detach(), height, width));
  return torch::linalg_svdvals(x).max().item<double>();
}

torch::Tensor ClipCyclicConvSpectrum(const torch::Tensor& embedded, double bound) {
  torch::NoGradGuard no_grad;
  const int64_t height = embedded.size(2), width = embedded.size(3);
  torch::Tensor x = HalfSpectrum(embedded);
  auto [u, s, vh] = torch::linalg_svd(x, /*full_matrices=*/false);
  if (s.max().item<double>() <= bound) return embedded.clone();
  const torch::Tensor excess = (s - bound).clamp_min(0).to(x.scalar_type());
  const torch::Tensor clipped = x - torch::matmul(u * excess.unsqueeze(-2), vh);
  return torch::fft::irfft2(clipped.permute({2, 3, 0, 1}), std::vector<int64_t>{height, width},
                            {2, 3});
}

torch::Tensor ClipMatrixSpectrum(const torch::Tensor& w, double bound) {
  torch::NoGradGuard no_grad;
  auto [u, s, vh] = torch::linalg_svd(w, /*full_matrices=*/false);
  if (s.max().item<double>() <= bound) return w.clone();
  return w - torch::matmul(u * (s - bound).clamp_min(0).unsqueeze(-2), vh);
}

}  // namespace excess_capacity
