// Plain C++ references (no CUDA, no LibTorch) of the GPU spectral norms in spectral_norm.h.
#ifndef EXCESS_CAPACITY_CUDA_SPECTRAL_NORM_HOST_H_
#define EXCESS_CAPACITY_CUDA_SPECTRAL_NORM_HOST_H_

#include <vector>

namespace excess_capacity::cuda {

// `iters` rounds of u <- normalize(W v), v <- normalize(W^T u) from v (in: start, out: the last
// unit v) for w [rows, cols] row-major, in double; returns sigma = |u^T W v| (0 for W = 0).
// The algorithm of common/linalg/power_iteration.h.
double MatrixSpectralNormHost(const std::vector<float>& w, int rows, int cols, int iters,
                              std::vector<float>& v);

// Exact spectral norm of the stride-1 cyclic convolution of w [cout, cin, k, k] on an
// height x width torus: max over all height * width frequencies of the largest singular value of
// the direct DFT of the kernel (cout x cin complex), each found as the largest eigenvalue of its
// Gram matrix by power iteration run to convergence (relative change < 1e-13).
double CyclicConvSpectralNormHost(const std::vector<float>& w, int cout, int cin, int k, int height,
                                  int width);

}  // namespace excess_capacity::cuda

#endif  // EXCESS_CAPACITY_CUDA_SPECTRAL_NORM_HOST_H_
