#include "implicit_dl/ffnn_conversion.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"

namespace implicit_dl {

absl::StatusOr<ImplicitModel> ImplicitFromMlp(const std::vector<torch::nn::Linear>& layers,
                                              const Activation& activation) {
  if (layers.size() < 2) {
    return absl::InvalidArgumentError("an MLP needs at least one hidden layer (two Linear layers)");
  }
  const bool bias = layers[0]->options.bias();
  int64_t n = 0;
  for (size_t k = 0; k < layers.size(); ++k) {
    if (layers[k]->options.bias() != bias) {
      return absl::InvalidArgumentError("either every Linear layer has a bias or none has");
    }
    if (k > 0 && layers[k]->options.in_features() != layers[k - 1]->options.out_features()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "layer ", k, " takes ", layers[k]->options.in_features(), " inputs but layer ", k - 1,
          " gives ", layers[k - 1]->options.out_features()));
    }
    if (k + 1 < layers.size()) n += layers[k]->options.out_features();
  }
  const int64_t p = layers.front()->options.in_features();
  const int64_t q = layers.back()->options.out_features();
  ImplicitModelOptions options(n, p, q);
  options.variant(WellPosedness::kTriu).activation(activation).bias(bias);
  ImplicitModel model(options);
  torch::NoGradGuard no_grad;
  for (torch::Tensor t : {model->A, model->B, model->C, model->D}) t.zero_();
  // offset[k]: first state row of hidden layer k (0-based), stacked last layer first.
  const int64_t hidden = static_cast<int64_t>(layers.size()) - 1;
  std::vector<int64_t> offset(hidden);
  for (int64_t k = hidden - 1, row = 0; k >= 0; --k) {
    offset[k] = row;
    row += layers[k]->options.out_features();
  }
  for (int64_t k = 0; k < hidden; ++k) {
    const torch::Tensor& w = layers[k]->weight;
    const int64_t rows = w.size(0);
    if (k == 0) {
      model->B.narrow(0, offset[0], rows).narrow(1, 0, p).copy_(w);
    } else {
      model->A.narrow(0, offset[k], rows).narrow(1, offset[k - 1], w.size(1)).copy_(w);
    }
    if (bias) model->B.narrow(0, offset[k], rows).select(1, p).copy_(layers[k]->bias);
  }
  const torch::Tensor& w_out = layers.back()->weight;
  model->C.narrow(1, offset[hidden - 1], w_out.size(1)).copy_(w_out);
  if (bias) model->D.select(1, p).copy_(layers.back()->bias);
  return model;
}

}  // namespace implicit_dl
