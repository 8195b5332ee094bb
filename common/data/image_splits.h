// The in-memory result of reading an image-classification dataset from disk.
#ifndef COMMON_DATA_IMAGE_SPLITS_H_
#define COMMON_DATA_IMAGE_SPLITS_H_

#include <torch/types.h>

#include <string>

namespace common::data {

// Raw pixels as stored on disk; use dataset.h to scale, normalise and batch them.
struct ImageSplits {
  std::string format;          // "idx", "cifar10" or "cifar100"
  torch::Tensor train_images;  // [N, C, H, W] uint8
  torch::Tensor train_labels;  // [N] int64 in [0, num_classes)
  torch::Tensor test_images;   // [M, C, H, W] uint8
  torch::Tensor test_labels;   // [M] int64
  int64_t num_classes = 0;
};

}  // namespace common::data

#endif  // COMMON_DATA_IMAGE_SPLITS_H_
