#include "excess_capacity/cyclic_conv.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

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

// cos and sin of 2 pi (i * j mod n) / n for i < rows, j < cols (angles in double).
std::pair<torch::Tensor, torch::Tensor> DftTable(int64_t n, int64_t rows, int64_t cols,
                                                 c10::ScalarType type) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const torch::Tensor i = torch::arange(rows, f64.dtype(torch::kInt64)).unsqueeze(1);
  const torch::Tensor j = torch::arange(cols, f64.dtype(torch::kInt64)).unsqueeze(0);
  const torch::Tensor angle =
      (i * j).remainder(n).to(torch::kFloat64) * (2 * M_PI / static_cast<double>(n));
  return {angle.cos().to(type), angle.sin().to(type)};
}

// The real-FFT half spectrum of an embedded kernel [cout, cin, H, W] as real and imaginary parts
// [H, W/2 + 1, cout, cin], each contiguous: X[u, v] = sum_{a, b} w[a, b] e^{-2 pi i (ua/H + vb/W)},
// computed as real matrix products with DFT tables (for these small grids several times faster
// than batched FFTs, and the result comes out in the per-frequency layout the Gram products need).
struct ComplexParts {
  torch::Tensor re, im;  // im undefined: a real tensor
};

ComplexParts HalfSpectrum(const torch::Tensor& embedded) {
  const int64_t n = embedded.size(0) * embedded.size(1), h = embedded.size(2), w = embedded.size(3);
  const int64_t half = w / 2 + 1;
  const auto type = embedded.scalar_type();
  const auto [cos_w, sin_w] = DftTable(w, w, half, type);  // [w, half]
  const torch::Tensor rows = embedded.contiguous().view({n * h, w});
  // Along the columns: T = w (cos - i sin), then reorder [n, h, half] -> [h, half * n].
  auto reorder = [&](const torch::Tensor& t) {
    return t.view({n, h, half}).permute({1, 2, 0}).reshape({h, half * n});
  };
  const torch::Tensor tr = reorder(rows.mm(cos_w)), ti = reorder(rows.mm(sin_w).neg_());
  // Along the rows: X = (cos - i sin)(tr + i ti).
  const auto [cos_h, sin_h] = DftTable(h, h, h, type);
  const std::vector<int64_t> shape = {h, half, embedded.size(0), embedded.size(1)};
  return {torch::addmm(cos_h.mm(tr), sin_h, ti).view(shape),
          torch::addmm(cos_h.mm(ti), sin_h, tr, 1, -1).view(shape)};
}

// Gram matrices of x = re + i im [..., m, k]: x^H x (k x k) when tall, x x^H (m x m) otherwise,
// as real and imaginary parts from four real batched products (no complex copies); the imaginary
// part is undefined when im is.
ComplexParts GramMatrices(const torch::Tensor& re, const torch::Tensor& im, bool tall) {
  // Many tiny Gram matrices (the stem's 3 input channels at 32 x 32: 544 of 3 x 3) as one
  // broadcast product and sum: batched GEMM calls cost more than their arithmetic there.
  const bool tiny = std::min(re.size(-2), re.size(-1)) <= 4;
  auto prod = [tall, tiny](const torch::Tensor& a, const torch::Tensor& b) {
    if (tiny) {
      return tall ? (a.unsqueeze(-1) * b.unsqueeze(-2)).sum(-3)
                  : (a.unsqueeze(-2) * b.unsqueeze(-3)).sum(-1);
    }
    return tall ? torch::matmul(a.transpose(-2, -1), b) : torch::matmul(a, b.transpose(-2, -1));
  };
  if (!im.defined()) return {prod(re, re), {}};
  // tall: (R - iI)^T (R + iI) = R^T R + I^T I + i (R^T I - I^T R); wide: R R^T + I I^T + i (I R^T -
  // R I^T).
  return {prod(re, re).add_(prod(im, im)),
          tall ? prod(re, im).sub_(prod(im, re)) : prod(im, re).sub_(prod(re, im))};
}

