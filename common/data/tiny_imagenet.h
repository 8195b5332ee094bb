// Tiny-ImageNet-200 as distributed (tiny-imagenet-200.zip, unpacked): wnids.txt, 500 training
// JPEGs per class under train/<wnid>/images/, and the 10k validation JPEGs under val/images/ with
// their labels in val/val_annotations.txt. As in the reference, the validation split serves as
// the test set, labels are indices into wnids.txt, and grey images are replicated to 3 channels.
//
// Example:
//   ASSIGN_OR_RETURN(ImageSplits tiny, LoadTinyImageNet("data/tiny-imagenet-200"));
#ifndef COMMON_DATA_TINY_IMAGENET_H_
#define COMMON_DATA_TINY_IMAGENET_H_

#include <torch/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "common/data/image_splits.h"

namespace common::data {

// Decodes a JPEG into [3, H, W] uint8 (grey replicated); DataLoss names the file on bad data.
absl::StatusOr<torch::Tensor> DecodeJpeg(const std::string& bytes, const std::string& name);

// Encodes [3, H, W] uint8 as JPEG (for tests and tools).
absl::StatusOr<std::string> EncodeJpeg(const torch::Tensor& image, int quality = 95);

// Images [N, 3, 64, 64] uint8, format "tiny-imagenet-200". Every image must be 64x64.
absl::StatusOr<ImageSplits> LoadTinyImageNet(const std::string& dir);

// True when `dir` (or its tiny-imagenet-200 subdirectory) holds wnids.txt and train/.
bool LooksLikeTinyImageNet(const std::string& dir);

}  // namespace common::data

#endif  // COMMON_DATA_TINY_IMAGENET_H_
