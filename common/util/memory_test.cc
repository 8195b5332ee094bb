#include "common/util/memory.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::util {
namespace {

TEST(CheckFitsInMemory, NamesWhatAndBothSizes) {
  EXPECT_TRUE(CheckFitsInMemory(1e9, "x", /*limit_bytes=*/2e9).ok());
  const absl::Status s = CheckFitsInMemory(12.34e9, "--bits=100000000", /*limit_bytes=*/8e9);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "--bits=100000000 needs 12.3 GB, more than this machine's 8.0 GB of memory");
  EXPECT_GT(PhysicalMemoryBytes(), 1e8);  // any machine that runs the tests
  EXPECT_FALSE(CheckFitsInMemory(1e18, "a petabyte").ok());
}

}  // namespace
}  // namespace common::util
