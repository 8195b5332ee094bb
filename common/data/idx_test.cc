#include "common/data/idx.h"

#include <torch/torch.h>

#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::data {
namespace {

using ::testing::HasSubstr;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(ParseIdx, HandWrittenBigEndianInt32) {
  // magic 0x00000C02 (int32, rank 2), dims 2 x 2, values 1, 256, -1, 65536.
  const std::string bytes(
      "\0\0\x0C\x02\0\0\0\x02\0\0\0\x02"
      "\0\0\0\x01\0\0\x01\0\xFF\xFF\xFF\xFF\0\x01\0\0",
      28);
  torch::Tensor t = ParseIdx(bytes, "hand").value();
  EXPECT_EQ(t.scalar_type(), torch::kInt32);
  EXPECT_TRUE(torch::equal(t, torch::tensor({1, 256, -1, 65536}, torch::kInt32).view({2, 2})));
}

TEST(ParseIdx, RejectsBadMagicTruncationAndTrailingBytes) {
  const std::string good("\0\0\x08\x01\0\0\0\x03\x01\x02\x03", 11);
  EXPECT_TRUE(ParseIdx(good, "g").ok());
  EXPECT_THAT(Message(ParseIdx("\x01" + good.substr(1), "m").status()), HasSubstr("bad magic"));
  EXPECT_THAT(Message(ParseIdx(good.substr(0, 10), "t").status()),
              HasSubstr("t: 10 bytes but shape [3] needs 11 (truncated)"));
  EXPECT_THAT(Message(ParseIdx(good + "x", "x").status()), HasSubstr("12 bytes but shape [3]"));
  std::string bad_type = good;
  bad_type[2] = 0x07;
  EXPECT_THAT(Message(ParseIdx(bad_type, "ty").status()), HasSubstr("unknown IDX element type"));
}

TEST(WriteIdx, RoundTripsEveryTypeRawAndGz) {
  const std::string dir = TestDir("idx_roundtrip");
  for (auto dtype : {torch::kUInt8, torch::kInt8, torch::kInt16, torch::kInt32, torch::kFloat32,
                     torch::kFloat64}) {
    torch::Tensor t = (torch::arange(24) - 5).to(dtype).view({2, 3, 4});
    for (const char* ext : {"", ".gz"}) {
      const std::string path = dir + "/t" + ext;
      ASSERT_TRUE(WriteIdx(path, t).ok());
      EXPECT_TRUE(torch::equal(ReadIdx(path).value(), t)) << path;
    }
  }
}

TEST(LoadMnistDirectory, ReadsTinyGzDirectory) {
  const std::string dir = TestDir("mnist_gz");
  ASSERT_TRUE(WriteTinyMnistDirectory(dir, 30, 12, /*gz=*/true).ok());
  ImageSplits s = LoadMnistDirectory(dir).value();
  EXPECT_EQ(s.train_images.sizes(), torch::IntArrayRef({30, 1, 28, 28}));
  EXPECT_EQ(s.test_labels.sizes(), torch::IntArrayRef({12}));
  EXPECT_EQ(s.num_classes, 10);
  EXPECT_EQ(s.train_images[4][0][2][5].item<int>(), (7 * 4 + 3 * 2 + 5) % 256);
  EXPECT_EQ(s.train_labels[13].item<int64_t>(), 3);
}

TEST(LoadMnistDirectory, CountMismatchAndMissingFileAreErrors) {
  const std::string dir = TestDir("mnist_bad");
  ASSERT_TRUE(WriteTinyMnistDirectory(dir, 10, 5, /*gz=*/false).ok());
  ASSERT_TRUE(WriteIdx(dir + "/t10k-labels-idx1-ubyte", torch::zeros({4}, torch::kUInt8)).ok());
  EXPECT_THAT(Message(LoadMnistDirectory(dir).status()), HasSubstr("4 labels for 5 images"));
  std::remove((dir + "/t10k-labels-idx1-ubyte").c_str());
  absl::Status s = LoadMnistDirectory(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(s), HasSubstr("missing t10k-labels-idx1-ubyte"));
}

// Reproducer 6 of the reliability issue: labels 10 and 255 made every MNIST experiment train a
// silent 256-class model.
TEST(LoadMnistDirectory, LabelsOutsideTheClassesAreDataLossNamingTheFirst) {
  const std::string dir = TestDir("mnist_labels");
  ASSERT_TRUE(WriteTinyMnistDirectory(dir, 10, 5, /*gz=*/true).ok());
  torch::Tensor y = ReadIdx(dir + "/train-labels-idx1-ubyte.gz").value();
  y[3] = 10;
  y[7] = 255;
  ASSERT_TRUE(WriteIdx(dir + "/train-labels-idx1-ubyte.gz", y).ok());
  const absl::Status s = LoadMnistDirectory(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(
      Message(s),
      HasSubstr(
          "train-labels-idx1-ubyte.gz: label 10 at index 3 is outside [0, 10) (2 such labels)"));
}

}  // namespace
}  // namespace common::data
