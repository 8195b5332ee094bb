#include "deep_weight_prior/cli_common.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deep_weight_prior {
namespace {

TEST(CliCommon, JoinsTheReferenceListFlags) {
  const char* argv[] = {"bin", "--hid_dim", "32", "128", "--epochs=3", "--vae_list", "a/b", "c", "--rfe"};
  std::vector<std::string> storage;
  const std::vector<char*> out = JoinListFlags(9, const_cast<char**>(argv), {"--hid_dim", "--vae_list"}, storage);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_STREQ(out[1], "--hid_dim=32,128");
  EXPECT_STREQ(out[2], "--epochs=3");
  EXPECT_STREQ(out[3], "--vae_list=a/b,c");
  EXPECT_STREQ(out[4], "--rfe");
}

TEST(CliCommon, HidDimAndLists) {
  const std::pair<int64_t, int64_t> expected{32, 128};
  EXPECT_EQ(ParseHidDim("32,128").value(), expected);
  EXPECT_EQ(ParseHidDim("32 128").value(), expected);
  EXPECT_THAT(std::string(ParseHidDim("32").status().message()), ::testing::HasSubstr("two positive widths"));
  EXPECT_FALSE(ParseHidDim("32,-1").ok());
  EXPECT_THAT(SplitList("vae, vae sn"), ::testing::ElementsAre("vae", "vae", "sn"));
  EXPECT_THAT(std::string(LoadKernelInit("vae", "/nonexistent", "").status().message()),
              ::testing::HasSubstr("no vae.json or params.yaml"));
}

}  // namespace
}  // namespace deep_weight_prior
