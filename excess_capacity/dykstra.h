// Dykstra's alternating projection algorithm (Boyle & Dykstra 1986), the projector of the
// reference (core/projections.py, "Dysktra"): for closed convex sets it converges to the
// Euclidean projection onto their intersection; with one sweep it is the plain sequence of
// projections P_m(...P_1(x)).
#ifndef EXCESS_CAPACITY_DYKSTRA_H_
#define EXCESS_CAPACITY_DYKSTRA_H_

#include <torch/types.h>

#include <functional>
#include <vector>

namespace excess_capacity {

using Projector = std::function<torch::Tensor(const torch::Tensor&)>;

// Starting from x_i = x, p_i = 0, each sweep does for i = 1..m:
//   x_i <- P_i(x_{i-1} + p_i),  p_i <- x_{i-1} + p_i - x_i   (x_0 is the previous sweep's x_m).
// Returns x_m, the output of the last set (same as reference).
torch::Tensor Dykstra(const std::vector<Projector>& sets, const torch::Tensor& x, int sweeps);

}  // namespace excess_capacity

#endif  // EXCESS_CAPACITY_DYKSTRA_H_