// The real matrices [[re, -im], [im, re]] [..., 2m, 2k] that represent x = re + i im [..., m, k]:
// products of representations represent products, the singular values are x's (each twice), and
// a Hermitian x is positive definite iff its representation is. Every decomposition here runs on
// these real matrices, never through complex LAPACK: Debian 12's OpenBLAS 0.3.21 reads out of
// bounds in complex gemv (OpenBLAS issue 5000), which cgesdd, cheevd and cpotf2 call, and the
// training step died of it in cgesdd.
torch::Tensor RealRepresentation(const torch::Tensor& re, const torch::Tensor& im) {
  if (!im.defined()) return re;
  return torch::cat({torch::cat({re, im.neg()}, -1), torch::cat({im, re}, -1)}, -2);
}

// LAPACK's real Cholesky factorisations (the LAPACK that LibTorch itself calls).
extern "C" {
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
}
inline void Potrf(int n, float* a, int* info) { spotrf_("L", &n, a, &n, info); }
inline void Potrf(int n, double* a, int* info) { dpotrf_("L", &n, a, &n, info); }

// Indices of the symmetric matrices g [B, k, k] that are not certified to satisfy g < b2 I:
// b2 I - g has a Cholesky factor iff every eigenvalue of g is below b2, and one factorisation per
// matrix (LAPACK stops at the first non-positive pivot) costs a fraction of an eigendecomposition.
// Called per matrix on a reused buffer: LibTorch's batched Cholesky spends more on copies and on
// zeroing the upper triangle than on the factorisations here.
template <typename Real>
std::vector<int64_t> Uncertified(const torch::Tensor& g, double b2) {
  const int64_t batch = g.size(0), k = g.size(1);
  const Real* data = g.data_ptr<Real>();
  std::vector<Real> buffer(k * k);
  std::vector<int64_t> out;
  for (int64_t m = 0; m < batch; ++m) {
    const Real* matrix = data + m * k * k;
    for (int64_t e = 0; e < k * k; ++e) buffer[e] = -matrix[e];
    for (int64_t d = 0; d < k; ++d) buffer[d * k + d] += static_cast<Real>(b2);
    int info = 0;
    Potrf(static_cast<int>(k), buffer.data(), &info);
    if (info != 0) out.push_back(m);
  }
  return out;
}

std::vector<int64_t> UncertifiedMatrices(const torch::Tensor& g, double b2) {
  if (g.scalar_type() == torch::kDouble) return Uncertified<double>(g, b2);
  TORCH_CHECK(g.scalar_type() == torch::kFloat, "spectral clip: float or double weights, got ",
              g.scalar_type());
  return Uncertified<float>(g, b2);
}

