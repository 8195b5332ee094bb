#include "common/data/tiny_imagenet.h"

#include <torch/torch.h>

#include "common/data/dataset.h"
#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::data {
namespace {

using ::testing::HasSubstr;

// A flat colour per class survives JPEG compression to within a few levels.
torch::Tensor Flat(int64_t value) { return torch::full({3, 64, 64}, value, torch::kUInt8); }

void WriteTinyImageNet(const std::string& root) {
  ASSERT_TRUE(MakeDirs(root).ok());
  ASSERT_TRUE(WriteFileAtomically(root + "/wnids.txt", "n01\nn02\n").ok());
  for (const auto& [wnid, value] : {std::pair{"n01", 40}, std::pair{"n02", 200}}) {
    const std::string dir = root + "/train/" + wnid + "/images";
    ASSERT_TRUE(MakeDirs(dir).ok());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(WriteFileAtomically(dir + "/" + wnid + "_" + std::to_string(i) + ".JPEG",
                                      EncodeJpeg(Flat(value)).value())
                      .ok());
    }
  }
  ASSERT_TRUE(MakeDirs(root + "/val/images").ok());
  ASSERT_TRUE(
      WriteFileAtomically(root + "/val/images/val_0.JPEG", EncodeJpeg(Flat(200)).value()).ok());
  ASSERT_TRUE(
      WriteFileAtomically(root + "/val/val_annotations.txt", "val_0.JPEG\tn02\t0\t0\t63\t63\n")
          .ok());
}

TEST(TinyImageNet, ReadsTheDistributedLayout) {
  const std::string dir = TestDir("tiny");
  WriteTinyImageNet(dir + "/tiny-imagenet-200");
  ImageSplits s = LoadImageSplits(dir).value();  // found through the subdirectory
  EXPECT_EQ(s.format, "tiny-imagenet-200");
  EXPECT_EQ(s.num_classes, 2);
  EXPECT_EQ(s.train_images.sizes(), torch::IntArrayRef({6, 3, 64, 64}));
  EXPECT_TRUE(torch::equal(s.train_labels, torch::tensor({0, 0, 0, 1, 1, 1}, torch::kInt64)));
  EXPECT_NEAR(s.train_images[4].to(torch::kFloat32).mean().item<double>(), 200, 2);
  EXPECT_EQ(s.test_labels[0].item<int64_t>(), 1);
}

TEST(TinyImageNet, CorruptJpegAndBadAnnotationAreDataLoss) {
  EXPECT_THAT(std::string(DecodeJpeg("not a jpeg", "x.JPEG").status().message()),
              HasSubstr("x.JPEG: not a readable JPEG"));
  const std::string good = EncodeJpeg(Flat(10)).value();
  EXPECT_EQ(DecodeJpeg(good.substr(0, good.size() / 3), "cut.JPEG").status().code(),
            absl::StatusCode::kDataLoss);
  const std::string dir = TestDir("tiny_bad");
  WriteTinyImageNet(dir);
  ASSERT_TRUE(WriteFileAtomically(dir + "/val/val_annotations.txt", "val_0.JPEG\tn99\n").ok());
  EXPECT_THAT(std::string(LoadTinyImageNet(dir).status().message()), HasSubstr("bad line"));
}

}  // namespace
}  // namespace common::data
