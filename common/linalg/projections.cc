#include "common/linalg/projections.h"

#include <cmath>

#include <torch/torch.h>

namespace common::linalg {
namespace {

void CheckRadius(double radius) {
  TORCH_CHECK(radius >= 0 && !std::isnan(radius), "radius must be >= 0, got ", radius);
}

}  // namespace

torch::Tensor L1BallThresholds(const torch::Tensor& a, double radius) {
  CheckRadius(radius);
  TORCH_CHECK(a.dim() == 2, "expected a [rows, cols] matrix, got ", a.sizes());
  torch::Tensor abs = a.abs();
  torch::Tensor l1 = abs.sum(1);
  if (std::isinf(radius) || a.size(1) == 0) return torch::zeros_like(l1);
  // Duchi et al. (2008): with u sorted descending and c_k = u_1 + ... + u_k,
  // rho = max{k : u_k - (c_k - r) / k > 0} and theta = (c_rho - r) / rho.
  torch::Tensor sorted = std::get<0>(abs.sort(1, /*descending=*/true));
  torch::Tensor cumsum = sorted.cumsum(1);
  torch::Tensor k = torch::arange(1, a.size(1) + 1, a.options());
  torch::Tensor rho = ((sorted - (cumsum - radius) / k) > 0).sum(1, /*keepdim=*/true);
  rho.clamp_(/*min=*/1);  // radius 0: theta = max |a_i|, i.e. rho = 1
  torch::Tensor theta = (cumsum.gather(1, rho - 1) - radius).squeeze(1) / rho.squeeze(1);
  return torch::where(l1 > radius, theta, torch::zeros_like(theta));
}

torch::Tensor ProjectRowsOntoL1Ball(const torch::Tensor& a, double radius) {
  torch::Tensor theta = L1BallThresholds(a, radius).unsqueeze(1);
  torch::Tensor shrunk = a.sign() * (a.abs() - theta).clamp_min(0);
  torch::Tensor outside = (a.abs().sum(1, /*keepdim=*/true) > radius);
  return torch::where(outside, shrunk, a);
}

torch::Tensor GroupNormDistance(const torch::Tensor& x, const torch::Tensor& anchor,
                                int64_t group_dim) {
  return (x - anchor).norm(2, group_dim).sum();
}

torch::Tensor ProjectOntoGroupNormBall(const torch::Tensor& x, const torch::Tensor& anchor,
                                       double radius, int64_t group_dim) {
  CheckRadius(radius);
  TORCH_CHECK(x.sizes() == anchor.sizes(), "x ", x.sizes(), " and anchor ", anchor.sizes(),
              " differ in shape");
  torch::Tensor delta = x - anchor;
  torch::Tensor norms = delta.norm(2, group_dim, /*keepdim=*/true);
  // lambda solves sum_g max(n_g - lambda, 0) = r: the L1-ball threshold of the norm vector.
  torch::Tensor lambda = L1BallThresholds(norms.reshape({1, -1}), radius);
  torch::Tensor scale =
      torch::where(norms > 0, (1 - lambda / norms).clamp_min(0), torch::zeros_like(norms));
  torch::Tensor inside = norms.sum() <= radius;
  return torch::where(inside, x, anchor + delta * scale);
}

}  // namespace common::linalg
