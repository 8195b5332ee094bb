#include "common/util/list_flag.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::util {
namespace {

using ::testing::ElementsAre;

TEST(ListFlag, CommasAndSpacesSeparateItems) {
  EXPECT_THAT(ParseStringList("a,b c,, d "), ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(ParseIntList("depths", "2,5 10").value(), ElementsAre(2, 5, 10));
  EXPECT_THAT(ParseDoubleList("lip", "2.0 0.8,-1").value(), ElementsAre(2.0, 0.8, -1.0));
  EXPECT_TRUE(ParseIntList("depths", "").value().empty());
}

TEST(ListFlag, ABadItemIsNamedWithItsFlag) {
  EXPECT_EQ(ParseIntList("depths", "2,x5").status().message(), "--depths: 'x5' is not an integer");
  EXPECT_EQ(ParseIntList("depths", "2.5").status().message(), "--depths: '2.5' is not an integer");
  EXPECT_EQ(ParseDoubleList("eps", "0.1,nan").status().message(),
            "--eps: 'nan' is not a finite number");
  EXPECT_EQ(ParseDoubleList("eps", "inf").status().message(),
            "--eps: 'inf' is not a finite number");
}

}  // namespace
}  // namespace common::util
