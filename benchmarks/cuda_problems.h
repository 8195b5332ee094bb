// Deterministic benchmark inputs that benchmarks/peers/cuda_reference.py rebuilds bit for bit
// from the same formulas (no RNG to keep in step): Hash(i, j) = frac(sin(12.9898 i + 78.233 j)
// * 43758.5453) - 0.5 in double.
#ifndef BENCHMARKS_CUDA_PROBLEMS_H_
#define BENCHMARKS_CUDA_PROBLEMS_H_

#include <cmath>
#include <vector>

namespace benchmarks::cuda {

inline double Hash(double i, double j) {
  const double s = std::sin(12.9898 * i + 78.233 * j) * 43758.5453;
  return s - std::floor(s) - 0.5;
}

// rows x cols of scale * Hash(i + offset, j).
inline std::vector<float> HashMatrix(int rows, int cols, double scale, int offset = 0) {
  std::vector<float> m(static_cast<size_t>(rows) * cols);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j)
      m[static_cast<size_t>(i) * cols + j] = scale * Hash(i + offset, j);
  return m;
}

// The implicit model's A for the Picard benchmarks: 0.6 on the diagonal plus hashed entries of
// scale 1.4 / n off it, so ||A||_inf <= 0.95 (well-posed) and Picard needs a few dozen maps to
// reach tol 3e-6 (the trained models of the paper need 40 to 80).
inline std::vector<float> PicardA(int n) {
  std::vector<float> a = HashMatrix(n, n, 1.4 / n);
  for (int i = 0; i < n; ++i) a[static_cast<size_t>(i) * n + i] = 0.6f;
  return a;
}

}  // namespace benchmarks::cuda

#endif  // BENCHMARKS_CUDA_PROBLEMS_H_
