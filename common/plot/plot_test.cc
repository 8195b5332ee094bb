#include "common/plot/plot.h"

#include <signal.h>
#include <sys/resource.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "common/plot/bins.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::plot {
namespace {

using ::testing::HasSubstr;

std::string Dir() {
  const char* d = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");  // keeps the figures for a look
  if (d == nullptr) d = std::getenv("TEST_TMPDIR");
  return d ? d : "/tmp";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// PLplot's svg driver writes text as character references (&#x41; for 'A'): decode them.
std::string DecodeCharRefs(const std::string& svg) {
  std::string out;
  for (size_t i = 0; i < svg.size(); ++i) {
    if (svg.compare(i, 3, "&#x") == 0) {
      const size_t end = svg.find(';', i);
      const long code = std::strtol(svg.substr(i + 3, end - i - 3).c_str(), nullptr, 16);
      if (code < 128) {
        out.push_back(static_cast<char>(code));
        i = end;
        continue;
      }
    }
    out.push_back(svg[i]);
  }
  return out;
}

void ExpectSvgWithText(const std::string& path, const std::string& text) {
  const std::string svg = DecodeCharRefs(Slurp(path));
  EXPECT_TRUE(absl::StrContains(svg, "<svg")) << path;
  EXPECT_TRUE(absl::StrContains(svg, text)) << path << " lacks '" << text << "'";
}

void ExpectPng(const std::string& path) {
  const std::string png = Slurp(path);
  ASSERT_GT(png.size(), 1000u) << path;
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << path;
}

TEST(Quantile, MatchesNumpyLinearInterpolation) {
  // numpy.quantile([1, 2, 3, 4], [0.25, 0.5, 0.75]) == [1.75, 2.5, 3.25].
  EXPECT_DOUBLE_EQ(Quantile({4, 1, 3, 2}, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(Quantile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(Quantile({4, 1, 3, 2}, 0.75), 3.25);
  Series s = MedianBand("m", {1, 2}, {{1, 10}, {2, 20}, {3, 30}});
  EXPECT_EQ(s.y, (std::vector<double>{2, 20}));
  EXPECT_EQ(s.lower, (std::vector<double>{1.5, 15}));
}

TEST(LinePlot, MedianBandsOnLogAxesSvgAndPng) {
  std::vector<double> x;
  std::vector<std::vector<double>> runs(5);
  for (int i = 1; i <= 50; ++i) {
    x.push_back(i);
    for (int r = 0; r < 5; ++r) runs[r].push_back(std::exp(-0.05 * i) * (1 + 0.1 * r));
  }
  std::vector<Series> series = {MedianBand("principled init", x, runs),
                                MedianBand("default init", x, runs)};
  Axes axes{"Test loss vs epoch", "epoch", "loss", true, true};
  ASSERT_TRUE(LinePlot(Dir() + "/line.svg", axes, series).ok());
  ExpectSvgWithText(Dir() + "/line.svg", "principled init");
  ASSERT_TRUE(LinePlot(Dir() + "/line.png", axes, series).ok());
  ExpectPng(Dir() + "/line.png");
}

// Reproducer 12 of the reliability issue: on a full disk a figure was left truncated with no error.
// A file-size limit (RLIMIT_FSIZE, as a full disk: writes past it fail) stands in for the disk.
TEST(LinePlot, AFailedWriteIsAnErrorAndLeavesNoFile) {
  std::vector<double> x, y;
  for (int i = 0; i < 400; ++i) x.push_back(i), y.push_back(std::sin(0.1 * i));
  const std::string path = Dir() + "/full_disk.svg";
  signal(SIGXFSZ, SIG_IGN);
  rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit small = old;
  small.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  const absl::Status s = LinePlot(path, {"t", "x", "y"}, {{"sine", x, y, {}, {}}});
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(std::string(s.message()),
              ::testing::HasSubstr("full_disk.svg: the figure was written incompletely"));
  EXPECT_FALSE(std::ifstream(path).good());
  EXPECT_FALSE(std::ifstream(path + ".plot.tmp").good());
  EXPECT_FALSE(std::ifstream(path + ".tmp").good());
  ASSERT_TRUE(LinePlot(path, {"t", "x", "y"}, {{"sine", x, y, {}, {}}}).ok());  // without the limit
  ExpectSvgWithText(path, "sine");
}

TEST(LinePlotGrid, DrawsEveryPanelAndRejectsOverflow) {
  std::vector<Panel> panels;
  for (int i = 0; i < 4; ++i) {
    Axes axes{"panel " + std::to_string(i), "x", "y"};
    axes.y_min = 0, axes.y_max = 2;  // the series leaves the range: clipped, not an error
    panels.push_back(
        {axes,
         {Series{"s" + std::to_string(i), {1, 2, 3}, {1, 3, 0.5}, {0.5, 2, 0}, {1.5, 4, 1}}}});
  }
  ASSERT_TRUE(LinePlotGrid(Dir() + "/grid.svg", 2, 2, panels).ok());
  for (int i = 0; i < 4; ++i) ExpectSvgWithText(Dir() + "/grid.svg", "panel " + std::to_string(i));
  EXPECT_THAT(std::string(LinePlotGrid(Dir() + "/grid.svg", 1, 3, panels).message()),
              HasSubstr("4 panels do not fit a 1x3 grid"));
}

TEST(LinePlot, BadInputIsAnError) {
  Series neg{"n", {0, 1}, {1, 2}, {}, {}};
  EXPECT_THAT(std::string(LinePlot(Dir() + "/x.svg", {"", "", "", true, false}, {neg}).message()),
              HasSubstr("log x axis needs positive values"));
  EXPECT_THAT(std::string(LinePlot(Dir() + "/x.pdf", {}, {}).message()),
              HasSubstr("must end in .svg or .png"));
  Series ragged{"r", {1, 2}, {1}, {}, {}};
  EXPECT_FALSE(LinePlot(Dir() + "/x.svg", {}, {ragged}).ok());
}

TEST(BinCounts, HalfOpenBinsClampedEndsAndNoNonFinite) {
  // Bins [0, 0.5), [0.5, 1]: 1 and 2 (beyond the upper edge) go to the last, -1 to the first.
  const std::vector<double> v = {0, 0.25, 0.5, 1, 2, -1, NAN, INFINITY, -INFINITY};
  EXPECT_EQ(BinCounts(v, 0, 0.5, 2), (std::vector<double>{3, 3}));
  EXPECT_EQ(FiniteValues(v), (std::vector<double>{0, 0.25, 0.5, 1, 2, -1}));
  EXPECT_EQ(BinCounts({NAN}, 0, 1, 3), (std::vector<double>{0, 0, 0}));
}

TEST(Histogram, HeatmapAndSparsityRender) {
  std::vector<double> values;
  for (int i = 0; i < 1000; ++i) values.push_back(std::sin(i * 0.37));
  ASSERT_TRUE(Histogram(Dir() + "/hist.svg", {"weights", "w", "", false, false}, values, 30).ok());
  ExpectSvgWithText(Dir() + "/hist.svg", "weights");
  Matrix cov{3, 3, {1, 0.5, -0.2, 0.5, 1, 0.1, -0.2, 0.1, 1}};
  ASSERT_TRUE(Heatmap(Dir() + "/cov.png", {"kernel covariance", "", "", false, false}, cov).ok());
  ExpectPng(Dir() + "/cov.png");
  ASSERT_TRUE(Heatmap(Dir() + "/cov.svg", {"kernel covariance", "", "", false, false}, cov).ok());
  ExpectSvgWithText(Dir() + "/cov.svg", "-1 (blue) .. 1 (red)");
  Matrix a{4, 5, std::vector<double>(20, 0.0)};
  a.values[3] = a.values[7] = a.values[19] = 1.0;
  ASSERT_TRUE(SparsityPattern(Dir() + "/spy.svg", {"A", "", "", false, false}, a).ok());
  ExpectSvgWithText(Dir() + "/spy.svg", "3 of 20 entries non-zero");
  EXPECT_FALSE(Heatmap(Dir() + "/bad.svg", {}, Matrix{2, 2, {1, 2, 3}}).ok());
}

}  // namespace
}  // namespace common::plot
