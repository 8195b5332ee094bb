#include "implicit_dl/cuda/picard_host.h"

#include <cmath>
#include <utility>

namespace implicit_dl::cuda {
namespace {

// Runs the Picard loop of implicit_dl::Picard: map(x, out) fills out; stops at the first
// max|out - x| < tol keeping x, or after mitr maps with the last out.
template <typename Map>
PicardStats Iterate(const Map& map, std::vector<float>& x, int mitr, float tol) {
  std::vector<float> out(x.size());
  PicardStats stats;
  for (int k = 0; k < mitr; ++k) {
    map(x, out);
    float error = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const float d = std::fabs(out[i] - x[i]);
      if (d > error || std::isnan(d)) error = d;
    }
    stats.iterations = k + 1;
    stats.error = error;
    if (error < tol) {
      stats.converged = 1;
      return stats;
    }
    std::swap(x, out);
  }
  return stats;
}

}  // namespace

float ApplyPhiHost(Phi phi, float negative_slope, float z) {
  switch (phi) {
    case Phi::kReLU:
      return z > 0 ? z : 0.0f;
    case Phi::kTanh:
      return std::tanh(z);
    case Phi::kLeakyReLU:
      return z > 0 ? z : negative_slope * z;
    case Phi::kSiLU:
      return z / (1.0f + std::exp(-z));
  }
  return z;
}

PicardStats PicardForwardHost(const std::vector<float>& A, const std::vector<float>& Z,
                              std::vector<float>& X, int n, int m, Phi phi, float negative_slope,
                              int mitr, float tol) {
  auto map = [&](const std::vector<float>& x, std::vector<float>& out) {
    for (int r = 0; r < n; ++r) {
      for (int c = 0; c < m; ++c) {
        double acc = 0;
        for (int k = 0; k < n; ++k) acc += double(A[size_t(r) * n + k]) * x[size_t(k) * m + c];
        const size_t i = size_t(r) * m + c;
        out[i] = ApplyPhiHost(phi, negative_slope, static_cast<float>(acc) + Z[i]);
      }
    }
  };
  return Iterate(map, X, mitr, tol);
}

PicardStats PicardAdjointHost(const std::vector<float>& A, const std::vector<float>& D,
                              const std::vector<float>& G, std::vector<float>& V, int n, int m,
                              int mitr, float tol) {
  auto map = [&](const std::vector<float>& v, std::vector<float>& out) {
    for (int r = 0; r < n; ++r) {
      for (int c = 0; c < m; ++c) {
        double acc = 0;
        for (int k = 0; k < n; ++k) acc += double(A[size_t(k) * n + r]) * v[size_t(k) * m + c];
        const size_t i = size_t(r) * m + c;
        out[i] = static_cast<float>(acc) * D[i] + D[i] * G[i];
      }
    }
  };
  V.assign(size_t(n) * m, 0.0f);
  return Iterate(map, V, mitr, tol);
}

}  // namespace implicit_dl::cuda
