// The plain C++ Picard references against implicit_dl's LibTorch solver (the code the GPU kernels
// must agree with): same iteration counts and iterates. Runs everywhere, no GPU.
#include "implicit_dl/cuda/picard_host.h"

#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "implicit_dl/activation.h"
#include "implicit_dl/implicit_function.h"

namespace implicit_dl::cuda {
namespace {

std::vector<float> ToVector(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

torch::Tensor WellPosedA(int n) {
  torch::Tensor a = torch::rand({n, n}) * 2 - 1;
  return a * (0.9 / a.abs().sum(1, true));
}

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::fmax(m, std::fabs(a[i] - b[i]));
  return m;
}

TEST(PicardHost, ForwardMatchesLibTorchSolver) {
  torch::manual_seed(0);
  const int n = 60, m = 25;
  const torch::Tensor A = WellPosedA(n), Z = torch::rand({n, m}) * 2 - 1;
  const torch::Tensor X0 = torch::zeros({n, m});
  for (const char* name : {"relu", "tanh", "leaky_relu"}) {
    const Activation act = *ParseActivation(name);
    const Phi phi = act.kind == ActivationKind::kReLU   ? Phi::kReLU
                    : act.kind == ActivationKind::kTanh ? Phi::kTanh
                                                        : Phi::kLeakyReLU;
    for (int mitr : {3, 300}) {
      const FixedPoint want = PicardForward(A, Z, X0, act, mitr, 3e-6);
      std::vector<float> x = ToVector(X0);
      const PicardStats got =
          PicardForwardHost(ToVector(A), ToVector(Z), x, n, m, phi,
                            static_cast<float>(act.negative_slope), mitr, 3e-6f);
      EXPECT_EQ(got.converged, want.converged) << name;
      EXPECT_LE(std::abs(got.iterations - want.iterations), 1) << name;
      EXPECT_LT(MaxAbsDiff(x, ToVector(want.x)), 1e-5f) << name << " mitr " << mitr;
      if (mitr == 3) {
        EXPECT_NEAR(got.error, want.error, 1e-5) << name;
      }
    }
  }
}

TEST(PicardHost, AdjointMatchesLibTorchSolver) {
  torch::manual_seed(1);
  const int n = 50, m = 20;
  const torch::Tensor A = WellPosedA(n), G = torch::randn({n, m});
  const torch::Tensor D = (torch::rand({n, m}) > 0.3).to(torch::kFloat);
  const FixedPoint want = PicardAdjoint(A, D, G, 300, 3e-6);
  std::vector<float> v;
  const PicardStats got =
      PicardAdjointHost(ToVector(A), ToVector(D), ToVector(G), v, n, m, 300, 3e-6f);
  ASSERT_TRUE(want.converged);
  EXPECT_TRUE(got.converged);
  EXPECT_LE(std::abs(got.iterations - want.iterations), 1);
  EXPECT_LT(MaxAbsDiff(v, ToVector(want.x)), 1e-5f);
}

TEST(PicardHost, ScalarFixedPointClosedForm) {
  // n = m = 1, a = 0.5, z = 1, relu: x* = z / (1 - a) = 2; from 0 the error halves every map.
  std::vector<float> x = {0.0f};
  const PicardStats s = PicardForwardHost({0.5f}, {1.0f}, x, 1, 1, Phi::kReLU, 0, 100, 1e-3f);
  EXPECT_TRUE(s.converged);
  EXPECT_NEAR(x[0], 2.0f, 2e-3f);
  // errors 1, 0.5, ..., 2^-(k-1) < 1e-3 first at k = 11
  EXPECT_EQ(s.iterations, 11);
}

}  // namespace
}  // namespace implicit_dl::cuda
