#include "implicit_dl/implicit_rnn.h"

#include <torch/torch.h>

namespace implicit_dl {

ImplicitRNNCellImpl::ImplicitRNNCellImpl(int64_t input_size, int64_t hidden_size,
                                         ImplicitModelOptions model)
    : input_size(input_size), hidden_size(hidden_size), model_options(std::move(model)) {
  reset();
}

void ImplicitRNNCellImpl::reset() {
  ImplicitModelOptions o = model_options;
  o.p(input_size + hidden_size).q(hidden_size);
  layer = register_module("layer", ImplicitModel(o));
}

std::pair<torch::Tensor, torch::Tensor> ImplicitRNNCellImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == input_size, "ImplicitRNNCell expects [batch, time, ",
              input_size, "], got ", x.sizes());
  torch::Tensor h = torch::zeros({x.size(0), hidden_size}, x.options());
  std::vector<torch::Tensor> outputs;
  for (int64_t t = 0; t < x.size(1); ++t) {
    h = layer->forward(torch::cat({x.select(1, t), h}, 1));
    outputs.push_back(h);
  }
  return {torch::stack(outputs, 1), h};
}

ImplicitRNNImpl::ImplicitRNNImpl(int64_t input_size, int64_t hidden_size, int64_t output_size,
                                 ImplicitModelOptions model)
    : input_size(input_size),
      hidden_size(hidden_size),
      output_size(output_size),
      model_options(std::move(model)) {
  reset();
}

void ImplicitRNNImpl::reset() {
  cell = register_module("cell", ImplicitRNNCell(input_size, hidden_size, model_options));
  head = register_module("head", torch::nn::Linear(hidden_size, output_size));
}

torch::Tensor ImplicitRNNImpl::forward(const torch::Tensor& x) {
  return head->forward(cell->forward(x).second);
}

}  // namespace implicit_dl
