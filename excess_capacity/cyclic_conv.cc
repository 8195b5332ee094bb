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

// Clips the singular values of every matrix in x [..., m, k] at `bound` through the Hermitian
// eigendecomposition of the smaller Gram matrix (batched eigh is several times cheaper than
// batched SVD): with x^H x = V diag(s^2) V^H, x' = x V diag(min(1, bound / s)) V^H. Matrices
// already within the bound are left alone (returns `x` itself when all are).
torch::Tensor ClipSingularValues(const torch::Tensor& x, double bound) {
  const bool tall = x.size(-2) >= x.size(-1);
  const torch::Tensor xh = x.transpose(-2, -1).conj();
  const torch::Tensor gram = tall ? torch::matmul(xh, x) : torch::matmul(x, xh);
  const int64_t k = gram.size(-1);
  const torch::Tensor flat_gram = gram.reshape({-1, k, k});
  // Certified skip: b^2 I - x^H x has a Cholesky factor iff every singular value is below b,
  // and the factorisation costs a fraction of an eigendecomposition.
  const torch::Tensor shifted =
      torch::eye(k, gram.options()) * (bound * bound * (1 - 1e-6)) - flat_gram;
  const torch::Tensor outside = std::get<1>(torch::linalg_cholesky_ex(shifted)).ne(0);
  const torch::Tensor index = outside.nonzero().squeeze(1);
  if (index.numel() == 0) return x;
  auto [eigenvalues, vectors] = torch::linalg_eigh(flat_gram.index_select(0, index));
  const torch::Tensor s = eigenvalues.clamp_min(0).sqrt();
  const torch::Tensor factor = (bound / s.clamp_min(1e-30)).clamp_max(1).to(x.scalar_type());
  const torch::Tensor projector =
      torch::matmul(vectors * factor.unsqueeze(-2), vectors.transpose(-2, -1).conj());
  const torch::Tensor flat_x = x.reshape({-1, x.size(-2), x.size(-1)});
  const torch::Tensor sub = flat_x.index_select(0, index);
  const torch::Tensor clipped = tall ? torch::matmul(sub, projector) : torch::matmul(projector, sub);
  return flat_x.index_copy(0, index, clipped).view(x.sizes());
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
  if (height == 1 && width == 1) {  // the operator is the cout x cin matrix itself
    return ClipSingularValues(embedded.view({embedded.size(0), embedded.size(1)}), bound)
        .view(embedded.sizes())
        .clone();
  }
  torch::Tensor x = HalfSpectrum(embedded);
  // On grids of side <= 2 every DFT bin is real (e^{-i pi k} = +-1): decompose real matrices,
  // several times cheaper than complex ones (the 2x2 layers of the ResNet).
  const bool real = height <= 2 && width <= 2;
  if (real) x = torch::real(x).contiguous();
  torch::Tensor clipped = ClipSingularValues(x, bound);
  if (clipped.is_same(x)) return embedded.clone();
  if (real) clipped = torch::complex(clipped, torch::zeros_like(clipped));
  return torch::fft::irfft2(clipped.permute({2, 3, 0, 1}), std::vector<int64_t>{height, width},
                            {2, 3});
}

torch::Tensor ClipMatrixSpectrum(const torch::Tensor& w, double bound) {
  torch::NoGradGuard no_grad;
  const torch::Tensor clipped = ClipSingularValues(w, bound);
  return clipped.is_same(w) ? w.clone() : clipped;
}

}  // namespace excess_capacity
