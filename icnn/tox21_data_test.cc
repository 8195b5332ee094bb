#include "icnn/tox21_data.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "common/data/npy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace icnn {
namespace {

using ::testing::HasSubstr;

TEST(EcfpBits, SymmetricMoleculesHaveOneEnvironmentPerRadius) {
  // Every atom of methane, ethane and benzene has the same environment at each radius, so ECFP4
  // sets one bit per distinct radius: 1 (no neighbours), 2, 3.
  EXPECT_EQ(EcfpBits("C").value().sum().item<int>(), 1);
  EXPECT_EQ(EcfpBits("CC").value().sum().item<int>(), 2);
  EXPECT_EQ(EcfpBits("c1ccccc1").value().sum().item<int>(), 3);
  EXPECT_EQ(EcfpBits("c1ccccc1", 2, 1024).value().numel(), 1024);
  EXPECT_THAT(std::string(EcfpBits("C1CC(").status().message()), HasSubstr("invalid SMILES"));
}

std::string Header() {
  return "NR-AR,NR-AR-LBD,NR-AhR,NR-Aromatase,NR-ER,NR-ER-LBD,NR-PPAR-gamma,SR-ARE,SR-ATAD5,SR-HSE,"
         "SR-MMP,SR-p53,mol_id,smiles\n";
}

TEST(ParseTox21Csv, MissingLabelsAreNaNAndInvalidSmilesAreCounted) {
  const std::string csv = Header() + "0,1,,0,0,0,0,1,0,0,0,0,TOX1,CCO\n" +
                          ",,,,,,,,,,,1,TOX2,not_a_molecule(\n" +
                          "1,0,0,0,0,0,0,0,0,0,0,,TOX3,c1ccccc1O\n";
  Tox21Data d = ParseTox21Csv(csv, "t.csv", 512).value();
  EXPECT_EQ(d.invalid_smiles, 1);
  EXPECT_EQ(d.features.sizes(), torch::IntArrayRef({2, 512}));
  EXPECT_TRUE(std::isnan(d.labels[0][2].item<float>()));
  EXPECT_EQ(d.labels[0][1].item<float>(), 1.0f);
  EXPECT_TRUE(std::isnan(d.labels[1][11].item<float>()));
  EXPECT_THAT(std::string(ParseTox21Csv("smiles\nCC\n", "x.csv").status().message()),
              HasSubstr("x.csv: no column 'NR-AR'"));
  EXPECT_THAT(
      std::string(
          ParseTox21Csv(Header() + "2,0,0,0,0,0,0,0,0,0,0,0,T,C\n", "y.csv").status().message()),
      HasSubstr("label '2'"));
}

// Reproducers 7, 8 and 11 of the reliability issue: --bits=0 died of SIGFPE, --bits=100000000
// grew past 12 GB, a file without labels failed with "element 0 of tensors does not require grad".
TEST(ParseTox21Csv, ImpossibleBitsAndNoLabelsAreClearErrors) {
  const std::string csv = Header() + "0,1,,0,0,0,0,1,0,0,0,0,TOX1,CCO\n";
  EXPECT_EQ(ParseTox21Csv(csv, "t.csv", 0).status().message(),
            "--bits must be in [1, 1048576], got 0");
  EXPECT_THAT(std::string(ParseTox21Csv(csv, "t.csv", 100000000).status().message()),
              HasSubstr("--bits must be in [1, 1048576]"));
  const std::string unlabelled = Header() + ",,,,,,,,,,,,TOX1,CCO\n" + ",,,,,,,,,,,,TOX2,CC\n";
  EXPECT_THAT(std::string(ParseTox21Csv(unlabelled, "u.csv", 64).status().message()),
              HasSubstr("u.csv: every label is empty"));
}

TEST(MaskedBce, IgnoresMissingLabels) {
  const torch::Tensor logits = torch::tensor({{0.5f, -1.0f}, {2.0f, 3.0f}});
  const torch::Tensor labels = torch::tensor({{1.0f, NAN}, {0.0f, NAN}});
  // Only (0.5, 1) and (2, 0) count: mean of softplus(-0.5) and softplus(2).
  const double expected = (std::log1p(std::exp(-0.5)) + std::log1p(std::exp(2.0))) / 2;
  EXPECT_NEAR(MaskedBceWithLogits(logits, labels).item<double>(), expected, 1e-6);
  EXPECT_EQ(MaskedBceWithLogits(logits, torch::full({2, 2}, NAN)).item<double>(), 0.0);
}

TEST(Tox21Original, ReadsTheReferenceLayout) {
  const std::string dir = ::testing::TempDir() + "/tox21_ref";
  std::filesystem::create_directories(dir + "/tox21_original");
  const torch::Tensor features = torch::arange(5 * 3, torch::kFloat).view({5, 3});
  ASSERT_TRUE(common::data::WriteNpy(dir + "/compound_features_cddd.npy", features).ok());
  torch::Tensor labels = torch::zeros({2, 12});
  labels[0][0] = 1, labels[1][3] = -1;  // -1: not measured
  for (const char* split : {"train", "valid", "test"}) {
    ASSERT_TRUE(common::data::WriteNpz(
                    dir + "/tox21_original/" + std::string(split) + "_data.npz",
                    {{"labels", labels}, {"compound_idx", torch::tensor({4, 1}, torch::kInt64)}})
                    .ok());
  }
  const auto s = ReadTox21Original(dir);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(torch::equal(s->test.features,
                           features.index_select(0, torch::tensor({4, 1}, torch::kInt64))));
  EXPECT_EQ(s->train.labels[0][0].item<float>(), 1.0f);
  EXPECT_TRUE(std::isnan(s->train.labels[1][3].item<float>()));
  EXPECT_EQ(s->valid.labels[1][2].item<float>(), 0.0f);
  ASSERT_TRUE(common::data::WriteNpz(
                  dir + "/tox21_original/test_data.npz",
                  {{"labels", labels}, {"compound_idx", torch::tensor({9, 1}, torch::kInt64)}})
                  .ok());
  EXPECT_THAT(std::string(ReadTox21Original(dir).status().message()),
              ::testing::HasSubstr("outside the 5 feature rows"));
  EXPECT_FALSE(ReadTox21Original(dir + "/missing").ok());
}

}  // namespace
}  // namespace icnn
