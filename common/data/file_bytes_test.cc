#include "common/data/file_bytes.h"

#include <fstream>

#include "common/data/synthetic.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::data {
namespace {

using ::testing::HasSubstr;

TEST(FileBytes, GzipRoundTripAndPlain) {
  const std::string dir = TestDir("file_bytes");
  std::string payload;
  for (int i = 0; i < 100000; ++i) payload.push_back(static_cast<char>(i * 31 % 251));
  ASSERT_TRUE(WriteFileAtomically(dir + "/a.bin.gz", payload).ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/a.bin", payload).ok());
  EXPECT_EQ(ReadFileBytes(dir + "/a.bin.gz").value(), payload);
  EXPECT_EQ(ReadFileBytes(dir + "/a.bin").value(), payload);
  EXPECT_FALSE(FileExists(dir + "/a.bin.tmp"));
}

TEST(FileBytes, TruncatedGzipIsDataLoss) {
  const std::string dir = TestDir("file_bytes_trunc");
  ASSERT_TRUE(WriteFileAtomically(dir + "/t.gz", std::string(5000, 'x') + "tail").ok());
  std::string z = ReadFileBytes(dir + "/t.gz.raw").status().ok() ? "" : "";
  std::ifstream in(dir + "/t.gz", std::ios::binary);
  z.assign(std::istreambuf_iterator<char>(in), {});
  std::ofstream(dir + "/cut.gz", std::ios::binary).write(z.data(), z.size() / 2);
  absl::Status s = ReadFileBytes(dir + "/cut.gz").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("cut.gz: corrupt or truncated gzip"));
}

TEST(FileBytes, MissingFileIsNotFound) {
  absl::Status s = ReadFileBytes("/nonexistent/x.idx").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()), HasSubstr("/nonexistent/x.idx"));
}

}  // namespace
}  // namespace common::data
