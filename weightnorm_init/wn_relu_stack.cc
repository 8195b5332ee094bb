#include "weightnorm_init/wn_relu_stack.h"

#include <ATen/Dispatch.h>
#include <torch/autograd.h>

#include <cmath>

namespace weightnorm_init {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Row-wise passes over [rows, cols] matrices. One loop instead of four to eight ATen ops each:
// at these sizes (128 x 128) the per-op overhead, not the arithmetic, is what costs.

// <a, b> with 16 independent partial sums, so that the compiler can vectorise it (a single
// accumulator is a serial chain of dependent adds, 4x slower here).
template <typename T>
T Dot(const T* __restrict a, const T* __restrict b, int64_t n) {
  T acc[16] = {};
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    for (int k = 0; k < 16; ++k) acc[k] += a[j + k] * b[j + k];
  }
  T sum = 0;
  for (int k = 0; k < 16; ++k) sum += acc[k];
  for (; j < n; ++j) sum += a[j] * b[j];
  return sum;
}

// w = v * (g / ||v||) per row; inv_norm = 1 / ||v||.
template <typename T>
void NormalizeRows(const T* __restrict v, const T* __restrict g, int64_t rows, int64_t cols,
                   T* __restrict w, T* __restrict inv_norm) {
  for (int64_t i = 0; i < rows; ++i, v += cols, w += cols) {
    inv_norm[i] = T(1) / std::sqrt(Dot(v, v, cols));  // same as torch weight_norm: no epsilon
    const T scale = g[i] * inv_norm[i];
    for (int64_t j = 0; j < cols; ++j) w[j] = v[j] * scale;
  }
}

// Weight-norm chain rule per row: grad_g = <grad_w, v> / ||v||,
// grad_v = (g / ||v||) grad_w - (g grad_g / ||v||^2) v.
template <typename T>
void WeightNormBackwardRows(const T* __restrict grad_w, const T* __restrict v,
                            const T* __restrict g, const T* __restrict inv_norm, int64_t rows,
                            int64_t cols, T* __restrict grad_v, T* __restrict grad_g) {
  for (int64_t i = 0; i < rows; ++i, grad_w += cols, v += cols, grad_v += cols) {
    grad_g[i] = Dot(grad_w, v, cols) * inv_norm[i];
    const T a = g[i] * inv_norm[i], b = g[i] * grad_g[i] * inv_norm[i] * inv_norm[i];
    for (int64_t j = 0; j < cols; ++j) grad_v[j] = a * grad_w[j] - b * v[j];
  }
}

// da = dh * (h > 0) and grad_b = sum over the batch of da, for [batch, n] matrices.
template <typename T>
void ReluBackward(const T* __restrict dh, const T* __restrict h, int64_t batch, int64_t n,
                  T* __restrict da, T* __restrict grad_b) {
  for (int64_t j = 0; j < n; ++j) grad_b[j] = 0;
  for (int64_t r = 0; r < batch; ++r, dh += n, h += n, da += n) {
    // A select, not a branch: the ReLU mask is a coin flip, a branch would mispredict half the
    // time. dh[j] is loaded unconditionally, so the compiler may turn the select into a blend.
    for (int64_t j = 0; j < n; ++j) {
      const T d = dh[j];
      da[j] = h[j] > T(0) ? d : T(0);
    }
    for (int64_t j = 0; j < n; ++j) grad_b[j] += da[j];
  }
}

class WnReluStackFunction : public torch::autograd::Function<WnReluStackFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               torch::TensorList params) {
    TORCH_CHECK(params.size() % 3 == 0 && !params.empty(),
                "WnReluStack wants (v, g, b) triples, got ", params.size(), " tensors");
    std::vector<torch::Tensor> saved = {x};  // x, then per layer: 1/||v||, W, h (the last h aside)
    torch::Tensor h = x;
    for (size_t l = 0; l < params.size(); l += 3) {
      const torch::Tensor v = params[l].contiguous(), g = params[l + 1].contiguous();
      torch::Tensor w = torch::empty_like(v), inv_norm = torch::empty_like(g);
      AT_DISPATCH_FLOATING_TYPES(v.scalar_type(), "WnReluStack", [&] {
        NormalizeRows(v.data_ptr<scalar_t>(), g.data_ptr<scalar_t>(), v.size(0), v.size(1),
                      w.data_ptr<scalar_t>(), inv_norm.data_ptr<scalar_t>());
      });
      h = torch::addmm(params[l + 2], h, w.t()).relu_();
      saved.insert(saved.end(), {inv_norm, w, h});
    }
    // The output goes through save_for_backward: kept in saved_data it would hold its own grad_fn
    // (output -> node -> ctx -> output), a reference cycle that leaks every graph.
    saved.pop_back();
    ctx->save_for_backward({h});
    ctx->saved_data["saved"] = saved;
    ctx->saved_data["params"] = params.vec();
    return h;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    std::vector<torch::Tensor> saved = ctx->saved_data["saved"].toTensorVector();
    saved.push_back(ctx->get_saved_variables()[0]);
    const std::vector<torch::Tensor> params = ctx->saved_data["params"].toTensorVector();
    const size_t layers = params.size() / 3;
    const torch::Tensor& x = saved[0];
    variable_list grads(1 + params.size());
    torch::Tensor dh = grad_out[0].contiguous();
    for (size_t l = layers; l-- > 0;) {
      const torch::Tensor& inv_norm = saved[1 + 3 * l];
      const torch::Tensor& w = saved[2 + 3 * l];
      const torch::Tensor& h = saved[3 + 3 * l];
      const torch::Tensor& prev = l == 0 ? x : saved[3 * l];
      const torch::Tensor v = params[3 * l].contiguous(), g = params[3 * l + 1].contiguous();
      torch::Tensor da = torch::empty_like(h), grad_b = torch::empty({h.size(1)}, h.options());
      AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "WnReluStackBackward", [&] {
        ReluBackward(dh.data_ptr<scalar_t>(), h.data_ptr<scalar_t>(), h.size(0), h.size(1),
                     da.data_ptr<scalar_t>(), grad_b.data_ptr<scalar_t>());
      });
      const torch::Tensor grad_w = da.t().mm(prev);
      if (l > 0 || x.requires_grad()) dh = da.mm(w);
      torch::Tensor grad_v = torch::empty_like(v), grad_g = torch::empty_like(g);
      AT_DISPATCH_FLOATING_TYPES(v.scalar_type(), "WnReluStackBackward", [&] {
        WeightNormBackwardRows(grad_w.data_ptr<scalar_t>(), v.data_ptr<scalar_t>(),
                               g.data_ptr<scalar_t>(), inv_norm.data_ptr<scalar_t>(), v.size(0),
                               v.size(1), grad_v.data_ptr<scalar_t>(), grad_g.data_ptr<scalar_t>());
      });
      grads[1 + 3 * l] = grad_v;
      grads[2 + 3 * l] = grad_g;
      grads[3 + 3 * l] = grad_b;
    }
    if (x.requires_grad()) grads[0] = dh;
    return grads;
  }
};

}  // namespace

torch::Tensor WnReluStack(const torch::Tensor& x, const std::vector<torch::Tensor>& params) {
  TORCH_CHECK(x.dim() == 2 && x.device().is_cpu(),
              "WnReluStack wants a [batch, in] CPU tensor, got ", x.sizes(), " on ", x.device());
  return WnReluStackFunction::apply(x.contiguous(), torch::TensorList(params));
}

}  // namespace weightnorm_init
