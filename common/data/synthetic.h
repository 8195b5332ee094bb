// Tiny datasets made on the fly for tests: files in the published formats and Gaussian blobs.
//
// Example:
//   const std::string dir = TestDir("mnist");
//   ASSERT_TRUE(WriteTinyMnistDirectory(dir, /*n_train=*/20, /*n_test=*/10, /*gz=*/true).ok());
#ifndef COMMON_DATA_SYNTHETIC_H_
#define COMMON_DATA_SYNTHETIC_H_

#include <torch/types.h>

#include <string>

#include "absl/status/status.h"
#include "common/data/dataset.h"

namespace common::data {

// A fresh directory under $TEST_TMPDIR (or /tmp) named `name`.
std::string TestDir(const std::string& name);

// Pixel (i, r, c) of the tiny image sets below: (7 * i + 3 * r + c) mod 256.
torch::Tensor TinyImages(int64_t n, int64_t channels, int64_t height, int64_t width);
// Labels i mod classes, as int64.
torch::Tensor TinyLabels(int64_t n, int64_t classes);

// The four MNIST-layout files with 28x28 TinyImages and TinyLabels(n, 10).
absl::Status WriteTinyMnistDirectory(const std::string& dir, int64_t n_train, int64_t n_test,
                                     bool gz);

// `classes` Gaussian clusters in `dim` dimensions (means 3 * e_c), float32, labels int64.
InMemoryDataset GaussianBlobs(int64_t n, int64_t dim, int64_t classes, uint64_t seed);

}  // namespace common::data

#endif  // COMMON_DATA_SYNTHETIC_H_
