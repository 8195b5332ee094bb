#include "common/data/synthetic.h"

#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/data/idx.h"
#include "common/util/status_macros.h"

namespace common::data {

std::string TestDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(base ? base : "/tmp", "/", name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

torch::Tensor TinyImages(int64_t n, int64_t channels, int64_t height, int64_t width) {
  torch::Tensor i = torch::arange(n).view({n, 1, 1, 1});
  torch::Tensor r = torch::arange(height).view({1, 1, height, 1});
  torch::Tensor c = torch::arange(width).view({1, 1, 1, width});
  torch::Tensor ch = torch::zeros({1, channels, 1, 1}, torch::kInt64);
  return (7 * i + 3 * r + c + ch).remainder(256).to(torch::kUInt8);
}

torch::Tensor TinyLabels(int64_t n, int64_t classes) { return torch::arange(n).remainder(classes); }

absl::Status WriteTinyMnistDirectory(const std::string& dir, int64_t n_train, int64_t n_test,
                                     bool gz) {
  const std::string ext = gz ? ".gz" : "";
  for (auto [prefix, n] : {std::pair{"train", n_train}, std::pair{"t10k", n_test}}) {
    RETURN_IF_ERROR(WriteIdx(absl::StrCat(dir, "/", prefix, "-images-idx3-ubyte", ext),
                             TinyImages(n, 1, 28, 28).squeeze(1)));
    RETURN_IF_ERROR(WriteIdx(absl::StrCat(dir, "/", prefix, "-labels-idx1-ubyte", ext),
                             TinyLabels(n, 10).to(torch::kUInt8)));
  }
  return absl::OkStatus();
}

InMemoryDataset GaussianBlobs(int64_t n, int64_t dim, int64_t classes, uint64_t seed) {
  torch::Generator gen = SeededGenerator(seed, /*stream=*/99);
  torch::Tensor labels = torch::randint(classes, {n}, gen, torch::kInt64);
  torch::Tensor means = 3.0 * torch::eye(classes, dim);
  torch::Tensor x = torch::randn({n, dim}, gen, torch::kFloat32) + means.index_select(0, labels);
  return InMemoryDataset(x, labels);
}

}  // namespace common::data
