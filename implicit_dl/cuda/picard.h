// Picard iterations of the implicit model on the GPU (El Ghaoui et al. 2021, Sec. 3): the forward
// fixed point X = phi(A X + Z) and the adjoint V = D o (A^T V) + D o G of the backward pass, with
// the stopping rule and returned iterate of implicit_dl/implicit_function.h. Raw device pointers,
// row-major, no LibTorch; host references in picard_host.h.
//
// All iterations of a solve run inside one cooperative launch: each block computes output tiles
// of A X (tiles of A and X staged in shared memory, A read from L2 after the first pass), applies
// the epilogue (add, phi, max |change| into a per-iteration slot by atomic max), and the grid
// synchronises once per iteration to test convergence on the device. No host round trip per
// iteration, one launch per solve. Hand-written tiles rather than cuBLAS keep the binaries free
// of the 600 MB cuBLAS libraries (there is no static cuBLAS in this CUDA install).
//
//   PicardWorkspace ws;
//   PicardWorkspaceCreate(n, m, /*mitr=*/300, /*bf16=*/false, &ws);
//   PicardForward(d_A, d_Z, d_X, {n, m, 300, 3e-6f, Phi::kReLU}, ws, stream);
//   PicardStats stats;
//   PicardReadStats(ws, &stats, stream);   // iterations, error, converged
#ifndef IMPLICIT_DL_CUDA_PICARD_H_
#define IMPLICIT_DL_CUDA_PICARD_H_

#include <cuda_runtime_api.h>

#include "implicit_dl/cuda/picard_host.h"  // Phi, PicardStats

namespace implicit_dl::cuda {

enum class Precision {
  kFp32,   // A, X and accumulation in fp32
  kBf16A,  // A rounded to bf16 once per solve (half the bytes), X and accumulation fp32
};

// Output tiles per block: 16 x 32 (small problems: more blocks) or 64 x 64 (large). kAuto takes
// the large tiles once they alone give every SM a block.
enum class Tiles { kAuto, kSmall, kLarge };

struct PicardProblem {
  int n = 0;  // state size: A [n, n]
  int m = 0;  // batch: X, Z [n, m]
  int mitr = 300;
  float tol = 3e-6f;
  Phi phi = Phi::kReLU;  // forward only
  float negative_slope = 0.01f;
  Precision precision = Precision::kFp32;
  Tiles tiles = Tiles::kAuto;
};

// Device scratch for solves with n <= max_n, m <= max_m, mitr <= max_mitr.
struct PicardWorkspace {
  float* scratch = nullptr;        // [max_n, max_m] second iterate
  unsigned int* errors = nullptr;  // [max_mitr] max |change| of each iteration (float bits)
  PicardStats* stats = nullptr;    // device copy of the last solve's outcome
  void* a_bf16 = nullptr;          // [max_n, max_n] when created with bf16
  int max_n = 0, max_m = 0, max_mitr = 0;
  int sm_count = 0;
};

cudaError_t PicardWorkspaceCreate(int max_n, int max_m, int max_mitr, bool bf16,
                                  PicardWorkspace* ws);
void PicardWorkspaceDestroy(PicardWorkspace* ws);

// X: in X0, out the solution (device, [n, m]). A [n, n], Z [n, m]. Errors: cudaErrorInvalidValue
// for sizes outside the workspace, otherwise launch errors.
cudaError_t PicardForward(const float* A, const float* Z, float* X, const PicardProblem& problem,
                          const PicardWorkspace& ws, cudaStream_t stream);

// V (out, [n, m]) from V = 0; D = phi'(A X + B U) and G = dL/dX, both [n, m].
cudaError_t PicardAdjoint(const float* A, const float* D, const float* G, float* V,
                          const PicardProblem& problem, const PicardWorkspace& ws,
                          cudaStream_t stream);

// The last solve's statistics (waits for the stream).
cudaError_t PicardReadStats(const PicardWorkspace& ws, PicardStats* stats, cudaStream_t stream);

}  // namespace implicit_dl::cuda

#endif  // IMPLICIT_DL_CUDA_PICARD_H_
