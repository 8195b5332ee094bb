#include "common/data/dataset.h"

#include <torch/torch.h>

#include "common/data/synthetic.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::data {
namespace {

using ::testing::HasSubstr;

TEST(EpochBatches, EachIndexOnceDeterministicPerSeedAndEpoch) {
  InMemoryDataset d(torch::arange(103).view({103, 1}).to(torch::kFloat32), torch::arange(103));
  auto batches = d.EpochBatches(10, /*shuffle=*/true, /*seed=*/5, /*epoch=*/0);
  ASSERT_EQ(batches.size(), 11u);
  EXPECT_EQ(batches.back().size(0), 3);
  torch::Tensor all = std::get<0>(torch::cat(batches).sort());
  EXPECT_TRUE(torch::equal(all, torch::arange(103)));
  auto again = d.EpochBatches(10, true, 5, 0);
  auto next_epoch = d.EpochBatches(10, true, 5, 1);
  EXPECT_TRUE(torch::equal(batches[0], again[0]));
  EXPECT_FALSE(torch::equal(batches[0], next_epoch[0]));
  EXPECT_EQ(d.EpochBatches(10, true, 5, 0, /*drop_last=*/true).size(), 10u);
  EXPECT_TRUE(torch::equal(d.EpochBatches(50, false, 0, 0)[1], torch::arange(50, 100)));
  Batch b = d.Get(batches[0]);
  EXPECT_TRUE(torch::equal(b.inputs.flatten().to(torch::kInt64), b.targets));
}

TEST(RandomSplit, DisjointCoverAndSeeded) {
  SplitIndices s = RandomSplit(50, 12, 3);
  EXPECT_EQ(s.valid.size(0), 12);
  torch::Tensor all = std::get<0>(torch::cat({s.train, s.valid}).sort());
  EXPECT_TRUE(torch::equal(all, torch::arange(50)));
  EXPECT_TRUE(torch::equal(RandomSplit(50, 12, 3).valid, s.valid));
  EXPECT_FALSE(torch::equal(RandomSplit(50, 12, 4).valid, s.valid));
}

TEST(StratifiedSubset, ScikitLearnsTrainTestSplit) {
  // 60 of class 0, 30 of class 1, 10 of class 2; 15 of them: 9, 4.5, 1.5 -> 9 + 5 + 1 or 9 + 4 + 2.
  // The indices are scikit-learn 1.2.1's (numpy_random_test.cc has more cases).
  torch::Tensor labels =
      torch::cat({torch::zeros({60}), torch::ones({30}), torch::full({10}, 2)}).to(torch::kInt64);
  torch::Tensor idx = StratifiedSubset(labels, 15, 1).value();
  EXPECT_TRUE(torch::equal(
      idx,
      torch::tensor({42, 70, 72, 85, 36, 40, 41, 49, 61, 2, 92, 26, 51, 34, 80}, torch::kInt64)));
  torch::Tensor counts = torch::bincount(labels.index_select(0, idx), {}, 3);
  EXPECT_EQ(counts[0].item<int64_t>(), 9);
  EXPECT_NEAR(counts[1].item<int64_t>(), 4.5, 0.5);
  EXPECT_NEAR(counts[2].item<int64_t>(), 1.5, 0.5);
  EXPECT_FALSE(StratifiedSubset(labels, 101, 1).ok());
  EXPECT_FALSE(StratifiedSubset(labels, 15, uint64_t{1} << 32).ok());
}

TEST(Preprocessing, MeanStdNormaliseFlatten) {
  torch::Tensor x =
      torch::tensor({0.0, 2.0, 4.0, 10.0, 10.0, 10.0}, torch::kFloat64).view({3, 2, 1, 1});
  // Channel 0: 0, 4, 10 -> mean 14/3, population std sqrt(((14/3)^2+(2/3)^2+(16/3)^2)/3).
  auto [mean, std] = ChannelMeanStd(x);
  EXPECT_NEAR(mean[0].item<double>(), 14.0 / 3, 1e-12);
  EXPECT_NEAR(std[0].item<double>(), std::sqrt((196.0 + 4 + 256) / 27), 1e-12);
  torch::Tensor z = NormalizeChannels(x, {mean[0].item<double>(), mean[1].item<double>()},
                                      {std[0].item<double>(), std[1].item<double>()});
  auto [zm, zs] = ChannelMeanStd(z);
  EXPECT_NEAR(zm.abs().max().item<double>(), 0, 1e-12);
  EXPECT_NEAR(zs[0].item<double>(), 1, 1e-12);
  EXPECT_EQ(FlattenFeatures(torch::zeros({4, 3, 2, 2})).sizes(), torch::IntArrayRef({4, 12}));
  EXPECT_FLOAT_EQ(ScaleToUnit(torch::tensor({255}, torch::kUInt8))[0].item<float>(), 1.0f);
}

TEST(LoadImageSplits, DetectsFormatOrSaysWhatWasExpected) {
  const std::string dir = TestDir("detect");
  EXPECT_THAT(std::string(LoadImageSplits(dir).status().message()), HasSubstr("no dataset found"));
  EXPECT_EQ(LoadImageSplits(dir + "/missing").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(WriteTinyMnistDirectory(dir, 10, 10, false).ok());
  EXPECT_EQ(LoadImageSplits(dir).value().format, "idx");
}

TEST(LoadNamedImageSplits, TheNamedDatasetMustBeAllowedAndMatchTheFiles) {
  const std::string dir = TestDir("named");
  ASSERT_TRUE(WriteTinyMnistDirectory(dir, 10, 10, false).ok());
  EXPECT_TRUE(LoadNamedImageSplits("mnist", dir, {"mnist", "cifar10"}).ok());
  EXPECT_EQ(
      LoadNamedImageSplits("svhn", dir, {"fashion-mnist", "mnist", "cifar10"}).status().message(),
      "--dataset must be fashion-mnist, mnist or cifar10, got 'svhn'");
  EXPECT_EQ(LoadNamedImageSplits("cifar10", dir, {"mnist", "cifar10"}).status().message(),
            "--dataset=cifar10 but " + dir + " holds idx files");
  EXPECT_EQ(DatasetFormat("notmnist"), "idx");
  EXPECT_EQ(DatasetFormat("cifar100"), "cifar100");
}

}  // namespace
}  // namespace common::data
