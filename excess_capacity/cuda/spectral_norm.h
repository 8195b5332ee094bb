// Spectral norms on the GPU for the Lipschitz constants of Graf et al. (NeurIPS 2022): power
// iteration on a dense matrix (linear layers), and the exact norm of a stride-1 cyclic
// convolution as the largest per-frequency singular value of the kernel's 2-D DFT (Sedghi et
// al. 2019), with a batched power iteration over the frequencies. Raw device pointers, no
// LibTorch, no cuFFT (the DFT of a k x k kernel is computed directly: k^2 terms per entry); host
// references in spectral_norm_host.h.
//
//   SpectralWorkspace ws;
//   SpectralWorkspaceCreate(/*matrix_rows=*/512, /*matrix_cols=*/512, {512, 512, 3, 4, 4}, &ws);
//   MatrixSpectralNorm(d_w, 512, 512, /*iters=*/20, d_v, ws, stream);          // ws.sigma
//   CyclicConvSpectralNorm(d_kernel, {512, 512, 3, 4, 4}, /*iters=*/50, ws, stream);
//
// Every call enqueues a fixed sequence of launches (no host synchronisation), so a caller can
// capture it into a CUDA graph; the result is the device scalar ws.sigma.
#ifndef EXCESS_CAPACITY_CUDA_SPECTRAL_NORM_H_
#define EXCESS_CAPACITY_CUDA_SPECTRAL_NORM_H_

#include <cuda_runtime_api.h>

namespace excess_capacity::cuda {

// A conv kernel [cout, cin, k, k] acting on a height x width torus.
struct ConvShape {
  int cout = 0, cin = 0, k = 0, height = 0, width = 0;
  // Frequencies kept: conjugate symmetry makes (u, v) and (-u, -v) share singular values.
  int Frequencies() const { return height * (width / 2 + 1); }
};

struct SpectralWorkspace {
  float* sigma = nullptr;       // device scalar: the last result
  float* scalars = nullptr;     // inverse norms
  float* u = nullptr;           // [max rows]
  float* v_raw = nullptr;       // [max cols]
  float* spectrum = nullptr;    // complex [F, cout, cin] as (re, im) pairs
  float* x = nullptr;           // complex [F, cin]
  float* y = nullptr;           // complex [F, cout]
  float* freq_scale = nullptr;  // [F]
  int max_rows = 0, max_cols = 0;
  ConvShape max_conv;
};

// For matrices up to [matrix_rows, matrix_cols] and convolutions whose F * cout * cin,
// F * cin, F * cout do not exceed those of `conv`.
cudaError_t SpectralWorkspaceCreate(int matrix_rows, int matrix_cols, const ConvShape& conv,
                                    SpectralWorkspace* ws);
void SpectralWorkspaceDestroy(SpectralWorkspace* ws);

// `iters` rounds of u <- normalize(W v), v <- normalize(W^T u) for w [rows, cols] from v
// (device, [cols]; in: the start, out: the last unit v for a warm start); ws.sigma = ||W^T u||.
cudaError_t MatrixSpectralNorm(const float* w, int rows, int cols, int iters, float* v,
                               const SpectralWorkspace& ws, cudaStream_t stream);

// ws.sigma = max over frequencies of the per-frequency largest singular value after `iters`
// power-iteration rounds (a lower bound that converges to the exact norm).
cudaError_t CyclicConvSpectralNorm(const float* kernel, const ConvShape& shape, int iters,
                                   const SpectralWorkspace& ws, cudaStream_t stream);

}  // namespace excess_capacity::cuda

#endif  // EXCESS_CAPACITY_CUDA_SPECTRAL_NORM_H_
