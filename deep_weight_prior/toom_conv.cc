#include "deep_weight_prior/toom_conv.h"

#include <ATen/Parallel.h>
#include <torch/autograd.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace deep_weight_prior {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Evaluation points of the P-point transforms (small, symmetric: the best-conditioned choices).
std::vector<double> Points(int64_t p) {
  if (p == 5) return {0, 1, -1, 2, kInfinity};
  return {0, 1, -1, 2, -2, 0.5, kInfinity};  // p == 7
}

// [P, n]: row i evaluates a polynomial with n coefficients at point i (at infinity: the leading
// one).
torch::Tensor Evaluation(const std::vector<double>& points, int64_t n) {
  torch::Tensor e = torch::zeros({static_cast<int64_t>(points.size()), n}, torch::kDouble);
  auto a = e.accessor<double, 2>();
  for (size_t i = 0; i < points.size(); ++i) {
    for (int64_t k = 0; k < n; ++k) {
      a[i][k] = std::isinf(points[i]) ? (k == n - 1 ? 1.0 : 0.0)
                                      : std::pow(points[i], static_cast<double>(k));
    }
  }
  return e;
}

// The transforms of P points for a length-(P - 2) signal and a length-3 kernel, in float.
struct Transforms {
  torch::Tensor bx;  // [P, P - 2]: evaluates the signal
  torch::Tensor g2;  // [P^2, 9]: Bg (x) Bg, evaluates the 3x3 kernel on the P x P grid
  torch::Tensor a;   // [P, P]: interpolates the product's P coefficients
};

const Transforms& TransformsOf(int64_t p) {
  auto make = [](int64_t p) {
    const std::vector<double> points = Points(p);
    const torch::Tensor bg = Evaluation(points, 3);
    return Transforms{Evaluation(points, p - 2).to(torch::kFloat),
                      torch::kron(bg, bg).to(torch::kFloat),
                      torch::linalg::inv(Evaluation(points, p)).to(torch::kFloat).contiguous()};
  };
  static const Transforms five = make(5), seven = make(7);
  return p == 5 ? five : seven;
}

// A batch of images whose pixels are rows of `ch` floats, stored either image-major
// [batch, side, side, ch] (channels last) or pixel-major [side * side, batch, ch] (the layout
// of the per-pixel matrix products).
struct Images {
  float* data;
  int64_t side;
  bool pixel_major;
  float* Pixel(int64_t b, int64_t i, int64_t j, int64_t batch, int64_t ch) const {
    const int64_t pix = i * side + j;
    return data + (pixel_major ? pix * batch + b : b * side * side + pix) * ch;
  }
};

// y[0, n) += a x[0, n)
inline void Axpy(float a, const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// Transform2d on images [begin, end); `tmp` holds r * s * ch floats. Compiled for AVX-512, AVX2
// and the baseline, chosen at load time (the loops are over channels: 16 or 8 lanes wide).
__attribute__((target_clones("avx512f", "avx2", "default"))) void TransformImages(
    const Images& in, const Images& out, const float* mat, int64_t batch, int64_t ch,
    const float* bias, int64_t begin, int64_t end, float* tmp) {
  const int64_t r = out.side, s = in.side;
  for (int64_t b = begin; b < end; ++b) {
    std::fill(tmp, tmp + r * s * ch, 0.0f);
    for (int64_t p = 0; p < r; ++p) {  // along the first dimension: tmp [r, s, ch]
      for (int64_t i = 0; i < s; ++i) {
        const float c = mat[p * s + i];
        if (c == 0) continue;
        for (int64_t j = 0; j < s; ++j)
          Axpy(c, in.Pixel(b, i, j, batch, ch), tmp + (p * s + j) * ch, ch);
      }
    }
    for (int64_t p = 0; p < r; ++p) {  // along the second
      for (int64_t q = 0; q < r; ++q) {
        float* dst = out.Pixel(b, p, q, batch, ch);
        if (bias != nullptr) {
          std::copy(bias, bias + ch, dst);
        } else {
          std::fill(dst, dst + ch, 0.0f);
        }
        for (int64_t j = 0; j < s; ++j) {
          const float c = mat[q * s + j];
          if (c != 0) Axpy(c, tmp + (p * s + j) * ch, dst, ch);
        }
      }
    }
  }
}

// out = (M (x) M) in over the two pixel dimensions of every image and channel, M [r, s] with
// out.side = r and in.side = s; out starts from `bias` [ch] (or zero).
void Transform2d(const Images& in, const Images& out, const torch::Tensor& m, int64_t batch,
                 int64_t ch, const float* bias) {
  const torch::Tensor dense = m.contiguous();
  const float* mat = dense.data_ptr<float>();
  at::parallel_for(0, batch, 8, [&](int64_t begin, int64_t end) {
    std::vector<float> tmp(out.side * in.side * ch);
    TransformImages(in, out, mat, batch, ch, bias, begin, end, tmp.data());
  });
}

// y [B, r, r, O] = (m_out (x) m_out) [per transformed pixel: ((m_in (x) m_in) x) @ ghat] + bias,
// x [B, s, s, C] contiguous, ghat [P^2, C, O], m_in [P, s], m_out [r, P] (any strides).
torch::Tensor ToomApply(const torch::Tensor& x, const torch::Tensor& m_in,
                        const torch::Tensor& ghat, const torch::Tensor& m_out,
                        const torch::Tensor& bias) {
  const int64_t batch = x.size(0), s = x.size(1), c = x.size(3), p = m_in.size(0),
                r = m_out.size(0);
  const int64_t o = ghat.size(2);
  torch::Tensor y = torch::empty({batch, r, r, o}, x.options());
  // Images in chunks whose transformed copies stay in cache between the three steps (one chunk of
  // the 5x5 VAE: 3.3 MB; 128 measured 10% faster than 512 or the whole batch).
  constexpr int64_t kChunk = 128;
  for (int64_t start = 0; start < batch; start += kChunk) {
    const int64_t len = std::min(kChunk, batch - start);
    torch::Tensor xh = torch::empty({p * p, len, c}, x.options());
    Transform2d({x.data_ptr<float>() + start * s * s * c, s, false},
                {xh.data_ptr<float>(), p, true}, m_in, len, c, nullptr);
    const torch::Tensor yh = torch::bmm(xh, ghat);  // [P^2, len, O]
    Transform2d({yh.data_ptr<float>(), p, true},
                {y.data_ptr<float>() + start * r * r * o, r, false}, m_out, len, o,
                bias.defined() ? bias.data_ptr<float>() : nullptr);
  }
  return y;
}

// The linear map x -> ToomApply(x, m_in, ghat, m_out) + bias with frozen weights; its adjoint
// (the input gradient) is ToomApply(g, m_out^T, ghat^T, m_in^T).
class FrozenToomConv : public torch::autograd::Function<FrozenToomConv> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor m_in,
                               torch::Tensor ghat, torch::Tensor m_out, torch::Tensor bias) {
    ctx->save_for_backward({m_in, ghat, m_out});
    const torch::Tensor y =
        ToomApply(x.permute({0, 2, 3, 1}).contiguous(), m_in, ghat, m_out, bias);
    return y.permute({0, 3, 1, 2});  // channels-last memory, as ConvTranspose2dGemm's output
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor g = grads[0].permute({0, 2, 3, 1}).contiguous();
    const torch::Tensor gx =
        ToomApply(g, saved[2].t(), saved[1].transpose(1, 2).contiguous(), saved[0].t(), {});
    return {gx.permute({0, 3, 1, 2}), {}, {}, {}, {}};
  }
};

