#include "deep_weight_prior/cli_common.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deep_weight_prior {
namespace {

TEST(CliCommon, HidDimAndLists) {
  const std::pair<int64_t, int64_t> expected{32, 128};
  EXPECT_EQ(ParseHidDim("32,128").value(), expected);
  EXPECT_EQ(ParseHidDim("32 128").value(), expected);
  EXPECT_THAT(std::string(ParseHidDim("32").status().message()),
              ::testing::HasSubstr("two positive widths"));
  EXPECT_FALSE(ParseHidDim("32,-1").ok());
  EXPECT_THAT(std::string(LoadKernelInit("vae", "/nonexistent", "").status().message()),
              ::testing::HasSubstr("no vae.json or params.yaml"));
}

}  // namespace
}  // namespace deep_weight_prior
