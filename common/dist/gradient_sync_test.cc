#include "common/dist/gradient_sync.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>

#include "common/dist/process_group.h"
#include "common/dist/testing.h"
#include "common/train/checkpoint.h"

namespace common::dist {
namespace {

// A net with a conv, a linear head, a parameter used twice and one never used.
struct NetImpl : torch::nn::Module {
  NetImpl() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 3, 3)));
    head = register_module("head", torch::nn::Linear(12, 4));
    unused = register_module("unused", torch::nn::Linear(5, 5));
    shared = register_parameter("shared", torch::randn({4}));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor h = torch::relu(conv->forward(x)).flatten(1);
    return head->forward(h) * shared + shared;
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::Linear head{nullptr}, unused{nullptr};
  torch::Tensor shared;
};
TORCH_MODULE(Net);

constexpr int64_t kBatch = 7;  // uneven shards over 2 and 3 ranks

std::pair<torch::Tensor, torch::Tensor> GlobalBatch() {
  torch::manual_seed(123);
  return {torch::randn({kBatch, 2, 4, 4}), torch::randint(4, {kBatch})};
}

torch::Tensor Loss(Net& net, const torch::Tensor& x, const torch::Tensor& y) {
  return torch::nn::functional::cross_entropy(net->forward(x), y);
}

// The gradient of the global batch's mean loss in one process.
train::TensorMap OneProcessGradients() {
  torch::manual_seed(0);
  Net net;
  const auto [x, y] = GlobalBatch();
  Loss(net, x, y).backward();
  train::TensorMap grads;
  for (const auto& p : net->named_parameters()) {
    grads[p.key()] = p.value().grad().defined() ? p.value().grad() : torch::zeros_like(p.value());
  }
  return grads;
}

TEST(GradientSyncRank, Gradients) {
  if (!InSpawnedRank()) GTEST_SKIP() << "runs as a rank of GradientSync.MatchesOneProcess";
  ProcessGroup& world = **World();
  torch::manual_seed(world.rank() == 0 ? 0 : 100 + world.rank());  // BroadcastModule unifies
  Net net;
  ASSERT_TRUE(world.BroadcastModule(*net).ok());
  // Tiny buckets: many of them, each reduced as soon as backward fills it.
  GradientSync sync(world, net->parameters(), /*bucket_bytes=*/64, /*first_bucket_bytes=*/32);
  EXPECT_GT(sync.num_buckets(), 3);
  const auto [x, y] = GlobalBatch();
  const torch::Tensor mine = world.Shard(torch::arange(kBatch));
  // Twice: the second call must not see the first one's state.
  for (int repeat = 0; repeat < 2; ++repeat) {
    const torch::Tensor loss =
        mine.numel() > 0 ? Loss(net, x.index({mine}), y.index({mine})) : torch::Tensor();
    net->zero_grad();
    const absl::Status status = sync.Backward(loss, mine.numel(), kBatch);
    ASSERT_TRUE(status.ok()) << status;
  }
  train::TensorMap grads;
  for (const auto& p : net->named_parameters()) grads[p.key()] = p.value().grad();
  ASSERT_TRUE(train::SaveTensorMap(std::string(std::getenv("GRAD_OUT")) + "/rank" +
                                       std::to_string(world.rank()) + ".pt",
                                   grads)
                  .ok());
}

TEST(GradientSync, MatchesOneProcess) {
  const train::TensorMap expected = OneProcessGradients();
  for (int world : {2, 3}) {
    const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/w" + std::to_string(world);
    ASSERT_EQ(system(("mkdir -p " + dir).c_str()), 0);
    const std::vector<RankResult> ranks =
        SpawnRanks(world, "GradientSyncRank.Gradients", {"GRAD_OUT=" + dir});
    for (int r = 0; r < world; ++r) {
      ASSERT_EQ(ranks[r].exit_code, 0) << ranks[r].output;
      const absl::StatusOr<train::TensorMap> got =
          train::LoadTensorMap(dir + "/rank" + std::to_string(r) + ".pt");
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_EQ(got->size(), expected.size());
      for (const auto& [name, grad] : expected) {
        // float32 sums in another order: a few ulps of the largest entry.
        EXPECT_TRUE(torch::allclose(got->at(name), grad, 1e-5, 1e-6))
            << "world " << world << " rank " << r << " " << name << "\n"
            << got->at(name) - grad;
      }
      EXPECT_TRUE(torch::equal(got->at("unused.weight"), torch::zeros({5, 5})));
    }
  }
}

TEST(GradientSync, OneProcessIsPlainBackward) {
  ProcessGroup one;
  torch::manual_seed(0);
  Net net;
  GradientSync sync(one, net->parameters());
  const auto [x, y] = GlobalBatch();
  ASSERT_TRUE(sync.Backward(Loss(net, x, y), kBatch, kBatch).ok());
  const train::TensorMap expected = OneProcessGradients();
  for (const auto& p : net->named_parameters()) {
    if (p.key().rfind("unused", 0) == 0) {
      EXPECT_FALSE(p.value().grad().defined());
    } else {
      EXPECT_TRUE(torch::equal(p.value().grad(), expected.at(p.key()))) << p.key();
    }
  }
}

}  // namespace
}  // namespace common::dist
