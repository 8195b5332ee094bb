// GPU spectral norms against the plain C++ references (skipped without a GPU).
#include "excess_capacity/cuda/spectral_norm.h"

#include <cmath>
#include <random>
#include <vector>

#include "common/cuda/device_buffer.h"
#include "common/cuda/gpu_test.h"
#include "excess_capacity/cuda/spectral_norm_host.h"
#include "gtest/gtest.h"

namespace excess_capacity::cuda {
namespace {

using common::cuda::DeviceBuffer;

std::vector<float> Normal(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

float Sigma(const SpectralWorkspace& ws) {
  float sigma = -1;
  common::cuda::CheckCuda(cudaMemcpy(&sigma, ws.sigma, sizeof(float), cudaMemcpyDeviceToHost),
                          "sigma");
  return sigma;
}

TEST(MatrixSpectralNorm, MatchesHostIterateForIterate) {
  SKIP_WITHOUT_GPU();
  SpectralWorkspace ws;
  ASSERT_EQ(SpectralWorkspaceCreate(700, 700, {1, 1, 1, 1, 1}, &ws), cudaSuccess);
  for (auto [rows, cols] : {std::pair{300, 300}, {700, 130}, {65, 700}}) {
    const std::vector<float> w = Normal(size_t(rows) * cols, rows);
    for (int iters : {1, 5, 30}) {
      std::vector<float> v0 = Normal(cols, 7), host_v = v0;
      const double want = MatrixSpectralNormHost(w, rows, cols, iters, host_v);
      DeviceBuffer<float> dw(w), dv(v0);
      ASSERT_EQ(MatrixSpectralNorm(dw.get(), rows, cols, iters, dv.get(), ws, nullptr),
                cudaSuccess);
      EXPECT_NEAR(Sigma(ws), want, 1e-4 * want) << rows << "x" << cols << " iters " << iters;
      const std::vector<float> v = dv.Download();
      for (int c = 0; c < cols; ++c) ASSERT_NEAR(v[c], host_v[c], 1e-3f) << c;
    }
  }
  SpectralWorkspaceDestroy(&ws);
}

TEST(MatrixSpectralNorm, ZeroMatrixGivesZeroNotNaN) {
  SKIP_WITHOUT_GPU();
  SpectralWorkspace ws;
  ASSERT_EQ(SpectralWorkspaceCreate(8, 8, {1, 1, 1, 1, 1}, &ws), cudaSuccess);
  DeviceBuffer<float> dw(std::vector<float>(64, 0.0f)), dv(std::vector<float>(8, 1.0f));
  ASSERT_EQ(MatrixSpectralNorm(dw.get(), 8, 8, 3, dv.get(), ws, nullptr), cudaSuccess);
  EXPECT_EQ(Sigma(ws), 0.0f);
  SpectralWorkspaceDestroy(&ws);
}

TEST(CyclicConvSpectralNorm, MatchesHostExactNorm) {
  SKIP_WITHOUT_GPU();
  const ConvShape shapes[] = {
      {8, 4, 3, 8, 8}, {5, 3, 2, 6, 5}, {16, 16, 3, 4, 4}, {6, 6, 1, 4, 4}, {3, 3, 5, 7, 9}};
  SpectralWorkspace ws;
  ASSERT_EQ(SpectralWorkspaceCreate(1, 1, {16, 16, 3, 9, 9}, &ws), cudaSuccess);
  for (const ConvShape& s : shapes) {
    const std::vector<float> w = Normal(size_t(s.cout) * s.cin * s.k * s.k, s.cout + s.k);
    const double want = CyclicConvSpectralNormHost(w, s.cout, s.cin, s.k, s.height, s.width);
    DeviceBuffer<float> dw(w);
    ASSERT_EQ(CyclicConvSpectralNorm(dw.get(), s, 500, ws, nullptr), cudaSuccess);
    EXPECT_NEAR(Sigma(ws), want, 1e-3 * want) << s.cout << "x" << s.cin << " k" << s.k;
  }
  const ConvShape too_big{32, 32, 3, 9, 9};
  DeviceBuffer<float> dw(32 * 32 * 9);
  EXPECT_EQ(CyclicConvSpectralNorm(dw.get(), too_big, 5, ws, nullptr), cudaErrorInvalidValue);
  SpectralWorkspaceDestroy(&ws);
}

}  // namespace
}  // namespace excess_capacity::cuda
