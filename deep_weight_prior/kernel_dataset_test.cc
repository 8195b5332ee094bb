#include "deep_weight_prior/kernel_dataset.h"

#include <torch/torch.h>

#include <filesystem>

#include "common/data/npy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deep_weight_prior {
namespace {

TEST(KernelDataset, ExtractPruneSplitRoundTrip) {
  torch::Tensor w = torch::zeros({3, 2, 5, 5});
  w[0][1].fill_(1.0);   // norm 5
  w[2][0].fill_(0.01);  // norm 0.05
  w[1][1][2][2] = 0.5;  // norm 0.5
  const torch::Tensor k = ExtractKernels(w);
  ASSERT_EQ(k.sizes(), (std::vector<int64_t>{6, 1, 5, 5}));
  EXPECT_TRUE(torch::equal(k[1][0], w[0][1]));  // (out, in) row-major
  const torch::Tensor kept = PruneKernels(k, 0.1);
  ASSERT_EQ(kept.size(0), 2);
  const KernelSplit s = SplitKernels(torch::randn({10, 1, 3, 3}), 0.8, 3);
  EXPECT_EQ(s.train.size(0), 8);
  EXPECT_EQ(s.test.size(0), 2);
  const std::string dir = ::testing::TempDir() + "/kernels";
  ASSERT_TRUE(SaveKernelSplit(dir, s).ok());
  const auto back = LoadKernelSplit(dir);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(torch::equal(back->train, s.train));
  EXPECT_TRUE(torch::equal(back->test, s.test));
}

// Kernels of norm 0.1 * i from two "nets": the set keeps those >= the threshold, split 80/20, on
// disk as LoadKernelSplit reads them.
TEST(KernelDataset, BuildKernelSetKeepsTheKernelsAboveTheThreshold) {
  auto kernels = [](int from, int to) {
    std::vector<torch::Tensor> k;
    for (int i = from; i < to; ++i) k.push_back(torch::full({1, 1, 5, 5}, 0.1 * i / 5.0));
    return torch::cat(k);  // kernel i has L2 norm 0.1 * i
  };
  const std::string dir = ::testing::TempDir() + "/kernel_set";
  const KernelSplit split =
      BuildKernelSet(dir, 5, {kernels(0, 10), kernels(10, 20)}, 0.95, 0.8, 3).value();
  EXPECT_EQ(split.train.size(0), 8);  // norms 1.0 .. 1.9: 10 kept
  EXPECT_EQ(split.test.size(0), 2);
  const torch::Tensor norms = torch::cat({split.train, split.test}).flatten(1).norm(2, 1);
  EXPECT_GE(norms.min().item<double>(), 0.95);
  const KernelSplit back = LoadKernelSplit(dir + "/conv5x5").value();
  EXPECT_TRUE(torch::equal(back.train, split.train));
  EXPECT_THAT(std::string(BuildKernelSet(dir, 5, {kernels(0, 20)}, 1.85, 0.8, 3)
                              .status()
                              .message()),  // 1 kept: no test kernel
              ::testing::HasSubstr("conv5x5: 1 of 20 kernels have an L2 norm >= 1.85"));
}

TEST(KernelDataset, BadFilesAreErrors) {
  const std::string dir = ::testing::TempDir() + "/bad_kernels";
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(common::data::WriteNpy(dir + "/train.npy", torch::zeros({4, 1, 5, 5})).ok());
  ASSERT_TRUE(common::data::WriteNpy(dir + "/test.npy", torch::zeros({4, 1, 7, 7})).ok());
  EXPECT_THAT(std::string(LoadKernelSplit(dir).status().message()),
              ::testing::HasSubstr("train kernels are 5x5"));
  EXPECT_FALSE(LoadKernelSplit(dir + "/missing").ok());
}

}  // namespace
}  // namespace deep_weight_prior