// [P^2, 9] x the 3x3 taps of w, with w's channel dims given in (in, out) order -> [P^2, in, out].
torch::Tensor TransformedWeights(const Transforms& t, const torch::Tensor& w_in_out_kk) {
  const int64_t in = w_in_out_kk.size(0), out = w_in_out_kk.size(1);
  const torch::Tensor taps = w_in_out_kk.permute({2, 3, 0, 1}).reshape({9, in * out});
  return t.g2.mm(taps).view({-1, in, out});
}

bool Frozen3x3Float(const torch::Tensor& x, const torch::Tensor& w) {
  return x.device().is_cpu() && x.scalar_type() == torch::kFloat &&
         w.scalar_type() == torch::kFloat && !w.requires_grad() && x.dim() == 4 && w.dim() == 4 &&
         w.size(2) == 3 && w.size(3) == 3 && x.size(2) == x.size(3);
}

torch::Tensor BiasOrZero(const torch::Tensor& bias, int64_t out,
                         const torch::TensorOptions& options) {
  return bias.defined() ? bias.detach().contiguous() : torch::zeros({out}, options);
}

}  // namespace

// 5 points (0, +-1, 2, infinity), and 7 (adding -2 and 1/2) for the padded 5 -> 5 convolution
// only (the 5x5 VAE's encoder: 1e-6 relative on the released VAE). In a 5 -> 7 transposed
// convolution the 7-point transform's float error was 1.3e-3 on outputs of up to 92 (the released
// 7x7 VAE; the direct convolution's 1.1e-5).

bool ToomConvTransposeApplies(const torch::Tensor& x, const torch::Tensor& weight) {
  return Frozen3x3Float(x, weight) && x.size(1) == weight.size(0) && x.size(2) + 2 == 5;
}

bool ToomConvApplies(const torch::Tensor& x, const torch::Tensor& weight, int64_t padding) {
  const int64_t p = x.size(2) + 2 * padding;
  return Frozen3x3Float(x, weight) && x.size(1) == weight.size(1) &&
         (padding == 0 || padding == 1) && (p == 5 || (p == 7 && padding == 1));
}

// Full convolution: x -> A [(Bx x) o (Bg w)] in each dimension.
torch::Tensor ToomConvTranspose3x3(const torch::Tensor& x, const torch::Tensor& weight,
                                   const torch::Tensor& bias) {
  TORCH_CHECK(ToomConvTransposeApplies(x, weight), "ToomConvTranspose3x3: unsupported input ",
              x.sizes(), " or weight ", weight.sizes());
  const Transforms& t = TransformsOf(x.size(2) + 2);
  const torch::Tensor ghat = TransformedWeights(t, weight.detach());
  return FrozenToomConv::apply(x, t.bx, ghat, t.a, BiasOrZero(bias, weight.size(1), x.options()));
}

// Valid correlation of the zero-padded input: x -> Bx^T [(Bg w) o (A^T P x)] in each dimension,
// P x the padding (the columns of A^T that meet the padding drop out).
torch::Tensor ToomConv3x3(const torch::Tensor& x, const torch::Tensor& weight,
                          const torch::Tensor& bias, int64_t padding) {
  TORCH_CHECK(ToomConvApplies(x, weight, padding), "ToomConv3x3: unsupported input ", x.sizes(),
              ", weight ", weight.sizes(), " or padding ", padding);
  const int64_t side = x.size(2);
  const Transforms& t = TransformsOf(side + 2 * padding);
  const torch::Tensor m_in = t.a.t().narrow(1, padding, side);
  const torch::Tensor ghat = TransformedWeights(t, weight.detach().transpose(0, 1));
  return FrozenToomConv::apply(x, m_in, ghat, t.bx.t(),
                               BiasOrZero(bias, weight.size(0), x.options()));
}

}  // namespace deep_weight_prior
