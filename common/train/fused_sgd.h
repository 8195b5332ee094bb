// SGD with the update of each CPU float tensor done in one pass over memory (LibTorch's SGD makes
// one to four ATen calls per parameter, each with its dispatch cost: at 60 small parameters that
// is a measurable share of a step), with the same state (SGDParamState) so checkpoints save and
// load through the base class. Same update as torch::optim::SGD: coupled weight decay, momentum
// buffer initialised to the first gradient, dampening, Nesterov. Other tensors take the base
// implementation.
//
// Example:
//   common::train::FusedSgd sgd(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
#ifndef COMMON_TRAIN_FUSED_SGD_H_
#define COMMON_TRAIN_FUSED_SGD_H_

#include <torch/optim/sgd.h>

namespace common::train {

class FusedSgd : public torch::optim::SGD {
 public:
  using SGD::SGD;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace common::train

#endif  // COMMON_TRAIN_FUSED_SGD_H_
