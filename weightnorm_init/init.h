// The paper's contribution: how to initialise a weight-normalised network (Arpit, Campos & Bengio,
// "How to Initialize your Network? Robust Initialization for WeightNorm & ResNets", NeurIPS 2019,
// arXiv 1906.02341), next to the baselines it is compared with.
//
// Every layer gets bias 0, a direction v (He-normal, orthogonal or N(0, 1/fan_in)) and a gain g:
//
//   default      g_i = ||v_i||                       (what torch.nn.utils.weight_norm leaves)
//   proposed     g_i = sqrt(gamma * fan_in / fan_out) (forward pass; poster: g = sqrt(2
//   n_{l-1}/n_l)) backward     g_i = sqrt(gamma)                    (backward-pass variant, an
//   option) datadep      g_c = 1/sigma_c, b_c = -mu_c/sigma_c on one real batch (Salimans & Kingma
//   2016)
//
// gamma is 2 for a layer followed by ReLU, 1/N for the last conv of a residual branch (N blocks
// per stage; 0.9^(2b) for the stage-wise Hanin baseline) and 1 for shortcuts and the WRN stem. For
// convolutions fan_in/fan_out = C_in/C_out (the kernel area cancels).
#ifndef WEIGHTNORM_INIT_INIT_H_
#define WEIGHTNORM_INIT_INIT_H_

#include <torch/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "weightnorm_init/weight_norm.h"

namespace weightnorm_init {

enum class Direction { kHe, kOrthogonal, kScaledNormal };
enum class Gain { kDefault, kProposed, kBackward, kDataDependent };

struct InitScheme {
  std::string name;  // the --init value
  Direction direction = Direction::kOrthogonal;
  Gain gain = Gain::kProposed;
  bool hanin = false;  // --init_extra_param=hanin: residual gamma 0.9^(2b) instead of 1/N
};

// The six --init names: he, orthogonal, he_datadep, orthogonal_datadep, he_proposed,
// orthogonal_proposed. `*_proposed` and `*_datadep` need weight norm (the reference asserts);
// `backward` turns the proposed gain into the backward-pass one; `extra` is "" or "hanin".
absl::StatusOr<InitScheme> ParseInitScheme(const std::string& name, bool weight_norm,
                                           bool backward = false, const std::string& extra = "");

// gamma of the last conv of residual block `block` (1-based within its stage) of a stage with
// `blocks_per_stage` blocks: 1/N, or (0.9^block)^2 for the Hanin baseline.
double ResidualGamma(int64_t blocks_per_stage, int64_t block, bool hanin);

// sqrt(gamma * fan_in / fan_out).
double ProposedGain(double gamma, int64_t fan_in, int64_t fan_out);

// Initialises `layer` in place: bias 0, direction, gain (see the top of this file); `gamma` is the
// layer's entry in the paper's table. With Gain::kDataDependent, `x` (the init batch at the
// layer's input) is required. Returns layer(x) after the init, or an undefined tensor when `x` is.
torch::Tensor InitLayer(WnLayer& layer, const InitScheme& scheme, double gamma,
                        const torch::Tensor& x);

}  // namespace weightnorm_init

#endif  // WEIGHTNORM_INIT_INIT_H_
