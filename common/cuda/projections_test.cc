// GPU projections against the sort-based host references (skipped without a GPU).
#include "common/cuda/projections.h"

#include <cmath>
#include <random>
#include <vector>

#include "common/cuda/device_buffer.h"
#include "common/cuda/gpu_test.h"
#include "common/cuda/projections_host.h"
#include "gtest/gtest.h"

namespace common::cuda {
namespace {

std::vector<float> Normal(size_t n, float scale, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, float tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], tol) << "entry " << i;
}

TEST(ProjectRowsL1Ball, MatchesHostOnMixedRows) {
  SKIP_WITHOUT_GPU();
  for (int cols : {7, 100, 300, 1000, 4096}) {
    const int rows = 37;
    std::vector<float> a = Normal(static_cast<size_t>(rows) * cols, 0.05f, cols);
    for (int c = 0; c < cols; ++c) a[c] *= 1e-4f;  // row 0 inside the ball
    std::vector<float> want = a;
    ProjectRowsL1BallHost(want, rows, cols, 0.95);
    DeviceBuffer<float> d(a);
    ASSERT_EQ(ProjectRowsL1Ball(d.get(), rows, cols, 0.95f, nullptr), cudaSuccess);
    const std::vector<float> got = d.Download();
    ExpectNear(got, want, 2e-6f);
    for (int c = 0; c < cols; ++c) ASSERT_EQ(got[c], a[c]) << "row inside the ball was written";
    for (int r = 1; r < rows; ++r) {
      double before = 0, after = 0;
      for (int c = 0; c < cols; ++c) {
        before += std::fabs(a[static_cast<size_t>(r) * cols + c]);
        after += std::fabs(got[static_cast<size_t>(r) * cols + c]);
      }
      if (before > 0.95) {
        EXPECT_NEAR(after, 0.95, 1e-4) << "cols " << cols << " row " << r;
      }
    }
  }
}

TEST(ProjectRowsL1Ball, RadiusZeroAndInfinity) {
  SKIP_WITHOUT_GPU();
  const std::vector<float> a = Normal(4 * 50, 1.0f, 1);
  DeviceBuffer<float> d(a);
  ASSERT_EQ(ProjectRowsL1Ball(d.get(), 4, 50, INFINITY, nullptr), cudaSuccess);
  EXPECT_EQ(d.Download(), a);
  ASSERT_EQ(ProjectRowsL1Ball(d.get(), 4, 50, 0.0f, nullptr), cudaSuccess);
  for (float v : d.Download()) ASSERT_EQ(v, 0.0f);
}

TEST(ProjectGroupNormBall, MatchesHostForMatrixAndConvLayouts) {
  SKIP_WITHOUT_GPU();
  const GroupLayout layouts[] = {{300, 300, 1}, {64, 64, 9}, {512, 512, 9}, {10, 3, 1}};
  for (const GroupLayout& layout : layouts) {
    const std::vector<float> anchor = Normal(layout.Elements(), 0.1f, 2);
    std::vector<float> x = Normal(layout.Elements(), 0.1f, 3);
    for (int i = 0; i < layout.len; ++i)
      x[i * layout.inner] = anchor[i * layout.inner];  // group 0: zero
    const double radius = 0.3 * GroupNormDistanceHost(x, anchor, layout);
    std::vector<float> want = x;
    ProjectGroupNormBallHost(want, anchor, layout, radius);
    DeviceBuffer<float> dx(x), da(anchor);
    float* workspace = nullptr;
    ASSERT_EQ(GroupNormWorkspaceCreate(layout, &workspace), cudaSuccess);
    ASSERT_EQ(ProjectGroupNormBall(dx.get(), da.get(), layout, radius, workspace, nullptr),
              cudaSuccess);
    const std::vector<float> got = dx.Download();
    ExpectNear(got, want, 1e-5f);
    EXPECT_NEAR(GroupNormDistanceHost(got, anchor, layout), radius, 1e-4 * radius);
    // Already inside: nothing is written.
    std::vector<float> inside = got;
    dx.Upload(inside);
    ASSERT_EQ(ProjectGroupNormBall(dx.get(), da.get(), layout, 2 * radius, workspace, nullptr),
              cudaSuccess);
    EXPECT_EQ(dx.Download(), inside);
    cudaFree(workspace);
  }
}

}  // namespace
}  // namespace common::cuda
