#include "excess_capacity/bounds.h"

#include <algorithm>
#include <cmath>

namespace excess_capacity {
namespace {

std::vector<double> Complexities(const BoundInputs& in) {
  double product = 1;
  for (const LayerCapacity& l : in.layers) product *= l.lip;
  std::vector<double> c;
  for (const LayerCapacity& l : in.layers) {
    c.push_back(4 / in.margin * in.data_norm / std::sqrt(in.n) * product * l.dist / l.lip);
  }
  return c;
}

double Harmonic(double m) {
  double h = 0;
  for (int64_t k = 1; k <= static_cast<int64_t>(m); ++k) h += 1.0 / static_cast<double>(k);
  return h;
}

double FirstForm(const std::vector<double>& c, double max_params, double n, bool paper_form) {
  double sum = 0;
  for (double ci : c)
    sum += paper_form ? std::ceil(std::pow(ci, 2.0 / 3.0)) : std::pow(ci, 2.0 / 3.0);
  const double lead = paper_form ? Harmonic(n - 1) : std::log(n);
  return 4 / n +
         12 * lead / std::sqrt(n) * std::sqrt(std::log(2 * max_params)) * std::pow(sum, 1.5);
}

double MaxParams(const BoundInputs& in) {
  double w = 1;
  for (const LayerCapacity& l : in.layers) w = std::max(w, l.params);
  return w;
}

}  // namespace

double HurwitzZeta(double s, double a) {
  // Direct sum of the first N terms, then the Euler-Maclaurin tail.
  constexpr int kTerms = 200;
  double sum = 0;
  for (int k = 0; k < kTerms; ++k) sum += std::pow(k + a, -s);
  const double x = kTerms + a;
  return sum + std::pow(x, 1 - s) / (s - 1) + 0.5 * std::pow(x, -s) + s * std::pow(x, -s - 1) / 12;
}

double FirstBound(const BoundInputs& in, bool paper_form) {
  return FirstForm(Complexities(in), MaxParams(in), in.n, paper_form);
}

double SecondBound(const BoundInputs& in, bool paper_form) {
  const double depth = static_cast<double>(in.layers.size());
  const double zeta = HurwitzZeta(1.5, 1.0);
  const std::vector<double> c = Complexities(in);
  double sum = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    double x = depth * depth * c[i] * c[i];
    if (paper_form) x = std::ceil(x);
    const double psi = x > 0 ? std::cbrt(zeta) * HurwitzZeta(1.5, 1 + 1 / (x * x)) : 0;
    sum += 2 * in.layers[i].params * (std::log1p(x) + psi);
  }
  return 12 / std::sqrt(in.n) * std::sqrt(sum);
}

double BartlettBound(const BoundInputs& in) {
  std::vector<double> c = Complexities(in);
  double max_params = 1;
  for (size_t i = 0; i < c.size(); ++i) {
    const LayerCapacity& l = in.layers[i];
    c[i] *= l.output_size * l.output_size / l.kernel;
    max_params =
        std::max(max_params, l.params * std::pow(l.input_size * l.output_size / l.kernel, 2));
  }
  return FirstForm(c, max_params, in.n, /*paper_form=*/false);
}

}  // namespace excess_capacity
