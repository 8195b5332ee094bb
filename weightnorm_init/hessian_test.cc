#include "weightnorm_init/hessian.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace weightnorm_init {
namespace {

// L(a, b) = 0.5 [a; b]^T M [a; b] + c^T [a; b] over "batches" that scale M by (1 + s_k), so the
// averaged Hessian is M * mean(1 + s_k), known in closed form.
struct Quadratic {
  torch::Tensor m, a, b;
  std::vector<double> scales = {0.5, 1.0, 1.5};
  torch::Tensor Loss(int64_t batch) const {
    const torch::Tensor z = torch::cat({a.flatten(), b.flatten()});
    return 0.5 * scales[batch] * z.dot(m.mv(z)) + z.sum();
  }
};

TEST(Hessian, PowerIterationFindsTheSignedDominantEigenvalue) {
  torch::manual_seed(0);
  const torch::Tensor q = std::get<0>(torch::linalg_qr(torch::randn({7, 7}, torch::kDouble)));
  const torch::Tensor eig = torch::tensor({-5.0, 3.0, 2.0, 1.0, 0.5, -0.5, 0.1}, torch::kDouble);
  Quadratic f{q.matmul(torch::diag(eig)).matmul(q.t()),
              torch::randn({2, 2}, torch::kDouble).requires_grad_(),
              torch::randn({3}, torch::kDouble).requires_grad_()};
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
  const HessianEstimate h = HessianSpectralNorm(
      {f.a, f.b}, [&](int64_t k) { return f.Loss(k); }, 3, /*iters=*/100, gen);
  EXPECT_NEAR(h.value, -5.0, 1e-6);  // mean scale 1
  EXPECT_EQ(h.trace.size(), 100u);
}

TEST(Hessian, HessianVectorProductIsTheAveragedMatrixTimesV) {
  torch::manual_seed(1);
  const torch::Tensor m0 = torch::randn({5, 5}, torch::kDouble);
  Quadratic f{m0 + m0.t(), torch::randn({2}, torch::kDouble).requires_grad_(),
              torch::randn({3}, torch::kDouble).requires_grad_()};
  const torch::Tensor va = torch::randn({2}, torch::kDouble),
                      vb = torch::randn({3}, torch::kDouble);
  const auto hv =
      HessianVectorProduct({f.a, f.b}, [&](int64_t k) { return f.Loss(k); }, 2, {va, vb});
  const torch::Tensor expected =
      0.75 * f.m.mv(torch::cat({va, vb}));  // batches 0, 1: mean scale 0.75
  const torch::Tensor got = torch::cat({hv[0], hv[1]});
  EXPECT_TRUE(torch::allclose(got, expected, 1e-10, 1e-10)) << got << expected;
}

}  // namespace
}  // namespace weightnorm_init
