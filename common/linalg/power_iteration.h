// Spectral norm by power iteration, for a dense matrix or for an operator given as a pair of
// functions (A, A^T), e.g. a convolution and its transpose. Used by excess_capacity (Lipschitz
// constants of layers) and implicit_dl diagnostics.
//
// Example:
//   PowerIteration p = SpectralNorm(W, /*iters=*/100);          // p.sigma ~ ||W||_2
//   PowerIteration q = OperatorNorm(conv, conv_t, p_prev.v, 10); // warm start from p_prev.v
#ifndef COMMON_LINALG_POWER_ITERATION_H_
#define COMMON_LINALG_POWER_ITERATION_H_

#include <torch/types.h>

#include <functional>

namespace common::linalg {

using LinearMap = std::function<torch::Tensor(const torch::Tensor&)>;

struct PowerIteration {
  double sigma = 0;  // |u^T A v|, a lower bound on ||A||_2 that converges to it
  torch::Tensor u;   // unit vector in the output space of A
  torch::Tensor v;   // unit vector in the input space of A; pass it back as a warm start
};

// `iters` rounds of u <- normalize(A v), v <- normalize(A^T u), starting from v0 (any shape the
// maps accept; it is normalised first). A zero operator gives sigma = 0, not NaN.
PowerIteration OperatorNorm(const LinearMap& apply, const LinearMap& apply_transpose,
                            const torch::Tensor& v0, int iters);

// OperatorNorm of the matrix w [m, n]; v0 [n] defaults to a standard normal draw from `seed`.
PowerIteration SpectralNorm(const torch::Tensor& w, int iters, torch::Tensor v0 = {},
                            uint64_t seed = 0);

}  // namespace common::linalg

#endif  // COMMON_LINALG_POWER_ITERATION_H_
