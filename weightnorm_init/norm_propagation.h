// Figure 1 of the paper (the notebook synthetic_data_experiment.ipynb): how the norm of the
// hidden state and of the gradient change through a 20-layer weight-normalised ReLU MLP and a
// 40-block ResNet at initialisation, for
//
//   "He (g=1)"              He directions, unit rows (weight norm with g = 1)
//   "Proposed (orthogonal)" orthogonal directions, g = sqrt(gamma n_in / n_out)
//   "Proposed (He)"         He directions, the same g
//
// MLP (no biases): widths drawn uniformly from [m0 - 50, m0 + 50) per layer, h <- ReLU(W h); the
// backward pass carries delta <- 1[h > 0] (W^T delta) from a N(0, I) top gradient.
// ResNet: h <- h + W1 ReLU(W0 h), W0 [m0, n], W1 [n, m0], gamma 2 for W0 and 1/B for W1; the
// backward pass is delta <- delta + W0^T (1[W0 h > 0] (W1^T delta)) — the notebook applied the
// ReLU mask of the block *input* after W0^T (a bug; the statistics are close, the curves not
// identical). Every ratio is averaged over samples (mean and std).
#ifndef WEIGHTNORM_INIT_NORM_PROPAGATION_H_
#define WEIGHTNORM_INIT_NORM_PROPAGATION_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace weightnorm_init {

struct SyntheticOptions {
  int64_t samples = 1000;                     // same as reference: N
  int64_t input_dim = 500;                    // same as reference: n
  int64_t mlp_depth = 20;                     // same as reference: L
  int64_t resnet_blocks = 40;                 // same as reference: B
  std::vector<int64_t> widths = {200, 1000};  // same as reference: m0
  uint64_t seed = 0;                          // the notebook had no fixed seed
};

enum class Setting { kHe, kProposedOrthogonal, kProposedHe };
std::string SettingName(Setting s);

// Mean and std over samples of a norm ratio at each index; index[i] is the layer or block.
struct NormCurve {
  Setting setting = Setting::kHe;
  int64_t width = 0;
  std::vector<double> index, mean, std;
};

struct NormRatios {
  NormCurve forward;   // ||h^i|| / ||x||, i = 1..depth
  NormCurve backward;  // ||dL/dh^i|| / ||dL/dh^top||, i = depth-1..1 (stored ascending)
};

NormRatios MlpNormRatios(Setting setting, int64_t width, const SyntheticOptions& options,
                         uint64_t stream);
NormRatios ResNetNormRatios(Setting setting, int64_t width, const SyntheticOptions& options,
                            uint64_t stream);

struct Figure1 {
  std::vector<NormRatios> mlp, resnet;  // every setting x width
};

Figure1 RunFigure1(const SyntheticOptions& options);

// figure1.svg, figure1.png (2 x 2: MLP / ResNet x forward / backward, mean +- std bands) and
// figure1.csv (model, pass, setting, width, index, mean, std) in `dir`.
absl::Status WriteFigure1(const Figure1& figure, const std::string& dir);

}  // namespace weightnorm_init

#endif  // WEIGHTNORM_INIT_NORM_PROPAGATION_H_
