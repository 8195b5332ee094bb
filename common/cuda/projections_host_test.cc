// The plain C++ references of the GPU projections against common/linalg's LibTorch projections
// (independent code: sorting in double vs tensor Michelot / sort). Runs everywhere, no GPU.
#include "common/cuda/projections_host.h"

#include <torch/torch.h>

#include <vector>

#include "common/linalg/projections.h"
#include "gtest/gtest.h"

namespace common::cuda {
namespace {

std::vector<float> ToVector(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

TEST(ProjectionsHost, RowsL1BallMatchesLinalg) {
  torch::manual_seed(0);
  const torch::Tensor a = torch::randn({40, 300}) * 0.02;  // about half the rows outside 0.95
  std::vector<float> host = ToVector(a);
  ProjectRowsL1BallHost(host, 40, 300, 0.95);
  const std::vector<float> want = ToVector(common::linalg::ProjectRowsOntoL1Ball(a, 0.95));
  ASSERT_EQ(host.size(), want.size());
  int changed = 0;
  for (size_t i = 0; i < host.size(); ++i) {
    ASSERT_NEAR(host[i], want[i], 1e-6) << i;
    changed += host[i] != ToVector(a)[i];
  }
  EXPECT_GT(changed, 1000);  // the test exercises rows outside the ball
}

TEST(ProjectionsHost, GroupNormBallMatchesLinalgForConvKernels) {
  torch::manual_seed(1);
  const torch::Tensor anchor = torch::randn({16, 8, 3, 3});
  const torch::Tensor x = anchor + 0.5 * torch::randn({16, 8, 3, 3});
  const double radius = 0.25 * common::linalg::GroupNormDistance(x, anchor, 1).item<double>();
  const GroupLayout layout{16, 8, 9};
  std::vector<float> host = ToVector(x);
  ProjectGroupNormBallHost(host, ToVector(anchor), layout, radius);
  const std::vector<float> want =
      ToVector(common::linalg::ProjectOntoGroupNormBall(x, anchor, radius, 1));
  for (size_t i = 0; i < host.size(); ++i) ASSERT_NEAR(host[i], want[i], 1e-5) << i;
  EXPECT_NEAR(GroupNormDistanceHost(host, ToVector(anchor), layout), radius, 1e-4 * radius);
}

TEST(ProjectionsHost, L1ThresholdClosedForm) {
  // v = (3, 1), r = 1: theta = 2 (only the 3 survives).  v = (1, 1, 1), r = 1.5: theta = 0.5.
  EXPECT_DOUBLE_EQ(L1Threshold({3, 1}, 1), 2.0);
  EXPECT_DOUBLE_EQ(L1Threshold({1, 1, 1}, 1.5), 0.5);
  EXPECT_DOUBLE_EQ(L1Threshold({0.2, 0.7}, 0), 0.7);
}

}  // namespace
}  // namespace common::cuda
