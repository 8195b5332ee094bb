#include "icnn/empirical_init.h"

#include <cmath>

namespace icnn {
namespace {

// Rescales the effective weight rows by s = sqrt(target_var) / std(y) and sets the bias so that
// y' = s (y - mean(y)) + target_mean, for y = h W^T + b on the batch. Returns y'.
torch::Tensor Standardise(torch::Tensor& raw, torch::Tensor& bias, Positivity positivity,
                          const torch::Tensor& h, double target_mean, double target_var) {
  const torch::Tensor w = ApplyPositivity(positivity, raw).detach();
  const torch::Tensor y = h.mm(w.t()) + bias;
  const torch::Tensor mean = y.mean(0),
                      scale = std::sqrt(target_var) / y.std(0, /*unbiased=*/false).clamp_min(1e-12);
  raw.copy_(InversePositivity(positivity, w * scale.unsqueeze(1)));
  bias.copy_(target_mean - scale * (mean - bias));
  return scale * (y - mean) + target_mean;
}

}  // namespace

void EmpiricalInit(IcnnMlpImpl& net, const torch::Tensor& batch, double target_mean,
                   double target_var) {
  TORCH_CHECK(batch.size(0) >= 2, "EmpiricalInit needs a batch of at least 2, got ", batch.size(0));
  torch::NoGradGuard no_grad;
  const torch::Tensor x = batch.flatten(1);
  torch::Tensor& w0 = net.first->weight;
  w0.sub_(w0.mean(1, /*keepdim=*/true));  // centred rows (first layer only: any sign)
  torch::Tensor y = Standardise(w0, net.first->bias, Positivity::kNone, x, target_mean, target_var);
  for (ConvexLinear& layer : net.convex) {
    y = Standardise(layer->weight, layer->bias, layer->positivity, torch::relu(y), target_mean,
                    target_var);
  }
}

}  // namespace icnn
