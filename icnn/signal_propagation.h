// The signal-propagation figure of Hoedt & Klambauer (2023, Fig. 1 / Fig. 4; visualise_sigprop.py):
// pre-activation statistics per layer of a 200-400-300-400-100 network on x ~ N(0, I) for
// (a) a non-convex net (LeCun first layer, He after), (b) the same weights with negatives zeroed
// (an ICNN with default init), (c) the principled init, (d) with bias noise 0.5, (e) with skips.
#ifndef ICNN_SIGNAL_PROPAGATION_H_
#define ICNN_SIGNAL_PROPAGATION_H_

#include <torch/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace icnn {

struct LayerSignal {
  double mean_sq = 0;             // mean over units of (batch mean)^2
  double variance = 0;            // mean over units of the batch variance
  double mean_correlation = 0;    // mean off-diagonal correlation between units
  torch::Tensor pre_activations;  // [batch, width]
};

// Variant names: nonconvex, icnn_default, icnn_init, icnn_init_bias_noise, icnn_init_skip.
std::vector<std::string> SigpropVariants();

// Pre-activation statistics of the four layers for one variant on `x` [batch, 200].
std::vector<LayerSignal> PropagateSignal(const std::string& variant, const torch::Tensor& x,
                                         uint64_t seed);

// Per variant and layer: a histogram and a block-averaged (<= 100 x 100) correlation heatmap
// (PNG) under `dir`, and sigprop.csv with the statistics.
absl::Status WriteSigpropFigures(const std::string& dir, uint64_t seed);

}  // namespace icnn

#endif  // ICNN_SIGNAL_PROPAGATION_H_
