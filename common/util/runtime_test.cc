#include "common/util/runtime.h"

#include <torch/cuda.h>

#include <cstdlib>

#include "common/util/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::util {
namespace {

using ::testing::HasSubstr;

TEST(ResolveUserPath, RelativeToBuildWorkingDirectory) {
  setenv("BUILD_WORKING_DIRECTORY", "/home/me/project", 1);
  EXPECT_EQ(ResolveUserPath("runs/a"), "/home/me/project/runs/a");
  EXPECT_EQ(ResolveUserPath("/abs/b"), "/abs/b");
  EXPECT_EQ(ResolveUserPath(""), "");
  unsetenv("BUILD_WORKING_DIRECTORY");
  EXPECT_EQ(ResolveUserPath("runs/a"), "runs/a");
}

TEST(ParseDevice, CpuAndMalformed) {
  EXPECT_EQ(ParseDevice("cpu").value(), torch::Device(torch::kCPU));
  EXPECT_THAT(std::string(ParseDevice("gpu").status().message()),
              HasSubstr("--device must be cpu, cuda or cuda:N, got 'gpu'"));
  EXPECT_FALSE(ParseDevice("cuda:-1").ok());
}

TEST(ParseDevice, CudaWithoutCudaIsAClearError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a CUDA device is visible";
  absl::Status s = ParseDevice("cuda").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("no CUDA support"));
}

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(h, Half(h));
  return h;
}

absl::Status CheckQuarter(int x) {
  RETURN_IF_ERROR(Quarter(x).status());
  return absl::OkStatus();
}

TEST(StatusMacros, PropagateFirstError) {
  EXPECT_EQ(Quarter(8).value(), 2);
  EXPECT_EQ(Quarter(6).status().message(), "odd");
  EXPECT_TRUE(CheckQuarter(4).ok());
  EXPECT_FALSE(CheckQuarter(2).ok());
}

TEST(JoinListFlags, JoinsArgparseStyleLists) {
  const char* argv[] = {"bin",        "--hid_dim", "32", "128",  "--epochs=3",
                        "--vae_list", "a/b",       "c",  "--rfe"};
  std::vector<std::string> storage;
  const std::vector<char*> out =
      JoinListFlags(9, const_cast<char**>(argv), {"--hid_dim", "--vae_list"}, storage);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_STREQ(out[1], "--hid_dim=32,128");
  EXPECT_STREQ(out[2], "--epochs=3");
  EXPECT_STREQ(out[3], "--vae_list=a/b,c");
  EXPECT_STREQ(out[4], "--rfe");
  const char* neg[] = {"bin", "--lip", "-1", "2.5", "--dist", "90"};  // negative numbers are values
  const std::vector<char*> out2 =
      JoinListFlags(6, const_cast<char**>(neg), {"--lip", "--dist"}, storage);
  ASSERT_EQ(out2.size(), 3u);
  EXPECT_STREQ(out2[1], "--lip=-1,2.5");
  EXPECT_STREQ(out2[2], "--dist=90");
}

}  // namespace
}  // namespace common::util
