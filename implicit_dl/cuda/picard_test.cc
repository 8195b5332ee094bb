// GPU Picard solves against the plain C++ references (skipped without a GPU).
#include "implicit_dl/cuda/picard.h"

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "common/cuda/device_buffer.h"
#include "common/cuda/gpu_test.h"
#include "gtest/gtest.h"
#include "implicit_dl/cuda/picard_host.h"

namespace implicit_dl::cuda {
namespace {

using common::cuda::DeviceBuffer;

std::vector<float> Uniform(size_t count, float lo, float hi, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(count);
  for (float& x : v) x = dist(gen);
  return v;
}

// A with every row's L1 norm 0.9 (well-posed: ||A||_inf < 1), a Picard contraction for
// 1-Lipschitz phi.
std::vector<float> ContractionA(int n, unsigned seed) {
  std::vector<float> a = Uniform(size_t(n) * n, -1, 1, seed);
  for (int r = 0; r < n; ++r) {
    double norm = 0;
    for (int c = 0; c < n; ++c) norm += std::fabs(a[size_t(r) * n + c]);
    for (int c = 0; c < n; ++c) a[size_t(r) * n + c] *= static_cast<float>(0.9 / norm);
  }
  return a;
}

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::fmax(m, std::fabs(a[i] - b[i]));
  return m;
}

struct Solved {
  std::vector<float> x;
  PicardStats stats;
};

Solved GpuForward(const std::vector<float>& A, const std::vector<float>& Z,
                  const std::vector<float>& X0, const PicardProblem& p) {
  PicardWorkspace ws;
  EXPECT_EQ(PicardWorkspaceCreate(p.n, p.m, 300, true, &ws), cudaSuccess);
  DeviceBuffer<float> dA(A), dZ(Z), dX(X0);
  EXPECT_EQ(PicardForward(dA.get(), dZ.get(), dX.get(), p, ws, nullptr), cudaSuccess);
  Solved s;
  EXPECT_EQ(PicardReadStats(ws, &s.stats, nullptr), cudaSuccess);
  s.x = dX.Download();
  PicardWorkspaceDestroy(&ws);
  return s;
}

void ExpectSameSolve(const Solved& gpu, const std::vector<float>& host_x, const PicardStats& host,
                     float tol) {
  EXPECT_EQ(gpu.stats.converged, host.converged);
  EXPECT_LE(std::abs(gpu.stats.iterations - host.iterations), 1)
      << "gpu " << gpu.stats.iterations << " host " << host.iterations;
  EXPECT_LT(MaxAbsDiff(gpu.x, host_x), tol);
}

TEST(PicardForward, MatchesHostForEachActivationAndTileShape) {
  SKIP_WITHOUT_GPU();
  const int n = 300, m = 100;
  const std::vector<float> A = ContractionA(n, 1), Z = Uniform(size_t(n) * m, -1, 1, 2);
  const std::vector<float> X0(size_t(n) * m, 0.0f);
  for (Phi phi : {Phi::kReLU, Phi::kTanh, Phi::kLeakyReLU}) {
    std::vector<float> host_x = X0;
    const PicardStats host = PicardForwardHost(A, Z, host_x, n, m, phi, 0.01f, 300, 3e-6f);
    ASSERT_TRUE(host.converged);
    for (Tiles tiles : {Tiles::kSmall, Tiles::kLarge}) {
      PicardProblem p{n, m, 300, 3e-6f, phi};
      p.tiles = tiles;
      ExpectSameSolve(GpuForward(A, Z, X0, p), host_x, host, 2e-5f);
    }
  }
}

TEST(PicardForward, NotConvergedReturnsTheLastUpdate) {
  SKIP_WITHOUT_GPU();
  const int n = 130, m = 70;  // partial tiles on both axes
  const std::vector<float> A = ContractionA(n, 3), Z = Uniform(size_t(n) * m, -1, 1, 4);
  const std::vector<float> X0 = Uniform(size_t(n) * m, 0, 1, 5);
  for (int mitr : {0, 1, 2, 3}) {
    std::vector<float> host_x = X0;
    const PicardStats host = PicardForwardHost(A, Z, host_x, n, m, Phi::kReLU, 0, mitr, 3e-6f);
    const Solved gpu = GpuForward(A, Z, X0, {n, m, mitr, 3e-6f, Phi::kReLU});
    EXPECT_EQ(gpu.stats.iterations, mitr);
    EXPECT_FALSE(gpu.stats.converged);
    EXPECT_NEAR(gpu.stats.error, host.error, 1e-5f);
    EXPECT_LT(MaxAbsDiff(gpu.x, host_x), 1e-5f) << "mitr " << mitr;
  }
}

TEST(PicardForward, FixedPointStartReturnsItUnchanged) {
  SKIP_WITHOUT_GPU();
  const int n = 64, m = 33;
  const std::vector<float> A = ContractionA(n, 6), Z = Uniform(size_t(n) * m, -1, 1, 7);
  std::vector<float> fixed(size_t(n) * m, 0.0f);
  PicardForwardHost(A, Z, fixed, n, m, Phi::kReLU, 0, 300, 1e-7f);
  const Solved gpu = GpuForward(A, Z, fixed, {n, m, 300, 1e-4f, Phi::kReLU});
  EXPECT_EQ(gpu.stats.iterations, 1);
  EXPECT_TRUE(gpu.stats.converged);
  EXPECT_EQ(gpu.x, fixed);  // the iterate before the update, bit for bit
}

TEST(PicardForward, Bf16AIsCloseToFp32) {
  SKIP_WITHOUT_GPU();
  const int n = 300, m = 100;
  const std::vector<float> A = ContractionA(n, 8), Z = Uniform(size_t(n) * m, -1, 1, 9);
  const std::vector<float> X0(size_t(n) * m, 0.0f);
  std::vector<float> host_x = X0;
  PicardForwardHost(A, Z, host_x, n, m, Phi::kReLU, 0, 300, 3e-6f);
  PicardProblem p{n, m, 300, 3e-6f, Phi::kReLU};
  p.precision = Precision::kBf16A;
  const Solved gpu = GpuForward(A, Z, X0, p);
  EXPECT_TRUE(gpu.stats.converged);
  const float diff = MaxAbsDiff(gpu.x, host_x);
  std::printf("bf16 A: max |X_bf16 - X_fp32| = %.3g\n", diff);
  EXPECT_LT(diff, 2e-2f);
  EXPECT_GT(diff, 1e-6f);  // really rounded
}

TEST(PicardAdjoint, MatchesHost) {
  SKIP_WITHOUT_GPU();
  const int n = 300, m = 100;
  const std::vector<float> A = ContractionA(n, 10), G = Uniform(size_t(n) * m, -1, 1, 11);
  std::vector<float> D = Uniform(size_t(n) * m, 0, 1, 12);
  for (float& d : D) d = d > 0.4f ? 1.0f : 0.0f;  // a ReLU mask
  std::vector<float> host_v;
  const PicardStats host = PicardAdjointHost(A, D, G, host_v, n, m, 300, 3e-6f);
  ASSERT_TRUE(host.converged);
  for (Tiles tiles : {Tiles::kSmall, Tiles::kLarge}) {
    PicardWorkspace ws;
    ASSERT_EQ(PicardWorkspaceCreate(n, m, 300, false, &ws), cudaSuccess);
    DeviceBuffer<float> dA(A), dD(D), dG(G), dV(size_t(n) * m);
    PicardProblem p{n, m, 300, 3e-6f};
    p.tiles = tiles;
    ASSERT_EQ(PicardAdjoint(dA.get(), dD.get(), dG.get(), dV.get(), p, ws, nullptr), cudaSuccess);
    Solved gpu;
    ASSERT_EQ(PicardReadStats(ws, &gpu.stats, nullptr), cudaSuccess);
    gpu.x = dV.Download();
    ExpectSameSolve(gpu, host_v, host, 2e-5f);
    PicardWorkspaceDestroy(&ws);
  }
}

TEST(PicardForward, SizesOutsideTheWorkspaceAreRejected) {
  SKIP_WITHOUT_GPU();
  PicardWorkspace ws;
  ASSERT_EQ(PicardWorkspaceCreate(10, 10, 5, false, &ws), cudaSuccess);
  DeviceBuffer<float> d(400);
  EXPECT_EQ(PicardForward(d.get(), d.get(), d.get(), {20, 10, 5, 1e-3f}, ws, nullptr),
            cudaErrorInvalidValue);
  EXPECT_EQ(PicardForward(d.get(), d.get(), d.get(), {10, 10, 6, 1e-3f}, ws, nullptr),
            cudaErrorInvalidValue);
  PicardProblem bf16{10, 10, 5, 1e-3f};
  bf16.precision = Precision::kBf16A;  // workspace made without bf16 storage
  EXPECT_EQ(PicardForward(d.get(), d.get(), d.get(), bf16, ws, nullptr), cudaErrorInvalidValue);
  PicardWorkspaceDestroy(&ws);
}

}  // namespace
}  // namespace implicit_dl::cuda
