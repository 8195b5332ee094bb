// For GPU tests: skip (with the reason printed) when no CUDA device is visible, so that the
// --config=cuda test targets pass on machines without a GPU.
//
//   TEST(Kernel, MatchesHost) {
//     SKIP_WITHOUT_GPU();
//     ...
//   }
#ifndef COMMON_CUDA_GPU_TEST_H_
#define COMMON_CUDA_GPU_TEST_H_

#include "common/cuda/device_info.h"
#include "gtest/gtest.h"

#define SKIP_WITHOUT_GPU()                            \
  if (::common::cuda::DeviceCount() == 0)             \
  GTEST_SKIP() << "no CUDA device visible: GPU test " \
                  "skipped"

#endif  // COMMON_CUDA_GPU_TEST_H_
