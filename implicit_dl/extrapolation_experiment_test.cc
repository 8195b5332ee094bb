#include "implicit_dl/extrapolation_experiment.h"

#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace implicit_dl {
namespace {

using ::testing::HasSubstr;

TEST(Extrapolation, SmallRunFitsBothTasksAndWritesCurves) {
  ExtrapolationConfig c;
  c.dim = 8;
  c.slice = 3;
  c.samples = 256;
  c.test_samples = 64;
  c.epochs = 60;
  c.n = 8;
  c.factors = 3;
  c.functions = {"add"};
  c.seq_len = 4;
  c.out_dir = common::data::TestDir("extrapolation");
  auto r = RunExtrapolation(c).value();
  ASSERT_EQ(r.size(), 2u);
  const ExtrapolationCurves& add = r.at("arithmetic_add");
  EXPECT_NEAR(add.factors.front(), 10.0, 1e-9);
  EXPECT_NEAR(add.factors.back(), 1e5, 1e-4);
  // y = sum of two 3-wide slices of U(-1, 1): variance up to 2 (overlapping) or 2 (disjoint);
  // every model must fit far below it.
  for (const auto& [model, mse] : add.train_metric) EXPECT_LT(mse, 0.5) << model;
  EXPECT_EQ(add.metric.size(), 4u);
  // Rolling argmax over 4 positions: both models beat chance (0.25) on their training data.
  for (const auto& [model, acc] : r.at("argmax").train_metric) EXPECT_GT(acc, 0.4) << model;
  const std::string csv = common::data::ReadFileBytes(c.out_dir + "/argmax.csv").value();
  EXPECT_THAT(csv, HasSubstr("factor,implicit_rnn,lstm\n"));
  EXPECT_TRUE(common::data::FileExists(c.out_dir + "/arithmetic_add.svg"));
}

TEST(Extrapolation, BadConfigIsAnError) {
  ExtrapolationConfig c;
  c.slice = 60;
  EXPECT_THAT(std::string(Validate(c).message()), HasSubstr("--slice (60) exceeds --dim (50)"));
  c = ExtrapolationConfig();
  c.functions = {"pow"};
  c.argmax = false;
  c.epochs = 1;
  c.samples = 8;
  c.factors = 1;
  EXPECT_THAT(std::string(RunExtrapolation(c).status().message()),
              HasSubstr("unknown function 'pow'"));
}

}  // namespace
}  // namespace implicit_dl
