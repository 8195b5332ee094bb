#include "common/linalg/power_iteration.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

namespace common::linalg {
namespace {

torch::Tensor Normalize(const torch::Tensor& x) { return x / x.norm().clamp_min(1e-30); }

}  // namespace

PowerIteration OperatorNorm(const LinearMap& apply, const LinearMap& apply_transpose,
                            const torch::Tensor& v0, int iters) {
  TORCH_CHECK(iters >= 1, "power iteration needs iters >= 1, got ", iters);
  torch::NoGradGuard no_grad;
  PowerIteration r;
  r.v = Normalize(v0);
  for (int i = 0; i < iters; ++i) {
    r.u = Normalize(apply(r.v));
    r.v = Normalize(apply_transpose(r.u));
  }
  r.sigma = (r.u * apply(r.v)).sum().abs().item<double>();
  return r;
}

PowerIteration SpectralNorm(const torch::Tensor& w, int iters, torch::Tensor v0, uint64_t seed) {
  TORCH_CHECK(w.dim() == 2, "SpectralNorm expects a matrix, got ", w.sizes());
  if (!v0.defined()) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    v0 = torch::randn({w.size(1)}, gen, torch::TensorOptions().dtype(w.scalar_type()))
             .to(w.device());
  }
  return OperatorNorm([&](const torch::Tensor& v) { return w.mv(v); },
                      [&](const torch::Tensor& u) { return w.t().mv(u); }, v0, iters);
}

}  // namespace common::linalg
