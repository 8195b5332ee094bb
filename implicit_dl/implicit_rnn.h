// ImplicitRNNCell and ImplicitRNN of the reference (implicit_rnn.py): an ImplicitModel whose
// input is [x_t, h_{t-1}] and whose output C x + D u *is* the next hidden state h_t (no
// non-linearity outside the implicit block); ImplicitRNN adds a Linear head on h_T.
//
//   x_t [B, in] --+--> ImplicitModel(n, in + H, H) --> h_t [B, H] --> ... --> h_T --> Linear --> y
//   h_{t-1} ------+
#ifndef IMPLICIT_DL_IMPLICIT_RNN_H_
#define IMPLICIT_DL_IMPLICIT_RNN_H_

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <utility>

#include "implicit_dl/implicit_model.h"

namespace implicit_dl {

class ImplicitRNNCellImpl : public torch::nn::Cloneable<ImplicitRNNCellImpl> {
 public:
  // `model` gives n and the variant/activation/solver; its p and q are set to input + hidden
  // and hidden.
  ImplicitRNNCellImpl(int64_t input_size, int64_t hidden_size, ImplicitModelOptions model);

  void reset() override;

  // x [B, T, input_size] -> (outputs [B, T, hidden], h_T [B, hidden]); h_0 = 0.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x);

  int64_t input_size, hidden_size;
  ImplicitModelOptions model_options;
  ImplicitModel layer{nullptr};
};
TORCH_MODULE(ImplicitRNNCell);

class ImplicitRNNImpl : public torch::nn::Cloneable<ImplicitRNNImpl> {
 public:
  ImplicitRNNImpl(int64_t input_size, int64_t hidden_size, int64_t output_size,
                  ImplicitModelOptions model);

  void reset() override;

  // x [B, T, input_size] -> y [B, output_size] from the last hidden state.
  torch::Tensor forward(const torch::Tensor& x);

  int64_t input_size, hidden_size, output_size;
  ImplicitModelOptions model_options;
  ImplicitRNNCell cell{nullptr};
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(ImplicitRNN);

}  // namespace implicit_dl

#endif  // IMPLICIT_DL_IMPLICIT_RNN_H_
