#include "excess_capacity/cuda/spectral_norm_host.h"

#include <cmath>
#include <complex>

namespace excess_capacity::cuda {
namespace {

using Complex = std::complex<double>;

double Normalize(std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v * v;
  s = std::sqrt(s);
  for (double& v : x) v = s > 0 ? v / s : 0.0;
  return s;
}

// Largest eigenvalue of the Hermitian positive semi-definite g [n, n] by power iteration.
double LargestEigenvalue(const std::vector<Complex>& g, int n) {
  std::vector<Complex> x(n), y(n);
  for (int i = 0; i < n; ++i) x[i] = Complex(1.0 + 0.1 * std::sin(1.0 + i), 0.05 * i);
  double lambda = 0;
  for (int it = 0; it < 20000; ++it) {
    double norm = 0;
    for (const Complex& v : x) norm += std::norm(v);
    norm = std::sqrt(norm);
    if (norm == 0) return 0;
    for (int r = 0; r < n; ++r) {
      Complex acc = 0;
      for (int c = 0; c < n; ++c) acc += g[size_t(r) * n + c] * x[c] / norm;
      y[r] = acc;
    }
    double next = 0;
    for (const Complex& v : y) next += std::norm(v);
    next = std::sqrt(next);  // ||G x|| for unit x
    x.swap(y);
    if (std::fabs(next - lambda) <= 1e-13 * next) return next;
    lambda = next;
  }
  return lambda;
}

}  // namespace

double MatrixSpectralNormHost(const std::vector<float>& w, int rows, int cols, int iters,
                              std::vector<float>& v) {
  std::vector<double> vd(v.begin(), v.end()), u(rows);
  Normalize(vd);
  double sigma = 0;
  for (int it = 0; it < iters; ++it) {
    for (int r = 0; r < rows; ++r) {
      double acc = 0;
      for (int c = 0; c < cols; ++c) acc += double(w[size_t(r) * cols + c]) * vd[c];
      u[r] = acc;
    }
    Normalize(u);
    for (int c = 0; c < cols; ++c) vd[c] = 0;
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c) vd[c] += double(w[size_t(r) * cols + c]) * u[r];
    }
    sigma = Normalize(vd);  // ||W^T u|| = u^T W v for the normalised v
  }
  for (int c = 0; c < cols; ++c) v[c] = static_cast<float>(vd[c]);
  return sigma;
}

double CyclicConvSpectralNormHost(const std::vector<float>& w, int cout, int cin, int k, int height,
                                  int width) {
  const double kTwoPi = 6.283185307179586;
  double best = 0;
  std::vector<Complex> m(size_t(cout) * cin), g(size_t(cin) * cin);
  for (int fu = 0; fu < height; ++fu) {
    for (int fv = 0; fv < width; ++fv) {
      for (int o = 0; o < cout; ++o) {
        for (int i = 0; i < cin; ++i) {
          Complex acc = 0;
          for (int a = 0; a < k; ++a) {
            for (int b = 0; b < k; ++b) {
              const double phase = -kTwoPi * (double(fu) * a / height + double(fv) * b / width);
              acc += double(w[((size_t(o) * cin + i) * k + a) * k + b]) * std::polar(1.0, phase);
            }
          }
          m[size_t(o) * cin + i] = acc;
        }
      }
      for (int r = 0; r < cin; ++r) {
        for (int c = 0; c < cin; ++c) {
          Complex acc = 0;
          for (int o = 0; o < cout; ++o)
            acc += std::conj(m[size_t(o) * cin + r]) * m[size_t(o) * cin + c];
          g[size_t(r) * cin + c] = acc;
        }
      }
      best = std::fmax(best, std::sqrt(LargestEigenvalue(g, cin)));
    }
  }
  return best;
}

}  // namespace excess_capacity::cuda
