#include "common/train/progress.h"

#include "gtest/gtest.h"

namespace common::train {
namespace {

TEST(ProgressLine, FormatDuration) {
  EXPECT_EQ(ProgressLine::FormatDuration(1.234), "1.2 s");
  EXPECT_EQ(ProgressLine::FormatDuration(184), "3m04s");
  EXPECT_EQ(ProgressLine::FormatDuration(3720), "1h02m");
}

}  // namespace
}  // namespace common::train
