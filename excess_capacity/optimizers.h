// LARS (You et al. 2017) and LAMB (You et al. 2020): SGD with momentum and Adam with a
// layer-wise trust ratio. The reference takes both from lightning-flash; flash's LARS skips the
// trust ratio when weight_decay == 0 (the reference's setting), which makes it plain momentum
// SGD. Here the trust ratio is always applied. They keep LibTorch's SGD / Adam state, so
// checkpoints save and load through the base classes.
#ifndef EXCESS_CAPACITY_OPTIMIZERS_H_
#define EXCESS_CAPACITY_OPTIMIZERS_H_

#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

namespace excess_capacity {

// p <- p - lr * buf, buf <- momentum buf + trust (g + wd p),
// trust = eta ||p|| / (||g|| + wd ||p|| + eps) (1 where a norm is 0).
class Lars : public torch::optim::SGD {
 public:
  Lars(std::vector<torch::Tensor> params, torch::optim::SGDOptions options, double eta = 1e-3)
      : SGD(std::move(params), options), eta_(eta) {}
  torch::Tensor step(LossClosure closure = nullptr) override;

 private:
  double eta_;
};

// Adam direction r = m_hat / (sqrt(v_hat) + eps) + wd p; p <- p - lr (||p|| / ||r||) r.
class Lamb : public torch::optim::Adam {
 public:
  Lamb(std::vector<torch::Tensor> params, torch::optim::AdamOptions options)
      : Adam(std::move(params), options) {}
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace excess_capacity

#endif  // EXCESS_CAPACITY_OPTIMIZERS_H_
