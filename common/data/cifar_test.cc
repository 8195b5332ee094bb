#include "common/data/cifar.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "common/data/dataset.h"
#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::data {
namespace {

using ::testing::HasSubstr;

// Records written by hand: label byte(s), then the R, G and B planes of TinyImages.
std::string Records(int64_t n, int64_t first, bool cifar100) {
  torch::Tensor images =
      TinyImages(n, 3, 32, 32) + torch::arange(3).view({1, 3, 1, 1}).to(torch::kUInt8);
  std::string out;
  for (int64_t i = 0; i < n; ++i) {
    if (cifar100) out.push_back(static_cast<char>((first + i) % 20));
    out.push_back(static_cast<char>((first + i) % (cifar100 ? 100 : 10)));
    torch::Tensor img = images[i].contiguous();
    out.append(static_cast<const char*>(img.data_ptr()), 3072);
  }
  return out;
}

TEST(Cifar10, ReadsAllBatchesInOrderChannelMajor) {
  const std::string dir = TestDir("cifar10") + "/cifar-10-batches-bin";
  ASSERT_TRUE(MakeDirs(dir).ok());
  for (int b = 1; b <= 5; ++b) {
    ASSERT_TRUE(WriteFileAtomically(absl::StrCat(dir, "/data_batch_", b, ".bin"),
                                    Records(4, 4 * (b - 1), false))
                    .ok());
  }
  ASSERT_TRUE(WriteFileAtomically(dir + "/test_batch.bin", Records(3, 0, false)).ok());
  ImageSplits s = LoadImageSplits(dir + "/..").value();  // finds the official subdirectory
  EXPECT_EQ(s.format, "cifar10");
  EXPECT_EQ(s.train_images.sizes(), torch::IntArrayRef({20, 3, 32, 32}));
  EXPECT_EQ(s.train_labels[17].item<int64_t>(), 7);
  // Pixel (i=1 within batch 2 -> local index 1, channel 2, row 3, col 4).
  EXPECT_EQ(s.train_images[5][2][3][4].item<int>(), (7 * 1 + 3 * 3 + 4 + 2) % 256);
  EXPECT_EQ(s.test_images.size(0), 3);
}

TEST(Cifar100, ReadsFineLabels) {
  const std::string dir = TestDir("cifar100");
  ASSERT_TRUE(WriteFileAtomically(dir + "/train.bin", Records(6, 95, true)).ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/test.bin", Records(2, 0, true)).ok());
  ImageSplits s = LoadCifarDirectory(dir).value();
  EXPECT_EQ(s.format, "cifar100");
  EXPECT_EQ(s.num_classes, 100);
  EXPECT_TRUE(torch::equal(s.train_labels, torch::tensor({95, 96, 97, 98, 99, 0}, torch::kInt64)));
}

TEST(CifarFile, WrongRecordLengthAndLabelRangeAreDataLoss) {
  const std::string dir = TestDir("cifar_bad");
  torch::Tensor x, y;
  ASSERT_TRUE(WriteFileAtomically(dir + "/short.bin", Records(2, 0, false) + "x").ok());
  absl::Status s = ParseCifarFile(dir + "/short.bin", CifarVariant::kCifar10, &x, &y);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("6147 bytes is not a whole number of 3073-byte CIFAR-10 records"));
  // A CIFAR-100 file read as CIFAR-10 has labels >= 10 in the first byte of some records.
  ASSERT_TRUE(WriteFileAtomically(dir + "/c100.bin", Records(3073, 50, true)).ok());
  s = ParseCifarFile(dir + "/c100.bin", CifarVariant::kCifar10, &x, &y);
  EXPECT_THAT(std::string(s.message()), HasSubstr("out of range for 10 classes"));
}

}  // namespace
}  // namespace common::data
