#include "implicit_dl/implicit_function.h"

#include <torch/torch.h>

#include "common/testing/conformance.h"
#include "gtest/gtest.h"

namespace implicit_dl {
namespace {

class ImplicitFunctionTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }

  // A with ||A||_inf = kappa (a kappa-contraction for 1-Lipschitz phi), B, U in float64.
  void MakeProblem(int64_t n, int64_t p, int64_t m, double kappa) {
    A = torch::randn({n, n}, torch::kFloat64);
    A = A * (kappa / A.abs().sum(1, true));
    B = torch::randn({n, p}, torch::kFloat64);
    U = torch::randn({p, m}, torch::kFloat64);
  }

  c10::intrusive_ptr<SolveContext> Context(ActivationKind kind, double tol, int64_t mitr) {
    auto c = c10::make_intrusive<SolveContext>();
    c->activation.kind = kind;
    c->options.tol = c->options.grad_tol = tol;
    c->options.mitr = c->options.grad_mitr = mitr;
    return c;
  }

  torch::Tensor A, B, U;
};

TEST_F(ImplicitFunctionTest, FiniteDifferencesMatchImplicitGradientsReluAndSilu) {
  MakeProblem(/*n=*/6, /*p=*/4, /*m=*/3, /*kappa=*/0.6);
  for (ActivationKind kind : {ActivationKind::kReLU, ActivationKind::kSiLU}) {
    auto f = [&](const common::testing::TensorList& in) {
      torch::Tensor x0 = torch::zeros({6, 3}, torch::kFloat64);
      return ImplicitFunction::apply(in[0], in[1], x0, in[2], Context(kind, 1e-14, 5000));
    };
    common::testing::GradientCheck g = common::testing::CheckGradients(
        f, {A.requires_grad_(), B.requires_grad_(), U.requires_grad_()});
    EXPECT_LT(g.max_abs_error, 1e-6 * std::max(1.0, g.max_abs_grad)) << static_cast<int>(kind);
    EXPECT_GT(g.max_abs_grad, 1e-3);
  }
}

TEST_F(ImplicitFunctionTest, ForwardSatisfiesFixedPointAndReturnsPreviousIterate) {
  MakeProblem(20, 5, 7, 0.9);
  const torch::Tensor Z = B.mm(U), X0 = torch::zeros({20, 7}, torch::kFloat64);
  const Activation relu;
  FixedPoint fp = PicardForward(A, Z, X0, relu, 300, 3e-6);
  ASSERT_TRUE(fp.converged);
  const torch::Tensor update = relu.Phi(A.mm(fp.x) + Z);
  EXPECT_LT((update - fp.x).abs().max().item<double>(), 3e-6);
  EXPECT_DOUBLE_EQ((update - fp.x).abs().max().item<double>(), fp.error);
  // Reference semantics: replaying fp.iterations - 1 updates gives exactly the returned iterate.
  torch::Tensor x = X0;
  for (int64_t k = 0; k + 1 < fp.iterations; ++k) x = relu.Phi(A.mm(x) + Z);
  EXPECT_TRUE(torch::equal(x, fp.x));
}

TEST_F(ImplicitFunctionTest, NonConvergenceReturnsLastIterateAndIsRecorded) {
  MakeProblem(10, 3, 4, 0.95);
  const torch::Tensor Z = B.mm(U), X0 = torch::zeros({10, 4}, torch::kFloat64);
  const Activation relu;
  FixedPoint fp = PicardForward(A, Z, X0, relu, /*mitr=*/3, 3e-6);
  EXPECT_FALSE(fp.converged);
  EXPECT_EQ(fp.iterations, 3);
  torch::Tensor x = X0;
  for (int k = 0; k < 3; ++k) x = relu.Phi(A.mm(x) + Z);
  EXPECT_TRUE(torch::equal(x, fp.x));
  auto ctx = Context(ActivationKind::kReLU, 3e-6, 3);
  torch::Tensor out = ImplicitFunction::apply(A, B, X0, U, ctx);  // warns, does not throw
  EXPECT_FALSE(ctx->stats.forward_converged);
  EXPECT_EQ(ctx->stats.forward_iterations, 3);
  EXPECT_TRUE(torch::equal(out, x));
}

TEST_F(ImplicitFunctionTest, AdjointMatchesDirectLinearSolvePerColumn) {
  MakeProblem(8, 3, 4, 0.8);
  const torch::Tensor dphi = (torch::rand({8, 4}, torch::kFloat64) > 0.3).to(torch::kFloat64);
  const torch::Tensor G = torch::randn({8, 4}, torch::kFloat64);
  FixedPoint fp = PicardAdjoint(A, dphi, G, 2000, 1e-14);
  ASSERT_TRUE(fp.converged);
  for (int64_t j = 0; j < 4; ++j) {
    // v_j = (I - diag(d_j) A^T)^{-1} diag(d_j) g_j
    const torch::Tensor d = torch::diag(dphi.select(1, j));
    const torch::Tensor v =
        torch::linalg_solve(torch::eye(8, torch::kFloat64) - d.mm(A.t()), d.mv(G.select(1, j)));
    EXPECT_TRUE(torch::allclose(fp.x.select(1, j), v, 1e-10, 1e-12)) << j;
  }
}

TEST_F(ImplicitFunctionTest, AndersonReachesPicardsFixedPointWithFewerIterations) {
  // Non-negative A and Z keep ReLU active: a linear iteration with spectral radius 0.95, the slow
  // case for Picard (~log(tol) / log(0.95) iterations).
  MakeProblem(100, 20, 16, 0.95);
  A = A.abs();
  U = U.abs();
  B = B.abs();
  const torch::Tensor Z = B.mm(U), X0 = torch::zeros({100, 16}, torch::kFloat64);
  SolverOptions picard, anderson;
  picard.tol = anderson.tol = 1e-10;
  picard.mitr = anderson.mitr = 2000;
  anderson.solver = Solver::kAnderson;
  FixedPoint p = SolveForward(A, Z, X0, Activation{}, picard);
  FixedPoint a = SolveForward(A, Z, X0, Activation{}, anderson);
  ASSERT_TRUE(p.converged && a.converged);
  // Both are within tol / (1 - kappa) of the unique fixed point.
  EXPECT_LT((p.x - a.x).abs().max().item<double>(), 2 * 1e-10 / (1 - 0.95));
  EXPECT_LE(2 * a.iterations, p.iterations) << a.iterations << " vs " << p.iterations;
}

TEST_F(ImplicitFunctionTest, ShapeErrorsAreClear) {
  MakeProblem(5, 3, 2, 0.5);
  auto ctx = Context(ActivationKind::kReLU, 1e-6, 10);
  EXPECT_THROW(ImplicitFunction::apply(A, B, torch::zeros({5, 2}, torch::kFloat64), U.t(), ctx),
               c10::Error);
}

}  // namespace
}  // namespace implicit_dl
