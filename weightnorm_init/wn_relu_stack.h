// The hidden stack of a weight-normalised ReLU MLP,
//
//   h_0 = x,   h_l = ReLU(W_l h_{l-1} + b_l),   W_l = g_l v_l / ||v_l||   (l = 1..L),
//
// as one autograd node whose backward is written out (the ReLU mask, three GEMMs per layer and
// the weight-norm chain rule grad_g = <grad_W, v> / ||v||, grad_v = (g / ||v||) (grad_W -
// grad_g v / ||v||)). The same function as stacking WnLayer + ReLU, with far fewer autograd
// nodes and allocations: the 20-layer MLP's SGD step on one CPU thread goes from 4.5 to about
// 3 ms (benchmarks/RESULTS.md).
#ifndef WEIGHTNORM_INIT_WN_RELU_STACK_H_
#define WEIGHTNORM_INIT_WN_RELU_STACK_H_

#include <torch/types.h>

#include <vector>

namespace weightnorm_init {

// x [B, in]; params = {v_1 [n_1, in], g_1 [n_1, 1], b_1 [n_1], v_2, g_2, b_2, ...}.
// Returns h_L [B, n_L]; gradients reach x (when it requires grad) and every parameter.
torch::Tensor WnReluStack(const torch::Tensor& x, const std::vector<torch::Tensor>& params);

}  // namespace weightnorm_init

#endif  // WEIGHTNORM_INIT_WN_RELU_STACK_H_
