#include "icnn/empirical_init.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace icnn {
namespace {

TEST(EmpiricalInit, EveryLayerHasTheTargetMomentsOnTheBatch) {
  for (Positivity p : {Positivity::kLazyClip, Positivity::kExp, Positivity::kNone}) {
    torch::manual_seed(0);
    IcnnMlp net(IcnnOptions(12, 3).num_hidden(3).positivity(p).init(InitScheme::kDefault));
    const torch::Tensor batch = torch::rand({256, 12}) * 4;
    EmpiricalInit(*net, batch, /*target_mean=*/0.5, /*target_var=*/2.0);
    torch::NoGradGuard no_grad;
    torch::Tensor y = net->first(batch);
    std::vector<torch::Tensor> pre = {y};
    for (auto& layer : net->convex) pre.push_back(y = layer(torch::relu(y)));
    for (size_t l = 0; l < pre.size(); ++l) {
      EXPECT_LT((pre[l].mean(0) - 0.5).abs().max().item<double>(), 1e-4) << "layer " << l;
      EXPECT_LT((pre[l].var(0, false) - 2.0).abs().max().item<double>(), 1e-3) << "layer " << l;
    }
    EXPECT_LT(net->first->weight.mean(1).abs().max().item<double>(), 1e-5);  // centred rows
    if (p != Positivity::kNone) {
      for (auto& layer : net->convex) EXPECT_GE(layer->EffectiveWeight().min().item<double>(), 0.0);
    }
    EXPECT_TRUE(
        torch::allclose(net->forward(batch), y, 1e-4, 1e-4));  // the network computes the same
  }
}

}  // namespace
}  // namespace icnn
