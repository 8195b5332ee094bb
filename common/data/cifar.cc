#include "common/data/cifar.h"

#include <cstring>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/data/file_bytes.h"
#include "common/util/status_macros.h"

namespace common::data {
namespace {

constexpr int64_t kPixels = 3 * 32 * 32;

struct Layout {
  CifarVariant variant;
  std::string dir;  // where the .bin files are
};

std::optional<Layout> FindLayout(const std::string& dir) {
  for (const std::string& d : {dir, dir + "/cifar-10-batches-bin", dir + "/cifar-100-binary"}) {
    if (FileExists(d + "/data_batch_1.bin")) return Layout{CifarVariant::kCifar10, d};
    if (FileExists(d + "/train.bin") && FileExists(d + "/test.bin")) {
      return Layout{CifarVariant::kCifar100, d};
    }
  }
  return std::nullopt;
}

absl::Status LoadFiles(const std::vector<std::string>& paths, CifarVariant variant,
                       torch::Tensor* images, torch::Tensor* labels) {
  std::vector<torch::Tensor> xs, ys;
  for (const std::string& path : paths) {
    torch::Tensor x, y;
    RETURN_IF_ERROR(ParseCifarFile(path, variant, &x, &y));
    xs.push_back(x);
    ys.push_back(y);
  }
  *images = torch::cat(xs);
  *labels = torch::cat(ys);
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseCifarFile(const std::string& path, CifarVariant variant, torch::Tensor* images,
                            torch::Tensor* labels) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  const int64_t label_bytes = variant == CifarVariant::kCifar10 ? 1 : 2;
  const int64_t classes = variant == CifarVariant::kCifar10 ? 10 : 100;
  const int64_t record = label_bytes + kPixels;
  const int64_t size = static_cast<int64_t>(bytes.size());
  if (size == 0 || size % record != 0) {
    return absl::DataLossError(absl::StrCat(path, ": ", size, " bytes is not a whole number of ",
                                            record, "-byte CIFAR-", classes, " records"));
  }
  const int64_t n = size / record;
  torch::Tensor raw = torch::from_blob(bytes.data(), {n, record}, torch::kUInt8);
  torch::Tensor y = raw.select(1, label_bytes - 1).to(torch::kInt64);
  const int64_t max_label = y.max().item<int64_t>();
  if (max_label >= classes) {
    return absl::DataLossError(absl::StrCat(path, ": label ", max_label, " out of range for ",
                                            classes, " classes (wrong CIFAR variant?)"));
  }
  *images = raw.slice(1, label_bytes).reshape({n, 3, 32, 32}).clone();
  *labels = y;
  return absl::OkStatus();
}

absl::StatusOr<ImageSplits> LoadCifarDirectory(const std::string& dir) {
  std::optional<Layout> layout = FindLayout(dir);
  if (!layout) {
    return absl::NotFoundError(
        absl::StrCat(dir,
                     ": no CIFAR binary files (expected data_batch_1.bin ... test_batch.bin or "
                     "train.bin + test.bin)"));
  }
  ImageSplits s;
  const std::string& d = layout->dir;
  if (layout->variant == CifarVariant::kCifar10) {
    s.format = "cifar10";
    s.num_classes = 10;
    std::vector<std::string> train;
    for (int i = 1; i <= 5; ++i) train.push_back(absl::StrCat(d, "/data_batch_", i, ".bin"));
    RETURN_IF_ERROR(LoadFiles(train, layout->variant, &s.train_images, &s.train_labels));
    RETURN_IF_ERROR(
        LoadFiles({d + "/test_batch.bin"}, layout->variant, &s.test_images, &s.test_labels));
  } else {
    s.format = "cifar100";
    s.num_classes = 100;
    RETURN_IF_ERROR(
        LoadFiles({d + "/train.bin"}, layout->variant, &s.train_images, &s.train_labels));
    RETURN_IF_ERROR(LoadFiles({d + "/test.bin"}, layout->variant, &s.test_images, &s.test_labels));
  }
  return s;
}

bool LooksLikeCifarDirectory(const std::string& dir) { return FindLayout(dir).has_value(); }

}  // namespace common::data
