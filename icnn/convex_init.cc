#include "icnn/convex_init.h"

#include <torch/torch.h>

#include <cmath>

namespace icnn {

ConvexInitialiser::ConvexInitialiser(double var, double corr, double bias_noise, double alpha)
    : var_(var), corr_(corr), bias_noise_(bias_noise), relu_scale_(2.0 / (1.0 + alpha * alpha)) {}

double ConvexInitialiser::MixedMoment(double rho) {
  return std::sqrt(1 - rho * rho) + rho * std::acos(-rho);
}

double ConvexInitialiser::CorrelationFunction(int64_t fan_in) const {
  const double n = static_cast<double>(fan_in);
  return n * (M_PI - n + (n - 1) * MixedMoment(corr_)) / (2 * M_PI);
}

ConvexInitParameters ConvexInitialiser::ComputeParameters(int64_t fan_in) const {
  const double n = static_cast<double>(fan_in);
  ConvexInitParameters p;
  p.weight_mean_sq = corr_ / CorrelationFunction(fan_in);
  p.weight_var = relu_scale_ * (1 - corr_) / n * (1 - bias_noise_);
  p.bias_mean = -n * std::sqrt(p.weight_mean_sq * var_ / (2 * M_PI));
  p.bias_var = bias_noise_ * (1 - corr_) * var_;
  return p;
}

absl::Status ConvexInitialiser::Initialise(torch::Tensor& weight, torch::Tensor& bias,
                                           Positivity positivity) const {
  if (!bias.defined()) {
    return absl::InvalidArgumentError("the principled convex initialisation needs a bias");
  }
  const int64_t fan_in = weight[0].numel();
  const ConvexInitParameters p = ComputeParameters(fan_in);
  // Log-normal with mean sqrt(mean_sq) and variance v_w: log E[w^2] = log(mean_sq + v_w).
  const double log_mom2 = std::log(p.weight_mean_sq + p.weight_var);
  const double log_mean = std::log(p.weight_mean_sq) - log_mom2 / 2;
  const double log_var = log_mom2 - std::log(p.weight_mean_sq);
  torch::NoGradGuard no_grad;
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const torch::Tensor log_w = torch::randn(weight.sizes(), f64) * std::sqrt(log_var) + log_mean;
  // exp-positivity stores log w directly (exact, and no overflow for tiny weights).
  weight.copy_(positivity == Positivity::kExp ? log_w : InversePositivity(positivity, log_w.exp()));
  bias.copy_(torch::randn(bias.sizes(), f64) * std::sqrt(p.bias_var) + p.bias_mean);
  return absl::OkStatus();
}

double BiasCorrectionShift(Positivity positivity, int64_t fan_in, double gain) {
  const double n = static_cast<double>(fan_in), a = std::sqrt(gain / n);
  double mean = 0;  // E[positivity(w)], w ~ U(-a, a)
  switch (positivity) {
    case Positivity::kLazyClip:
    case Positivity::kClip:
      mean = a / 4;
      break;
    case Positivity::kExp:
      mean = std::sinh(a) / a;
      break;
    case Positivity::kNegExp:  // exp(w) on [-a, 0), w on [0, a]
      mean = ((1 - std::exp(-a)) + a * a / 2) / (2 * a);
      break;
    case Positivity::kNone:
      break;
  }
  return n * mean / std::sqrt(2 * M_PI);
}

void BiasCorrectionInit(torch::Tensor& weight, torch::Tensor& bias, Positivity positivity,
                        double gain) {
  torch::NoGradGuard no_grad;
  const int64_t fan_in = weight[0].numel();
  const double a = std::sqrt(gain / static_cast<double>(fan_in));
  weight.uniform_(-a, a);
  if (bias.defined()) bias.fill_(-BiasCorrectionShift(positivity, fan_in, gain));
}

void TraditionalInit(torch::Tensor& weight, torch::Tensor& bias, double gain) {
  torch::NoGradGuard no_grad;
  weight.normal_(0, std::sqrt(gain / static_cast<double>(weight[0].numel())));
  if (bias.defined()) bias.zero_();
}

}  // namespace icnn
