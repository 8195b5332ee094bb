#include "common/cuda/device_info.h"

#include <vector>

#include "gtest/gtest.h"

namespace common::cuda {
namespace {

TEST(Cuda, SaxpyMatchesHost) {
  if (DeviceCount() == 0) GTEST_SKIP() << "no CUDA device visible: GPU test skipped";
  const int n = 1000;
  std::vector<float> x(n), y(n), expected(n);
  for (int i = 0; i < n; ++i) {
    x[i] = 0.5f * i;
    y[i] = 1.0f - i;
    expected[i] = 3.0f * x[i] + y[i];
  }
  ASSERT_EQ(Saxpy(n, 3.0f, x.data(), y.data()), "");
  for (int i = 0; i < n; ++i) ASSERT_FLOAT_EQ(y[i], expected[i]) << i;
  std::printf("device 0: %s\n", DeviceDescription(0).c_str());
}

TEST(Cuda, DeviceCountIsNeverNegative) { EXPECT_GE(DeviceCount(), 0); }

}  // namespace
}  // namespace common::cuda
