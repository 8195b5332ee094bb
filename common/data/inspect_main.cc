// Prints what a dataset directory holds (format, splits, counts per class, image shape, pixel
// mean/std on the [0,1] scale), or one line saying why it cannot be read.
//
//   ./bazelw run //common/data:inspect                 # Fashion-MNIST from Debian's package
//   ./bazelw run //common/data:inspect -- --data_dir=~/data/cifar-10-batches-bin
#include <torch/torch.h>

#include <iostream>

#include "absl/strings/str_format.h"
#include "common/data/dataset.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"

namespace common::data {
namespace {

void PrintSplit(const std::string& name, const torch::Tensor& images, const torch::Tensor& labels,
                int64_t classes) {
  absl::PrintF("%s: %d images\n", name, images.size(0));
  torch::Tensor counts = torch::bincount(labels, {}, classes);
  std::cout << "  counts per class:";
  for (int64_t c = 0; c < classes; ++c) std::cout << " " << c << ":" << counts[c].item<int64_t>();
  std::cout << "\n";
  auto [mean, std] = ChannelMeanStd(ScaleToUnit(images));
  for (int64_t c = 0; c < mean.size(0); ++c) {
    absl::PrintF("  pixel mean/std channel %d: %.4f / %.4f\n", c, mean[c].item<double>(),
                 std[c].item<double>());
  }
}

absl::Status Inspect(const util::Runtime& rt) {
  ASSIGN_OR_RETURN(ImageSplits s, LoadImageSplits(rt.data_dir));
  absl::PrintF("dataset: %s (%s)\n", rt.data_dir, s.format);
  absl::PrintF("image shape: %dx%dx%d (CxHxW), %d classes\n", s.train_images.size(1),
               s.train_images.size(2), s.train_images.size(3), s.num_classes);
  PrintSplit("train", s.train_images, s.train_labels, s.num_classes);
  PrintSplit("test", s.test_images, s.test_labels, s.num_classes);
  return absl::OkStatus();
}

}  // namespace
}  // namespace common::data

int main(int argc, char** argv) {
  return common::util::RunMain(
      argc, argv,
      "Prints what an image dataset directory holds (MNIST-style IDX or CIFAR binary).\n"
      "Usage: inspect [--data_dir=DIR]   (default: Fashion-MNIST from Debian's package)",
      common::data::Inspect);
}
