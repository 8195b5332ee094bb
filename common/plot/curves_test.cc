#include "common/plot/curves.h"

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/data/file_bytes.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::plot {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A run directory with config.json {"lr": lr, "seed": seed} and metrics.csv rows `csv`.
std::string MakeRun(const std::string& name, const std::string& lr, int seed,
                    const std::string& csv) {
  const std::string dir = ::testing::TempDir() + "/curves/" + name;
  std::filesystem::create_directories(dir);
  EXPECT_TRUE(data::WriteFileAtomically(dir + "/config.json",
                                        absl::StrCat(R"({"lr": ")", lr, R"(", "seed": ")", seed,
                                                     R"(", "out_dir": ")", dir, R"("})"))
                  .ok());
  EXPECT_TRUE(data::WriteFileAtomically(dir + "/metrics.csv", csv).ok());
  return dir;
}

TEST(Curves, OneSeriesPerRunWithTheRowsAsTheyAre) {
  const std::string a = MakeRun("a", "0.1", 1, "epoch,loss,acc\n1,2.0,0.5\n2,1.0,nan\n3,0.5,0.9\n");
  const std::string b = MakeRun("b", "0.01", 1, "epoch,loss,acc\n1,3.0,0.4\n2,2.5,0.6\n");
  const std::vector<Panel> panels = CurvePanels({.run_dirs = {a, b}}).value();
  ASSERT_EQ(panels.size(), 2u);
  EXPECT_EQ(panels[0].axes.title, "loss");
  EXPECT_EQ(panels[0].axes.xlabel, "epoch");
  ASSERT_EQ(panels[0].series.size(), 2u);
  EXPECT_EQ(panels[0].series[0].name, "lr=0.1");  // the setting that tells the runs apart
  EXPECT_THAT(panels[0].series[0].y, ElementsAre(2.0, 1.0, 0.5));
  EXPECT_THAT(panels[1].series[0].x, ElementsAre(1, 3));  // the NaN accuracy left out
  EXPECT_THAT(panels[1].series[1].y, ElementsAre(0.4, 0.6));
  EXPECT_TRUE(DrawCurves(::testing::TempDir() + "/curves/two.svg", {.run_dirs = {a, b}}).ok());
  EXPECT_GT(std::filesystem::file_size(::testing::TempDir() + "/curves/two.svg"), 1000u);
}

TEST(Curves, MedianAndQuartilesAcrossSeedsOfOneSetting) {
  std::vector<std::string> dirs;
  const double finals[] = {1.0, 4.0, 2.0, 3.0};  // at epoch 2; epoch 3 only in seed 0
  for (int s = 0; s < 4; ++s) {
    dirs.push_back(MakeRun(
        absl::StrCat("s", s), "0.1", s,
        absl::StrCat("epoch,loss\n1,", 10 + s, "\n2,", finals[s], "\n", s == 0 ? "3,0.5\n" : "")));
  }
  dirs.push_back(MakeRun("other", "0.5", 0, "epoch,loss\n1,7\n2,6\n"));
  const std::vector<Panel> panels =
      CurvePanels({.run_dirs = dirs, .columns = {"loss"}, .median = true}).value();
  ASSERT_EQ(panels.size(), 1u);
  ASSERT_EQ(panels[0].series.size(), 2u);
  const Series& s = panels[0].series[0];
  EXPECT_EQ(s.name, "lr=0.1 (median of 4)");
  EXPECT_THAT(s.x, ElementsAre(1, 2));  // the epochs every seed logged
  // numpy's linear quantiles of {10, 11, 12, 13} and {1, 2, 3, 4}: median 11.5 / 2.5,
  // quartiles 10.75, 12.25 / 1.75, 3.25.
  EXPECT_THAT(s.y, ElementsAre(11.5, 2.5));
  EXPECT_THAT(s.lower, ElementsAre(10.75, 1.75));
  EXPECT_THAT(s.upper, ElementsAre(12.25, 3.25));
  EXPECT_EQ(panels[0].series[1].name, "lr=0.5");
}

TEST(Curves, ErrorsNameTheRunAndTheColumn) {
  const std::string a = MakeRun("e1", "0.1", 1, "epoch,loss\n1,2\n");
  const std::string b = MakeRun("e2", "0.1", 2, "step,loss\n1,2\n");
  EXPECT_THAT(std::string(CurvePanels({.run_dirs = {a}, .columns = {"acc"}}).status().message()),
              HasSubstr("e1"));
  EXPECT_THAT(std::string(CurvePanels({.run_dirs = {a, b}}).status().message()),
              HasSubstr("same x column"));
  EXPECT_FALSE(CurvePanels({.run_dirs = {::testing::TempDir() + "/nope"}}).ok());
  EXPECT_FALSE(CurvePanels({}).ok());
}

}  // namespace
}  // namespace common::plot
