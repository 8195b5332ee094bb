#include "common/data/dataset.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "common/data/cifar.h"
#include "common/data/idx.h"
#include "common/data/numpy_random.h"
#include "common/data/tiny_imagenet.h"
#include "common/util/status_macros.h"
#include "glog/logging.h"

namespace common::data {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

torch::Tensor Permutation(int64_t n, torch::Generator& gen) {
  return torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kInt64));
}

}  // namespace

InMemoryDataset::InMemoryDataset(torch::Tensor inputs, torch::Tensor targets)
    : inputs_(std::move(inputs)), targets_(std::move(targets)) {
  TORCH_CHECK(inputs_.size(0) == targets_.size(0), "inputs have ", inputs_.size(0),
              " rows but targets have ", targets_.size(0));
}

Batch InMemoryDataset::Get(const torch::Tensor& indices) const {
  const torch::Tensor idx = indices.to(inputs_.device());
  return {inputs_.index_select(0, idx), targets_.index_select(0, idx.to(targets_.device()))};
}

InMemoryDataset InMemoryDataset::Subset(const torch::Tensor& indices) const {
  Batch b = Get(indices);
  return InMemoryDataset(b.inputs, b.targets);
}

InMemoryDataset InMemoryDataset::To(const torch::Device& device) const {
  return InMemoryDataset(inputs_.to(device), targets_.to(device));
}

std::vector<torch::Tensor> InMemoryDataset::EpochBatches(int64_t batch_size, bool shuffle,
                                                         uint64_t seed, int64_t epoch,
                                                         bool drop_last) const {
  TORCH_CHECK(batch_size > 0, "batch_size must be > 0, got ", batch_size);
  torch::Tensor order;
  if (shuffle) {
    torch::Generator gen = SeededGenerator(seed, static_cast<uint64_t>(epoch) + 1);
    order = Permutation(size(), gen);
  } else {
    order = torch::arange(size(), torch::kInt64);
  }
  std::vector<torch::Tensor> batches;
  for (int64_t start = 0; start < size(); start += batch_size) {
    const int64_t end = std::min(start + batch_size, size());
    if (drop_last && end - start < batch_size) break;
    batches.push_back(order.slice(0, start, end));
  }
  return batches;
}

torch::Generator SeededGenerator(uint64_t seed, uint64_t stream) {
  return at::make_generator<at::CPUGeneratorImpl>(SplitMix64(seed ^ SplitMix64(stream)));
}

torch::Tensor ScaleToUnit(const torch::Tensor& pixels) {
  return pixels.to(torch::kFloat32).div_(255.0);
}

std::pair<torch::Tensor, torch::Tensor> ChannelMeanStd(const torch::Tensor& x) {
  torch::Tensor per_channel = x.transpose(0, 1).reshape({x.size(1), -1}).to(torch::kFloat64);
  return {per_channel.mean(1), per_channel.std(1, /*unbiased=*/false)};
}

torch::Tensor NormalizeChannels(const torch::Tensor& x, const std::vector<double>& mean,
                                const std::vector<double>& std) {
  std::vector<int64_t> shape(x.dim(), 1);
  shape[1] = -1;
  auto opts = torch::TensorOptions().dtype(x.scalar_type()).device(x.device());
  torch::Tensor m = torch::tensor(mean, torch::kFloat64).to(opts).reshape(shape);
  torch::Tensor s = torch::tensor(std, torch::kFloat64).to(opts).reshape(shape);
  return (x - m) / s;
}

torch::Tensor FlattenFeatures(const torch::Tensor& x) { return x.reshape({x.size(0), -1}); }

SplitIndices RandomSplit(int64_t n, int64_t n_valid, uint64_t seed) {
  TORCH_CHECK(n_valid >= 0 && n_valid <= n, "n_valid must be in [0, ", n, "], got ", n_valid);
  torch::Generator gen = SeededGenerator(seed);
  torch::Tensor perm = Permutation(n, gen);
  return {std::get<0>(perm.slice(0, n_valid).sort()),
          std::get<0>(perm.slice(0, 0, n_valid).sort())};
}

absl::StatusOr<torch::Tensor> StratifiedSubset(const torch::Tensor& labels, int64_t n,
                                               uint64_t seed) {
  if (seed > 0xffffffffULL) {
    return absl::InvalidArgumentError(
        absl::StrCat("the split seed must be below 2^32 (numpy's), got ", seed));
  }
  torch::Tensor y = labels.cpu().to(torch::kInt64).contiguous();
  const std::vector<int64_t> y_vec(y.data_ptr<int64_t>(), y.data_ptr<int64_t>() + y.numel());
  ASSIGN_OR_RETURN(std::vector<int64_t> idx,
                   SklearnStratifiedTrainIndices(y_vec, n, static_cast<uint32_t>(seed)));
  return torch::tensor(idx, torch::kInt64);
}

absl::StatusOr<ImageSplits> LoadImageSplits(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat(dir, ": no such directory (--data_dir)"));
  }
  if (LooksLikeMnistDirectory(dir)) return LoadMnistDirectory(dir);
  if (LooksLikeCifarDirectory(dir)) return LoadCifarDirectory(dir);
  if (LooksLikeTinyImageNet(dir)) return LoadTinyImageNet(dir);
  return absl::NotFoundError(absl::StrCat(
      dir,
      ": no dataset found (expected MNIST-style train-images-idx3-ubyte[.gz] + "
      "t10k-*, CIFAR binary data_batch_*.bin / train.bin + test.bin, or Tiny-ImageNet-200 "
      "wnids.txt + train/ + val/)"));
}

std::string DatasetFormat(const std::string& dataset) {
  if (dataset == "fashion-mnist" || dataset == "mnist" || dataset == "notmnist") return "idx";
  return dataset;
}

absl::StatusOr<ImageSplits> LoadNamedImageSplits(const std::string& dataset, const std::string& dir,
                                                 const std::vector<std::string>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), dataset) == allowed.end()) {
    std::string names;
    for (size_t i = 0; i < allowed.size(); ++i) {
      absl::StrAppend(&names, i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ", allowed[i]);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("--dataset must be ", names, ", got '", dataset, "'"));
  }
  ASSIGN_OR_RETURN(ImageSplits splits, LoadImageSplits(dir));
  if (splits.format != DatasetFormat(dataset)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--dataset=", dataset, " but ", dir, " holds ", splits.format, " files"));
  }
  return splits;
}

}  // namespace common::data
