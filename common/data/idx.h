// IDX files (the MNIST layout, also Fashion-MNIST and notMNIST), raw or gzip-compressed, and
// the MNIST-style directory of four files.
//
// Example:
//   ASSIGN_OR_RETURN(torch::Tensor images, ReadIdx("train-images-idx3-ubyte.gz"));  // [N,28,28]
//   ASSIGN_OR_RETURN(ImageSplits splits, LoadMnistDirectory("/usr/share/datasets/fashion-mnist"));
#ifndef COMMON_DATA_IDX_H_
#define COMMON_DATA_IDX_H_

#include <torch/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/data/image_splits.h"

namespace common::data {

// Parses IDX bytes: magic 0x0000, a type code (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32,
// 0x0E f64), the rank, big-endian int32 dimensions, then exactly prod(dims) big-endian
// values. `name` appears in error messages. Returns a CPU tensor of the matching dtype.
absl::StatusOr<torch::Tensor> ParseIdx(const std::string& bytes, const std::string& name);

// ParseIdx of the file (".gz" decompressed).
absl::StatusOr<torch::Tensor> ReadIdx(const std::string& path);

// Writes `t` (uint8, int8, int16, int32, float32 or float64) as IDX; ".gz" compresses.
absl::Status WriteIdx(const std::string& path, const torch::Tensor& t);

// Classes of every MNIST-format dataset we read (MNIST, Fashion-MNIST, notMNIST, KMNIST).
inline constexpr int64_t kIdxClasses = 10;

// A directory with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]: images become
// [N,1,H,W] uint8, labels [N] int64; image and label counts must agree, and a label outside
// [0, kIdxClasses) is DataLoss naming the file and the first bad index.
absl::StatusOr<ImageSplits> LoadMnistDirectory(const std::string& dir);

// True when `dir` holds the training images of the MNIST layout (raw or .gz).
bool LooksLikeMnistDirectory(const std::string& dir);

}  // namespace common::data

#endif  // COMMON_DATA_IDX_H_
