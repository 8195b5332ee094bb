#include "common/cuda/projections_host.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace common::cuda {

double L1Threshold(std::vector<double> v, double radius) {
  if (radius <= 0) return *std::max_element(v.begin(), v.end());
  std::sort(v.begin(), v.end(), std::greater<double>());
  double cumsum = 0, theta = 0;
  for (size_t k = 0; k < v.size(); ++k) {
    cumsum += v[k];
    const double t = (cumsum - radius) / static_cast<double>(k + 1);
    if (v[k] - t > 0) theta = t;  // rho = the last k with v_k > (c_k - r) / k
  }
  return theta;
}

void ProjectRowsL1BallHost(std::vector<float>& a, int rows, int cols, double radius) {
  for (int r = 0; r < rows; ++r) {
    float* row = a.data() + static_cast<long>(r) * cols;
    std::vector<double> abs(cols);
    double norm = 0;
    for (int c = 0; c < cols; ++c) norm += abs[c] = std::fabs(row[c]);
    if (!(norm > radius)) continue;
    const double theta = L1Threshold(abs, radius);
    for (int c = 0; c < cols; ++c) {
      row[c] = static_cast<float>(std::copysign(std::max(abs[c] - theta, 0.0), row[c]));
    }
  }
}

namespace {

long Index(const GroupLayout& l, int group, int i) {
  const int o = group / l.inner, j = group % l.inner;
  return (static_cast<long>(o) * l.len + i) * l.inner + j;
}

std::vector<double> GroupNorms(const std::vector<float>& x, const std::vector<float>& anchor,
                               const GroupLayout& layout) {
  std::vector<double> norms(layout.Groups());
  for (int g = 0; g < layout.Groups(); ++g) {
    double s = 0;
    for (int i = 0; i < layout.len; ++i) {
      const double d = static_cast<double>(x[Index(layout, g, i)]) - anchor[Index(layout, g, i)];
      s += d * d;
    }
    norms[g] = std::sqrt(s);
  }
  return norms;
}

}  // namespace

double GroupNormDistanceHost(const std::vector<float>& x, const std::vector<float>& anchor,
                             const GroupLayout& layout) {
  double total = 0;
  for (double n : GroupNorms(x, anchor, layout)) total += n;
  return total;
}

void ProjectGroupNormBallHost(std::vector<float>& x, const std::vector<float>& anchor,
                              const GroupLayout& layout, double radius) {
  const std::vector<double> norms = GroupNorms(x, anchor, layout);
  double total = 0;
  for (double n : norms) total += n;
  if (!(total > radius)) return;
  const double lambda = L1Threshold(norms, radius);
  for (int g = 0; g < layout.Groups(); ++g) {
    const double factor = norms[g] > 0 ? std::max(0.0, 1.0 - lambda / norms[g]) : 0.0;
    for (int i = 0; i < layout.len; ++i) {
      const long k = Index(layout, g, i);
      x[k] = static_cast<float>(anchor[k] + factor * (static_cast<double>(x[k]) - anchor[k]));
    }
  }
}

}  // namespace common::cuda
