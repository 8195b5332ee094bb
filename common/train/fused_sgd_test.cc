#include "common/train/fused_sgd.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace common::train {
namespace {

// Runs `steps` updates with each optimizer on the same quadratic and returns the parameters.
template <typename Opt>
torch::Tensor RunSteps(const torch::optim::SGDOptions& options, int steps) {
  torch::manual_seed(0);
  torch::Tensor w = torch::randn({3, 50}).requires_grad_();
  torch::Tensor b = torch::randn({7}).requires_grad_();
  const torch::Tensor target = torch::randn({3, 50});
  Opt opt({w, b}, options);
  for (int i = 0; i < steps; ++i) {
    w.mutable_grad() = torch::Tensor();
    b.mutable_grad() = torch::Tensor();
    ((w - target).pow(2).sum() + (b * b * b).sum()).backward();
    opt.step();
  }
  return torch::cat({w.detach().flatten(), b.detach()});
}

TEST(FusedSgd, MatchesLibTorchSgd) {
  for (const auto& o :
       {torch::optim::SGDOptions(0.01), torch::optim::SGDOptions(0.01).momentum(0.9),
        torch::optim::SGDOptions(0.02).momentum(0.9).weight_decay(5e-4).dampening(0.1),
        torch::optim::SGDOptions(0.01).momentum(0.8).nesterov(true).weight_decay(1e-3)}) {
    const torch::Tensor ours = RunSteps<FusedSgd>(o, 5);
    const torch::Tensor theirs = RunSteps<torch::optim::SGD>(o, 5);
    EXPECT_TRUE(torch::allclose(ours, theirs, 1e-5, 1e-6))
        << "momentum " << o.momentum() << " nesterov " << o.nesterov();
  }
}

TEST(FusedSgd, MomentumStateLoadsIntoLibTorchSgd) {
  torch::Tensor w = torch::ones({4}).requires_grad_();
  FusedSgd ours({w}, torch::optim::SGDOptions(0.1).momentum(0.5));
  w.mutable_grad() = torch::full({4}, 2.0);
  ours.step();
  std::stringstream stream;
  torch::save(ours, stream);
  torch::Tensor w2 = w.detach().clone().requires_grad_();
  torch::optim::SGD theirs({w2}, torch::optim::SGDOptions(0.1).momentum(0.5));
  torch::load(theirs, stream);
  w.mutable_grad() = torch::full({4}, 1.0);
  w2.mutable_grad() = torch::full({4}, 1.0);
  ours.step();
  theirs.step();
  // buf = 0.5 * 2 + 1 = 2: w = 1 - 0.2 - 0.2 = 0.6 on both.
  EXPECT_TRUE(torch::allclose(w, torch::full({4}, 0.6), 1e-6, 1e-6)) << w;
  EXPECT_TRUE(torch::allclose(w2, w, 1e-7, 1e-7));
}

}  // namespace
}  // namespace common::train
