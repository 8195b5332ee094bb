#include "deep_weight_prior/conv_transpose_gemm.h"

#include <ATen/Parallel.h>
#include <torch/autograd.h>
#include <torch/nn/functional/conv.h>
#include <torch/torch.h>

#include <cstring>

namespace deep_weight_prior {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

struct Shape {
  int64_t batch, height, width, out, k;
  int64_t OutHeight() const { return height + k - 1; }
  int64_t OutWidth() const { return width + k - 1; }
};

// out [B, Ho, Wo, O] (channels last, holding the bias) += every tap of cols [B, H, W, k, k, O].
void OverlapAdd(const float* cols, float* out, const Shape& s) {
  const int64_t o = s.out, wo = s.OutWidth(), ho = s.OutHeight();
  at::parallel_for(0, s.batch, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      for (int64_t i = 0; i < s.height; ++i) {
        for (int64_t j = 0; j < s.width; ++j) {
          const float* src = cols + ((b * s.height + i) * s.width + j) * s.k * s.k * o;
          for (int64_t a = 0; a < s.k; ++a) {
            for (int64_t c = 0; c < s.k; ++c, src += o) {
              float* dst = out + ((b * ho + i + a) * wo + j + c) * o;
              for (int64_t e = 0; e < o; ++e) dst[e] += src[e];
            }
          }
        }
      }
    }
  });
}

// cols [B, H, W, k, k, O] = the window of grad [B, Ho, Wo, O] that each tap wrote to.
void Gather(const float* grad, float* cols, const Shape& s) {
  const int64_t o = s.out, wo = s.OutWidth(), ho = s.OutHeight();
  at::parallel_for(0, s.batch, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      for (int64_t i = 0; i < s.height; ++i) {
        for (int64_t j = 0; j < s.width; ++j) {
          float* dst = cols + ((b * s.height + i) * s.width + j) * s.k * s.k * o;
          for (int64_t a = 0; a < s.k; ++a) {
            for (int64_t c = 0; c < s.k; ++c, dst += o) {
              std::memcpy(dst, grad + ((b * ho + i + a) * wo + j + c) * o, sizeof(float) * o);
            }
          }
        }
      }
    }
  });
}

Shape ShapeOf(const torch::Tensor& x, const torch::Tensor& w) {
  return {x.size(0), x.size(2), x.size(3), w.size(1), w.size(2)};
}

// [C, O, k, k] -> [C, k * k * O]: the taps' output channels contiguous.
torch::Tensor WeightMatrix(const torch::Tensor& w) {
  return w.permute({0, 2, 3, 1}).reshape({w.size(0), -1});
}

class ConvTransposeGemm : public torch::autograd::Function<ConvTransposeGemm> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor w,
                               torch::Tensor b) {
    const Shape s = ShapeOf(x, w);
    const torch::Tensor rows =
        x.permute({0, 2, 3, 1}).contiguous().view({-1, x.size(1)});  // [B H W, C]
    const torch::Tensor cols = rows.mm(WeightMatrix(w));             // [B H W, k k O]
    torch::Tensor out =
        b.view({1, 1, 1, s.out}).expand({s.batch, s.OutHeight(), s.OutWidth(), s.out}).contiguous();
    OverlapAdd(cols.data_ptr<float>(), out.data_ptr<float>(), s);
    ctx->save_for_backward({rows, w});
    ctx->saved_data["shape"] = std::vector<int64_t>{s.batch, s.height, s.width, s.out, s.k};
    return out.permute({0, 3, 1, 2});  // a channels-last view: the next layers read it as it is
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& rows = saved[0];
    const torch::Tensor& w = saved[1];
    const std::vector<int64_t> d = ctx->saved_data["shape"].toIntVector();
    const Shape s{d[0], d[1], d[2], d[3], d[4]};
    const torch::Tensor g = grads[0].permute({0, 2, 3, 1}).contiguous();  // [B, Ho, Wo, O]
    torch::Tensor cols =
        torch::empty({s.batch * s.height * s.width, s.k * s.k * s.out}, g.options());
    Gather(g.data_ptr<float>(), cols.data_ptr<float>(), s);
    torch::Tensor grad_x, grad_w, grad_b;
    if (ctx->needs_input_grad(0)) {
      grad_x =
          cols.mm(WeightMatrix(w).t()).view({s.batch, s.height, s.width, -1}).permute({0, 3, 1, 2});
    }
    if (ctx->needs_input_grad(1)) {
      grad_w = rows.t().mm(cols).view({w.size(0), s.k, s.k, s.out}).permute({0, 3, 1, 2});
    }
    if (ctx->needs_input_grad(2)) grad_b = g.sum({0, 1, 2});
    return {grad_x, grad_w, grad_b};
  }
};

}  // namespace

torch::Tensor ConvTranspose2dGemm(const torch::Tensor& x, const torch::Tensor& weight,
                                  const torch::Tensor& bias) {
  const bool fast = x.device().is_cpu() && x.scalar_type() == torch::kFloat &&
                    weight.scalar_type() == torch::kFloat && x.dim() == 4 && weight.dim() == 4 &&
                    weight.size(2) == weight.size(3) && x.size(1) == weight.size(0);
  if (!fast)
    return torch::nn::functional::conv_transpose2d(
        x, weight, torch::nn::functional::ConvTranspose2dFuncOptions().bias(bias));
  // A zero bias stands in for none: autograd functions take defined tensors.
  return ConvTransposeGemm::apply(
      x, weight, bias.defined() ? bias : torch::zeros({weight.size(1)}, weight.options()));
}

torch::Tensor Conv1x1Gemm(const torch::Tensor& x, const torch::Tensor& weight,
                          const torch::Tensor& bias) {
  const int64_t b = x.size(0), h = x.size(2), w = x.size(3), o = weight.size(0);
  const torch::Tensor rows = x.permute({0, 2, 3, 1}).reshape({b * h * w, x.size(1)});
  const torch::Tensor wt = weight.view({o, -1}).t();
  const torch::Tensor y = bias.defined() ? torch::addmm(bias, rows, wt) : rows.mm(wt);
  return y.view({b, h, w, o}).permute({0, 3, 1, 2});
}

}  // namespace deep_weight_prior
