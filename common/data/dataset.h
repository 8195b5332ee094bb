// An in-memory dataset with seeded batching, and the preprocessing the papers share:
// scaling pixels to [0,1], per-channel normalisation, flattening, seeded splits and subsets.
//
// Example:
//   ASSIGN_OR_RETURN(ImageSplits raw, LoadImageSplits(rt.data_dir));
//   InMemoryDataset train(FlattenFeatures(ScaleToUnit(raw.train_images)), raw.train_labels);
//   for (const torch::Tensor& idx : train.EpochBatches(/*batch_size=*/100, true, seed, epoch)) {
//     Batch b = train.Get(idx);  // b.inputs [100, 784], b.targets [100]
//   }
#ifndef COMMON_DATA_DATASET_H_
#define COMMON_DATA_DATASET_H_

#include <torch/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/data/image_splits.h"

namespace common::data {

struct Batch {
  torch::Tensor inputs;   // [B, ...]
  torch::Tensor targets;  // [B] or [B, T]
};

class InMemoryDataset {
 public:
  InMemoryDataset() = default;
  // inputs [N, ...], targets [N, ...]; the first dimensions must agree.
  InMemoryDataset(torch::Tensor inputs, torch::Tensor targets);

  int64_t size() const { return inputs_.defined() ? inputs_.size(0) : 0; }
  const torch::Tensor& inputs() const { return inputs_; }
  const torch::Tensor& targets() const { return targets_; }

  // Rows `indices` ([K] int64) as a batch / as a new dataset.
  Batch Get(const torch::Tensor& indices) const;
  InMemoryDataset Subset(const torch::Tensor& indices) const;
  InMemoryDataset To(const torch::Device& device) const;

  // Index tensors of one epoch's batches. With `shuffle` the order is a permutation drawn from
  // (seed, epoch) alone, so a resumed run sees the same batches. The last batch is smaller
  // unless `drop_last`.
  std::vector<torch::Tensor> EpochBatches(int64_t batch_size, bool shuffle, uint64_t seed,
                                          int64_t epoch, bool drop_last = false) const;

 private:
  torch::Tensor inputs_;
  torch::Tensor targets_;
};

// uint8 pixels -> float32 in [0, 1].
torch::Tensor ScaleToUnit(const torch::Tensor& pixels);

// Per-channel mean and (population) standard deviation of x [N, C, ...], each [C].
std::pair<torch::Tensor, torch::Tensor> ChannelMeanStd(const torch::Tensor& x);

// (x - mean[c]) / std[c] for x [N, C, ...]; mean and std have C entries (or one, broadcast).
torch::Tensor NormalizeChannels(const torch::Tensor& x, const std::vector<double>& mean,
                                const std::vector<double>& std);

// [N, ...] -> [N, prod(...)] in C order (channel-major for images).
torch::Tensor FlattenFeatures(const torch::Tensor& x);

struct SplitIndices {
  torch::Tensor train;  // [n - n_valid] int64, sorted
  torch::Tensor valid;  // [n_valid] int64, sorted
};

// A uniformly random split of range(n), determined by `seed`.
SplitIndices RandomSplit(int64_t n, int64_t n_valid, uint64_t seed);

// The training indices of scikit-learn's train_test_split(range(N), train_size=n,
// stratify=labels, random_state=seed), in its order (numpy_random.h): `n` indices whose class
// counts are proportional to those of `labels` ([N] int64; largest remainders, ties at random),
// drawn uniformly within each class. The reference implementations' few-shot subsets.
absl::StatusOr<torch::Tensor> StratifiedSubset(const torch::Tensor& labels, int64_t n,
                                               uint64_t seed);

// A torch generator seeded from (seed, stream): independent streams for one seed.
torch::Generator SeededGenerator(uint64_t seed, uint64_t stream = 0);

// Reads an image-classification directory in any supported layout: MNIST-style IDX files
// (MNIST, Fashion-MNIST, notMNIST), CIFAR-10/100 binary or Tiny-ImageNet-200 (JPEG). Errors name
// the directory and say what was expected.
absl::StatusOr<ImageSplits> LoadImageSplits(const std::string& dir);

// The ImageSplits::format of a dataset name: "idx" for fashion-mnist, mnist and notmnist;
// cifar10, cifar100 and tiny-imagenet-200 are their own.
std::string DatasetFormat(const std::string& dataset);

// LoadImageSplits for the dataset a user named with --dataset: "--dataset must be a, b or c, got
// 'x'" when it is not one of `allowed`, "--dataset=X but DIR holds F files" when the directory
// holds another format.
absl::StatusOr<ImageSplits> LoadNamedImageSplits(const std::string& dataset, const std::string& dir,
                                                 const std::vector<std::string>& allowed);

}  // namespace common::data

#endif  // COMMON_DATA_DATASET_H_
