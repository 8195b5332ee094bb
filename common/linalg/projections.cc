#include "common/linalg/projections.h"

#include <torch/torch.h>

#include <cmath>

namespace common::linalg {
namespace {

void CheckRadius(double radius) {
  TORCH_CHECK(radius >= 0 && !std::isnan(radius), "radius must be >= 0, got ", radius);
}

}  // namespace

namespace {

// theta of each row of `abs` (all rows outside the ball), by sorting (Duchi et al. 2008): with u
// sorted descending and c_k = u_1 + ... + u_k, rho = max{k : u_k - (c_k - r) / k > 0} and
// theta = (c_rho - r) / rho.
torch::Tensor ThresholdsBySort(const torch::Tensor& abs, double radius) {
  torch::Tensor sorted = std::get<0>(abs.sort(1, /*descending=*/true));
  torch::Tensor cumsum = sorted.cumsum(1);
  torch::Tensor k = torch::arange(1, abs.size(1) + 1, abs.options());
  torch::Tensor rho = ((sorted - (cumsum - radius) / k) > 0).sum(1, /*keepdim=*/true);
  rho.clamp_(/*min=*/1);  // radius 0: theta = max |a_i|, i.e. rho = 1
  return (cumsum.gather(1, rho - 1) - radius).squeeze(1) / rho.squeeze(1);
}

// The same thresholds by Michelot's (1986) finite algorithm: theta <- (sum_{|a| > theta} |a| - r) /
// #{|a| > theta}, starting from all entries, until the set stops shrinking. Exact, and a few
// elementwise passes instead of a sort; needs radius > 0 and every row outside the ball.
torch::Tensor ThresholdsByMichelot(const torch::Tensor& abs, double radius) {
  torch::Tensor count = torch::full({abs.size(0)}, abs.size(1), abs.options().dtype(torch::kLong));
  torch::Tensor theta = (abs.sum(1) - radius) / static_cast<double>(abs.size(1));
  for (int64_t step = 0; step < abs.size(1); ++step) {
    const torch::Tensor kept = abs > theta.unsqueeze(1);
    const torch::Tensor new_count = kept.sum(1);
    if (torch::equal(new_count, count)) break;
    count = new_count;
    theta = ((abs * kept).sum(1) - radius) / count.clamp_min(1).to(abs.scalar_type());
  }
  return theta;
}

struct OutsideRows {
  torch::Tensor rows;   // [k] indices of rows with ||a_i||_1 > radius
  torch::Tensor theta;  // [k] their thresholds
};

OutsideRows ThresholdsOfOutsideRows(const torch::Tensor& a, double radius, bool by_sort) {
  CheckRadius(radius);
  TORCH_CHECK(a.dim() == 2, "expected a [rows, cols] matrix, got ", a.sizes());
  const torch::Tensor abs = a.abs();
  OutsideRows out;
  out.rows = std::isinf(radius) ? torch::empty({0}, a.options().dtype(torch::kLong))
                                : (abs.sum(1) > radius).nonzero().squeeze(1);
  if (out.rows.numel() == 0) {
    out.theta = torch::empty({0}, a.options());
    return out;
  }
  const torch::Tensor sub = abs.index_select(0, out.rows);
  if (radius == 0) {
    out.theta = std::get<0>(sub.max(1));
  } else {
    out.theta = by_sort ? ThresholdsBySort(sub, radius) : ThresholdsByMichelot(sub, radius);
  }
  return out;
}

torch::Tensor ScatterThresholds(const torch::Tensor& a, const OutsideRows& o) {
  return torch::zeros({a.size(0)}, a.options()).index_copy_(0, o.rows, o.theta);
}

}  // namespace

torch::Tensor L1BallThresholds(const torch::Tensor& a, double radius) {
  return ScatterThresholds(a, ThresholdsOfOutsideRows(a, radius, /*by_sort=*/false));
}

torch::Tensor ProjectRowsOntoL1Ball(const torch::Tensor& a, double radius) {
  const OutsideRows o = ThresholdsOfOutsideRows(a, radius, /*by_sort=*/false);
  if (o.rows.numel() == 0) return a.clone();
  const torch::Tensor sub = a.index_select(0, o.rows);
  const torch::Tensor shrunk = sub.sign() * (sub.abs() - o.theta.unsqueeze(1)).clamp_min(0);
  return a.clone().index_copy_(0, o.rows, shrunk);
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
  if (std::isinf(radius) || norms.sum().item<double>() <= radius) return x;  // inside: unchanged
  // lambda solves sum_g max(n_g - lambda, 0) = r: the L1-ball threshold of the norm vector,
  // found by sorting the group norms.
  const torch::Tensor flat = norms.reshape({1, -1});
  torch::Tensor lambda = ScatterThresholds(flat, ThresholdsOfOutsideRows(flat, radius, true));
  torch::Tensor scale =
      torch::where(norms > 0, (1 - lambda / norms).clamp_min(0), torch::zeros_like(norms));
  return anchor + delta * scale;
}

}  // namespace common::linalg
