// Plain C++ references (no CUDA, no LibTorch) of the GPU Picard solves in picard.h: the same
// fixed-point maps and stopping rule as implicit_dl/implicit_function.h, with double
// accumulation, row-major float storage. Slow and simple on purpose: tests compare against them.
#ifndef IMPLICIT_DL_CUDA_PICARD_HOST_H_
#define IMPLICIT_DL_CUDA_PICARD_HOST_H_

#include <vector>

namespace implicit_dl::cuda {

// The activations of implicit_dl::Activation.
enum class Phi { kReLU = 0, kTanh = 1, kLeakyReLU = 2, kSiLU = 3 };

float ApplyPhiHost(Phi phi, float negative_slope, float z);

// The outcome of one solve, as implicit_dl::FixedPoint: maps evaluated, the last max-abs
// change, and whether it fell below tol.
struct PicardStats {
  int iterations = 0;
  float error = 0;
  int converged = 0;
};

// X <- phi(A X + Z) from X (in: X0) until max|X_new - X| < tol (X keeps the iterate before that
// update) or mitr maps (X is the last update). A [n, n], Z and X [n, m], row-major.
PicardStats PicardForwardHost(const std::vector<float>& A, const std::vector<float>& Z,
                              std::vector<float>& X, int n, int m, Phi phi, float negative_slope,
                              int mitr, float tol);

// V <- D o (A^T V) + D o G from V = 0, same rule; V is resized to [n, m].
PicardStats PicardAdjointHost(const std::vector<float>& A, const std::vector<float>& D,
                              const std::vector<float>& G, std::vector<float>& V, int n, int m,
                              int mitr, float tol);

}  // namespace implicit_dl::cuda

#endif  // IMPLICIT_DL_CUDA_PICARD_HOST_H_
