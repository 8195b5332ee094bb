// Level-set exploration with a convex function (the reference's tox21/level_sets.py): with an
// input-convex network f, the sublevel set {x : f(x) <= f(x0)} is convex, so one can move between
// two inputs while keeping the prediction fixed. Three pieces:
//
//   FindMinimum               plain gradient descent from x0 (the reference: 1000 steps of 1.0)
//   InterpolateAlongLevelSet  points on the segment x0 -> x1, each moved along the line to x_min
//                             until f equals f(x0) (the reference used scipy's minimize_scalar on
//                             |f - f(x0)|; here the root is bracketed and bisected, which is exact
//                             for convex f)
//   TrackLevelSet             steps along (x1 - x0) projected orthogonally to grad f, each followed
//                             by the same return to the level along the line to x_ref
#ifndef ICNN_LEVEL_SET_PATHS_H_
#define ICNN_LEVEL_SET_PATHS_H_

#include <torch/types.h>

#include <functional>
#include <vector>

namespace icnn {

// x [D] -> a scalar tensor, differentiable in x.
using ScalarFunction = std::function<torch::Tensor(const torch::Tensor&)>;

torch::Tensor FindMinimum(const ScalarFunction& f, const torch::Tensor& x0, int steps = 1000,
                          double step_size = 1.0);

// The point x + r (target - x), r <= 1, where f equals `level` (f convex, f(target) < level); x
// itself when no such r is found within 60 doublings / bisections.
torch::Tensor ReturnToLevel(const ScalarFunction& f, const torch::Tensor& x,
                            const torch::Tensor& target, double level);

// `points` points (x0 excluded, x1's projection included) at the level f(x0).
std::vector<torch::Tensor> InterpolateAlongLevelSet(const ScalarFunction& f,
                                                    const torch::Tensor& x0,
                                                    const torch::Tensor& x1,
                                                    const torch::Tensor& x_min, int points = 10);

std::vector<torch::Tensor> TrackLevelSet(const ScalarFunction& f, const torch::Tensor& x0,
                                         const torch::Tensor& x1, const torch::Tensor& x_ref,
                                         int steps = 10);

}  // namespace icnn

#endif  // ICNN_LEVEL_SET_PATHS_H_
