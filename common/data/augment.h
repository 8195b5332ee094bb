// Batched image augmentation of the CIFAR recipes (torchvision's RandomCrop(32, padding=4) +
// RandomHorizontalFlip, and Cutout of DeVries & Taylor 2017) on already-normalised tensors, with
// an explicit generator so that runs are reproducible.
//
// Example:
//   torch::Generator gen = SeededGenerator(seed, epoch);
//   x = RandomCropFlip(x, /*padding=*/4, PaddingValue(mean, std), gen);
//   x = Cutout(x, /*length=*/16, gen);
#ifndef COMMON_DATA_AUGMENT_H_
#define COMMON_DATA_AUGMENT_H_

#include <torch/types.h>

#include <vector>

namespace common::data {

// The value a black (0) pixel has after (x - mean) / std: [C], for padding normalised images
// exactly as torchvision pads the raw image.
torch::Tensor PaddingValue(const std::vector<double>& mean, const std::vector<double>& std);

// x [N, C, H, W]: each image padded by `padding` on every side with `fill` ([C]), cropped back to
// H x W at a uniformly random offset, and flipped left-right with probability 1/2.
torch::Tensor RandomCropFlip(const torch::Tensor& x, int64_t padding, const torch::Tensor& fill,
                             torch::Generator& gen);

// The same crop and flip with reflection padding (torchvision's padding_mode="reflect").
torch::Tensor RandomCropFlipReflect(const torch::Tensor& x, int64_t padding, torch::Generator& gen);

// x [N, C, H, W]: in each image the square [cy - length/2, cy + length/2) x [cx - ...) with a
// uniformly random centre (cy, cx) over the whole image, clipped to it, is set to 0.
torch::Tensor Cutout(const torch::Tensor& x, int64_t length, torch::Generator& gen);

}  // namespace common::data

#endif  // COMMON_DATA_AUGMENT_H_
