// The principled initialisation of Hoedt & Klambauer, "Principled Weight Initialisation for
// Input-Convex Neural Networks" (NeurIPS 2023): non-negative weights drawn log-normally with mean
// and variance chosen so that a layer s' = W+ relu(s) + b maps pre-activations with zero mean,
// variance `var` and pairwise correlation `corr` to the same (the fixed point, Sec. 3).
#ifndef ICNN_CONVEX_INIT_H_
#define ICNN_CONVEX_INIT_H_

#include <torch/types.h>

#include "absl/status/status.h"
#include "icnn/positivity.h"

namespace icnn {

struct ConvexInitParameters {
  double weight_mean_sq = 0;  // mu_w^2 = corr / f_c(n)
  double weight_var = 0;      // v_w = relu_scale (1 - corr) / n, times (1 - bias_noise)
  double bias_mean = 0;       // -shift = -n mu_w sigma / sqrt(2 pi)
  double bias_var = 0;        // bias_noise (1 - corr) var
};

class ConvexInitialiser {
 public:
  // Same as reference defaults: var = 1, corr = 0.5, bias_noise = 0, alpha = 0.
  explicit ConvexInitialiser(double var = 1.0, double corr = 0.5, double bias_noise = 0.0,
                             double alpha = 0.0);

  // m(rho) = sqrt(1 - rho^2) + rho acos(-rho) (E[relu(s_i) relu(s_j)] = sigma^2 m(rho) / (2 pi)).
  static double MixedMoment(double rho);
  // Eq. 35: f_c(n) = n (pi - n + (n - 1) m(rho)) / (2 pi).
  double CorrelationFunction(int64_t fan_in) const;
  ConvexInitParameters ComputeParameters(int64_t fan_in) const;

  // Log-normal weights with the computed moments, written through the inverse of `positivity`
  // (so exp-parameterised layers get the right effective weights, unlike the reference's release),
  // and bias ~ N(-shift, bias_var). Sampling is in float64. A missing bias is an error.
  absl::Status Initialise(torch::Tensor& weight, torch::Tensor& bias, Positivity positivity) const;

 private:
  double var_, corr_, bias_noise_, relu_scale_;
};

// N(0, gain / fan_in) weights and zero bias: gain 1 = LeCun, 2 = He.
void TraditionalInit(torch::Tensor& weight, torch::Tensor& bias, double gain);

// The bias-only ablation (Fig. 8, ConvexBiasCorrectionInitialiser): weights ~ U(-a, a) with
// a = sqrt(gain / fan_in), bias = -fan_in E[positivity(w)] / sqrt(2 pi). The reference estimates
// E[positivity(w)] from 10000 random draws; here it is exact: a / 4 for clipping, sinh(a) / a for
// exp, 0 without positivity (n = 784, gain 2, clipping: bias = -sqrt(n) / (4 sqrt(pi)) = -3.949).
double BiasCorrectionShift(Positivity positivity, int64_t fan_in, double gain);
void BiasCorrectionInit(torch::Tensor& weight, torch::Tensor& bias, Positivity positivity,
                        double gain);

}  // namespace icnn

#endif  // ICNN_CONVEX_INIT_H_
