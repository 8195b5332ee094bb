#include "icnn/level_set_paths.h"

#include <torch/autograd.h>

namespace icnn {
namespace {

double Value(const ScalarFunction& f, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  return f(x).item<double>();
}

torch::Tensor Gradient(const ScalarFunction& f, const torch::Tensor& x) {
  torch::Tensor v = x.detach().clone().requires_grad_(true);
  return torch::autograd::grad({f(v)}, {v})[0];
}

}  // namespace

torch::Tensor FindMinimum(const ScalarFunction& f, const torch::Tensor& x0, int steps,
                          double step_size) {
  torch::Tensor x = x0.detach().clone();
  for (int i = 0; i < steps; ++i) x -= step_size * Gradient(f, x);
  return x;
}

torch::Tensor ReturnToLevel(const ScalarFunction& f, const torch::Tensor& x,
                            const torch::Tensor& target, double level) {
  const torch::Tensor dir = target - x;
  auto g = [&](double r) { return Value(f, x + r * dir) - level; };
  if (g(1.0) >= 0) return x;  // the target is not below the level
  double lo = 0.0;            // g(lo) >= 0 wanted: walk away from the target until above the level
  for (int i = 0; i < 60 && g(lo) < 0; ++i) lo = lo == 0 ? -1.0 : 2 * lo;
  if (g(lo) < 0) return x;
  double hi = 1.0;  // g(hi) < 0; convexity: exactly one root in [lo, hi]
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    (g(mid) >= 0 ? lo : hi) = mid;
  }
  return x + 0.5 * (lo + hi) * dir;
}

std::vector<torch::Tensor> InterpolateAlongLevelSet(const ScalarFunction& f,
                                                    const torch::Tensor& x0,
                                                    const torch::Tensor& x1,
                                                    const torch::Tensor& x_min, int points) {
  const double level = Value(f, x0);
  std::vector<torch::Tensor> out;
  for (int i = 1; i <= points; ++i) {
    const torch::Tensor x = x0 + (static_cast<double>(i) / points) * (x1 - x0);
    out.push_back(ReturnToLevel(f, x, x_min, level));
  }
  return out;
}

std::vector<torch::Tensor> TrackLevelSet(const ScalarFunction& f, const torch::Tensor& x0,
                                         const torch::Tensor& x1, const torch::Tensor& x_ref,
                                         int steps) {
  const double level = Value(f, x0);
  const double step = (x1 - x0).norm().item<double>() / steps;
  torch::Tensor x = x0.detach().clone();
  std::vector<torch::Tensor> out;
  for (int i = 0; i < steps; ++i) {
    torch::Tensor d = x1 - x;
    d = d / d.norm().clamp_min(1e-12);
    const torch::Tensor g = Gradient(f, x);
    const double gg = g.dot(g).item<double>();
    if (gg > 0) d = d - (d.dot(g).item<double>() / gg) * g;  // stay on the tangent plane
    x = ReturnToLevel(f, x + step * d / d.norm().clamp_min(1e-12), x_ref, level);
    out.push_back(x);
  }
  return out;
}

}  // namespace icnn
