#include "common/report/run_files.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "absl/strings/match.h"
#include "common/data/file_bytes.h"

namespace common::report {
namespace {

std::string TempFile(const std::string& name, const std::string& text) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp ? tmp : "/tmp") + "/" + name;
  EXPECT_TRUE(data::WriteFileAtomically(path, text).ok());
  return path;
}

TEST(RunFilesTest, CsvColumnsAndMissingCells) {
  const std::string path = TempFile("a.csv", "epoch,acc,loss\n1,0.5,2\n2,0.75,nan\n3,,1\n");
  absl::StatusOr<Csv> csv = ReadCsv(path);
  ASSERT_TRUE(csv.ok()) << csv.status();
  const std::vector<double> acc = *csv->Column("acc");
  ASSERT_EQ(acc.size(), 3u);
  EXPECT_EQ(acc[0], 0.5);
  EXPECT_EQ(acc[1], 0.75);
  EXPECT_TRUE(std::isnan(acc[2]));
  EXPECT_TRUE(std::isnan((*csv->Column("loss"))[1]));
  EXPECT_TRUE(absl::StrContains(csv->Column("x").status().message(), "columns: epoch,acc,loss"));
  EXPECT_EQ(*csv->TextColumn("loss"), (std::vector<std::string>{"2", "nan", "1"}));
  EXPECT_FALSE(ReadCsv(TempFile("empty.csv", "")).ok());
  EXPECT_FALSE(ReadCsv("/nonexistent/a.csv").ok());
}

TEST(RunFilesTest, Statistics) {
  // 1, 2, 3, 4: mean 2.5, sample variance 5/3.
  EXPECT_DOUBLE_EQ(Mean({1, 2, 3, 4}), 2.5);
  EXPECT_DOUBLE_EQ(Std({1, 2, 3, 4}), std::sqrt(5.0 / 3.0));
  EXPECT_TRUE(std::isnan(Mean({})));
  EXPECT_EQ(MeanStd({1, 2, 3, 4}, 2), "2.50 ± 1.29");
  EXPECT_EQ(MeanStd({0.5}, 3), "0.500");
}

}  // namespace
}  // namespace common::report
