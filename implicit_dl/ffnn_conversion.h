// Feed-forward networks as implicit models (El Ghaoui et al. 2021, Sec. 2: FFNNs are the special
// case of a strictly block-upper-triangular A). For an MLP u -> h_1 = phi(W_0 u + b_0) -> ... ->
// h_L -> y = W_L h_L + b_L, the state is stacked last layer first, x = [h_L; ...; h_1], so that
//
//   A = [[0, W_{L-1}, 0, ...], [0, 0, W_{L-2}, ...], ..., [0, ..., 0]],  B = [0; ...; 0; W_0],
//   C = [W_L, 0, ..., 0],  D = 0,
//
// with the biases in the last column of B (and of D for b_L) when the MLP has them. For 784-60-
// 40-10 this is the pre-release code's get_ABCD_from_NN_784604010 layout (n = 100).
#ifndef IMPLICIT_DL_FFNN_CONVERSION_H_
#define IMPLICIT_DL_FFNN_CONVERSION_H_

#include <torch/nn/modules/linear.h>

#include <vector>

#include "absl/status/statusor.h"
#include "implicit_dl/implicit_model.h"

namespace implicit_dl {

// An ImplicitModel (variant triu, the given activation) computing the same function as the MLP
// whose affine layers are `layers` (phi between them, none after the last). The layers must
// chain (out_features of one = in_features of the next) and all or none have a bias.
absl::StatusOr<ImplicitModel> ImplicitFromMlp(const std::vector<torch::nn::Linear>& layers,
                                              const Activation& activation = {});

}  // namespace implicit_dl

#endif  // IMPLICIT_DL_FFNN_CONVERSION_H_
