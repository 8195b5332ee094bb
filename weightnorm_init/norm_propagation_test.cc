#include "weightnorm_init/norm_propagation.h"

#include <cmath>
#include <fstream>

#include "gtest/gtest.h"

namespace weightnorm_init {
namespace {

SyntheticOptions Small() {
  SyntheticOptions o;
  o.samples = 200, o.input_dim = 200, o.mlp_depth = 20, o.resnet_blocks = 16;
  return o;
}

TEST(NormPropagation, ProposedMlpKeepsNormsNearOneWhileUnitGainVanishes) {
  const SyntheticOptions o = Small();
  const NormRatios proposed = MlpNormRatios(Setting::kProposedOrthogonal, 400, o, 1);
  ASSERT_EQ(proposed.forward.mean.size(), 20u);
  ASSERT_EQ(proposed.backward.mean.size(), 19u);
  for (double r : proposed.forward.mean) EXPECT_NEAR(r, 1.0, 0.35);
  for (double r : proposed.backward.mean) EXPECT_NEAR(r, 1.0, 0.35);
  const NormRatios he = MlpNormRatios(Setting::kHe, 400, o, 2);
  // Unit rows, ReLU: E||h_l||^2 = n_l / (2 n_{l-1}) ||h_{l-1}||^2, i.e. about 1/sqrt(2) per layer.
  EXPECT_NEAR(he.forward.mean[0], std::sqrt(0.5 * 400 / 200), 0.15);
  EXPECT_LT(he.forward.mean.back(), 0.01);
  EXPECT_LT(he.backward.mean.front(), 0.01);
}

TEST(NormPropagation, ProposedResNetGainFollowsTheClosedForm) {
  const SyntheticOptions o = Small();
  const double b = static_cast<double>(o.resnet_blocks);
  const double theory = std::pow(1 + 1 / b, b / 2);  // the paper: in [sqrt(2), sqrt(e))
  for (Setting s : {Setting::kProposedOrthogonal, Setting::kProposedHe}) {
    const NormRatios r = ResNetNormRatios(s, 300, o, 3);
    EXPECT_NEAR(r.forward.mean.back(), theory, 0.12 * theory) << SettingName(s);
    EXPECT_NEAR(r.backward.mean.front(), theory, 0.15 * theory) << SettingName(s);
    EXPECT_LT(r.forward.mean.back(), std::sqrt(std::exp(1.0)) * 1.1);
  }
  // Unit rows: about (1 + 1/2)^(1/2) per block.
  const NormRatios he = ResNetNormRatios(Setting::kHe, 300, o, 4);
  EXPECT_NEAR(he.forward.mean.back(), std::pow(1.5, b / 2), 0.3 * std::pow(1.5, b / 2));
}

TEST(NormPropagation, WritesTheFigureAndTheCsv) {
  SyntheticOptions o = Small();
  o.samples = 20, o.mlp_depth = 4, o.resnet_blocks = 3, o.widths = {60};
  const Figure1 f = RunFigure1(o);
  ASSERT_EQ(f.mlp.size(), 3u);
  const std::string dir = ::testing::TempDir() + "/figure1";
  ASSERT_TRUE(WriteFigure1(f, dir).ok());
  std::ifstream csv(dir + "/figure1.csv");
  std::string line;
  int rows = -1;  // header
  while (std::getline(csv, line)) ++rows;
  EXPECT_EQ(rows, 3 * (4 + 3 + 3 + 2));  // per setting: MLP fwd 4 + bwd 3, ResNet fwd 3 + bwd 2
  EXPECT_TRUE(std::ifstream(dir + "/figure1.png").good());
}

}  // namespace
}  // namespace weightnorm_init
