// Adam with the update of each CPU float tensor done in one pass over memory (LibTorch's Adam
// makes about six), with the same state (AdamParamState) so checkpoints save and load through the
// base class. Same update as torch::optim::Adam without amsgrad: coupled L2 weight decay,
// bias-corrected moments, eps added after the square root. Other tensors (CUDA, float64, amsgrad)
// take the base implementation. The one difference: subnormal floats (|x| < 1.2e-38) in the update
// arithmetic are flushed to zero (x86), which moves no update by more than ~1e-30 and avoids the
// slow subnormal path (see fused_adam.cc).
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
