// CIFAR-10 and CIFAR-100 "binary version" readers.
//
// CIFAR-10: data_batch_{1..5}.bin and test_batch.bin, records of 1 label byte + 3072 pixels.
// CIFAR-100: train.bin and test.bin, records of coarse label, fine label + 3072 pixels.
// Pixels are stored channel-major (R plane, G plane, B plane), 32x32 each.
//
// Example:
//   ASSIGN_OR_RETURN(ImageSplits cifar, LoadCifarDirectory("data/cifar-10-batches-bin"));
#ifndef COMMON_DATA_CIFAR_H_
#define COMMON_DATA_CIFAR_H_

#include <torch/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "common/data/image_splits.h"

namespace common::data {

enum class CifarVariant { kCifar10, kCifar100 };

// Parses one binary file: images [N,3,32,32] uint8, labels [N] int64 (CIFAR-100: the fine
// label). A size that is not a whole number of records, or a label out of range, is DataLoss.
absl::Status ParseCifarFile(const std::string& path, CifarVariant variant, torch::Tensor* images,
                            torch::Tensor* labels);

// Loads a CIFAR-10 or CIFAR-100 directory (the variant is detected from the file names; the
// official archives' subdirectories cifar-10-batches-bin / cifar-100-binary are looked into).
absl::StatusOr<ImageSplits> LoadCifarDirectory(const std::string& dir);

// True when `dir` (or its official subdirectory) holds CIFAR binary files.
bool LooksLikeCifarDirectory(const std::string& dir);

}  // namespace common::data

#endif  // COMMON_DATA_CIFAR_H_
