// Adam with the update of each CPU float tensor done in one pass over memory (LibTorch's Adam
// makes about six), with the same state (AdamParamState) so checkpoints save and load through the
// base class. Same update as torch::optim::Adam without amsgrad: coupled L2 weight decay,
// bias-corrected moments, eps added after the square root. Other tensors (CUDA, float64, amsgrad)
// take the base implementation.
//
// Example:
//   common::train::FusedAdam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
#ifndef COMMON_TRAIN_FUSED_ADAM_H_
#define COMMON_TRAIN_FUSED_ADAM_H_

#include <torch/optim/adam.h>

namespace common::train {

class FusedAdam : public torch::optim::Adam {
 public:
  using Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace common::train

#endif  // COMMON_TRAIN_FUSED_ADAM_H_
