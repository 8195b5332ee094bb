// Exact Euclidean projections onto norm balls, shared by implicit_dl (well-posedness:
// ||A||_inf <= kappa via row-wise L1 projection) and excess_capacity (distance to
// initialisation: the (2,1) group-norm ball around the initial weights).
//
// Both are batched tensor code with no per-row C++ loop, so they run on any device: the row-wise
// L1 projection finds its thresholds by Michelot's exact finite algorithm on the rows outside the
// ball only, the group projection by sorting the group norms (Duchi et al. 2008).
//
// Example:
//   A = ProjectRowsOntoL1Ball(A, /*radius=*/0.95);            // every row: ||A[i,:]||_1 <= 0.95
//   W = ProjectOntoGroupNormBall(W, W0, /*radius=*/b, /*group_dim=*/1);
#ifndef COMMON_LINALG_PROJECTIONS_H_
#define COMMON_LINALG_PROJECTIONS_H_

#include <torch/types.h>

namespace common::linalg {

// Projects every row of `a` [rows, cols] onto {x : ||x||_1 <= radius} in the Euclidean sense:
// x = sign(a) * max(|a| - theta, 0) with theta chosen so that ||x||_1 = radius. Rows already
// inside the ball are returned unchanged (bit for bit). radius = 0 maps every row to 0;
// radius = inf is the identity. Cost: a few elementwise passes over the rows outside the ball.
torch::Tensor ProjectRowsOntoL1Ball(const torch::Tensor& a, double radius);

// The per-row threshold theta of ProjectRowsOntoL1Ball ([rows]; 0 for rows inside the ball).
torch::Tensor L1BallThresholds(const torch::Tensor& a, double radius);

// Projects `x` onto {x : sum_g ||(x - anchor)_g||_2 <= radius}, where a group g is a fibre along
// `group_dim` (all other indices fixed): rows of a [out, in] matrix for group_dim = 1, the
// input-channel fibres K[o, :, a, b] of a conv kernel. Group soft-thresholding:
// delta_g <- max(0, 1 - lambda / ||delta_g||) * delta_g, with lambda found exactly by sorting
// the group norms (not by bisection). Zero groups stay zero; points inside are unchanged.
torch::Tensor ProjectOntoGroupNormBall(const torch::Tensor& x, const torch::Tensor& anchor,
                                       double radius, int64_t group_dim = 1);

// sum_g ||(x - anchor)_g||_2 with the grouping above.
torch::Tensor GroupNormDistance(const torch::Tensor& x, const torch::Tensor& anchor,
                                int64_t group_dim = 1);

}  // namespace common::linalg

#endif  // COMMON_LINALG_PROJECTIONS_H_