// Clips the singular values of every matrix in x = re + i im [..., m, k] (im undefined: real) at
// `bound` through the symmetric eigendecomposition of the real representation of the smaller Gram
// matrix (batched eigh is several times cheaper than batched SVD): with x^H x = V diag(s^2) V^H,
// x' = x P, P = V diag(min(1, bound / s)) V^H. Matrices already within the bound are left alone
// (returns undefined parts when all are).
ComplexParts ClipSingularValues(const torch::Tensor& re, const torch::Tensor& im, double bound) {
  const bool tall = re.size(-2) >= re.size(-1);
  const ComplexParts gram = GramMatrices(re, im, tall);
  const int64_t k = gram.re.size(-1);
  const torch::Tensor flat_re = gram.re.reshape({-1, k, k});
  const torch::Tensor flat_im = gram.im.defined() ? gram.im.reshape({-1, k, k}) : torch::Tensor();
  const torch::Tensor real_gram = RealRepresentation(flat_re, flat_im).contiguous();
  // Certified skip: only the matrices with a singular value at or above the bound are clipped.
  const std::vector<int64_t> outside = UncertifiedMatrices(real_gram, bound * bound * (1 - 1e-6));
  if (outside.empty()) return {};
  const torch::Tensor index = torch::tensor(outside, torch::kLong);
  auto [eigenvalues, vectors] = torch::linalg_eigh(real_gram.index_select(0, index));
  const torch::Tensor factor =
      (bound / eigenvalues.clamp_min(0).sqrt().clamp_min(1e-30)).clamp_max(1);
  // The representation of P; its left blocks are P's real and imaginary parts.
  const torch::Tensor p = torch::matmul(vectors * factor.unsqueeze(-2), vectors.transpose(-2, -1));
  const torch::Tensor p_re = p.narrow(-2, 0, k).narrow(-1, 0, k);
  const int64_t m = re.size(-2), n = re.size(-1);
  const torch::Tensor x_re = re.reshape({-1, m, n}),
                      x_im = im.defined() ? im.reshape({-1, m, n}) : torch::Tensor();
  const torch::Tensor sub_re = x_re.index_select(0, index);
  auto times = [tall](const torch::Tensor& a, const torch::Tensor& proj) {
    return tall ? torch::matmul(a, proj) : torch::matmul(proj, a);
  };
  if (!im.defined()) return {x_re.index_copy(0, index, times(sub_re, p_re)).view(re.sizes()), {}};
  // (R + iI)(Pr + iPi) = R Pr - I Pi + i (R Pi + I Pr), and alike with P on the left.
  const torch::Tensor p_im = p.narrow(-2, k, k).narrow(-1, 0, k);
  const torch::Tensor sub_im = x_im.index_select(0, index);
  const torch::Tensor clipped_re = times(sub_re, p_re) - times(sub_im, p_im);
  const torch::Tensor clipped_im = times(sub_re, p_im) + times(sub_im, p_re);
  return {x_re.index_copy(0, index, clipped_re).view(re.sizes()),
          x_im.index_copy(0, index, clipped_im).view(im.sizes())};
}

}  // namespace

torch::Tensor CyclicConv2d(const torch::Tensor& x, const torch::Tensor& w, int64_t stride) {
  TORCH_CHECK(x.dim() == 4 && w.dim() == 4 && x.size(1) == w.size(1), "CyclicConv2d expects x [B, ",
              w.size(1), ", H, W] for a kernel ", w.sizes(), ", got ", x.sizes());
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
  const ComplexParts x = HalfSpectrum(EmbedKernel(w.detach().to(torch::kFloat64), height, width));
  const ComplexParts gram = GramMatrices(x.re, x.im, x.re.size(-2) >= x.re.size(-1));
  const torch::Tensor eigenvalues = torch::linalg_eigvalsh(RealRepresentation(gram.re, gram.im));
  return std::sqrt(std::max(0.0, eigenvalues.max().item<double>()));
}

torch::Tensor ClipCyclicConvSpectrum(const torch::Tensor& embedded, double bound) {
  torch::NoGradGuard no_grad;
  const int64_t height = embedded.size(2), width = embedded.size(3);
  if (height == 1 && width == 1) {  // the operator is the cout x cin matrix itself
    const torch::Tensor clipped =
        ClipSingularValues(embedded.view({embedded.size(0), embedded.size(1)}), {}, bound).re;
    return clipped.defined() ? clipped.view(embedded.sizes()) : embedded.clone();
  }
  const ComplexParts x = HalfSpectrum(embedded);
  // On grids of side <= 2 every DFT bin is real (e^{-i pi k} = +-1): decompose real matrices,
  // several times cheaper than complex ones (the 2x2 layers of the ResNet).
  const bool real = height <= 2 && width <= 2;
  const ComplexParts clipped = ClipSingularValues(x.re, real ? torch::Tensor() : x.im, bound);
  if (!clipped.re.defined()) return embedded.clone();
  const torch::Tensor spectrum = torch::complex(
      clipped.re, real ? torch::zeros_like(clipped.re) : clipped.im);  // pocketfft, not LAPACK
  return torch::fft::irfft2(spectrum.permute({2, 3, 0, 1}), std::vector<int64_t>{height, width},
                            {2, 3});
}

torch::Tensor ClipMatrixSpectrum(const torch::Tensor& w, double bound) {
  torch::NoGradGuard no_grad;
  const torch::Tensor clipped = ClipSingularValues(w, {}, bound).re;
  return clipped.defined() ? clipped : w.clone();
}

}  // namespace excess_capacity
