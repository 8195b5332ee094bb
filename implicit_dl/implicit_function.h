// The implicit function of El Ghaoui et al., "Implicit Deep Learning" (SIAM J. Math. Data Sci.
// 2021, arXiv 1908.06315): the state X solves X = phi(A X + B U) (Eq. 1.1), found by fixed-point
// iteration, and differentiated implicitly: the adjoint V = dL/dZ* solves the linear fixed point
// V = Dphi o (A^T V) + Dphi o G with G = dL/dX, Dphi = phi'(A X + B U), giving
// dA = V X^T, dB = V U^T, dU = B^T V and no gradient for the warm start X0.
//
// Layout follows the reference: features first. U [p, m], X [n, m], batch m in columns.
// Memory is constant in the number of iterations (only A, B, X, U are kept for backward).
#ifndef IMPLICIT_DL_IMPLICIT_FUNCTION_H_
#define IMPLICIT_DL_IMPLICIT_FUNCTION_H_

#include <torch/autograd.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "implicit_dl/activation.h"

namespace implicit_dl {

enum class Solver {
  kPicard,    // the reference: X <- phi(A X + Z)
  kAnderson,  // Anderson acceleration (batch-wide mixing), same fixed point and stopping rule
};

absl::StatusOr<Solver> ParseSolver(const std::string& name);

struct SolverOptions {
  int64_t mitr = 300;       // same as reference: forward iteration cap
  int64_t grad_mitr = 300;  // same as reference: adjoint iteration cap
  double tol = 3e-6;        // same as reference: absolute max-abs change, strict <
  double grad_tol = 3e-6;   // same as reference
  Solver solver = Solver::kPicard;
  int64_t anderson_memory = 5;    // past iterates mixed by Anderson
  double anderson_beta = 1.0;     // mixing: 1 = use the map's outputs only
  double anderson_lambda = 1e-4;  // Tikhonov term of the small least-squares problem
};

// A fixed-point solve. On convergence `x` is the iterate whose update moved no entry by tol or
// more (the reference returns that previous iterate, not the update); otherwise the last update.
struct FixedPoint {
  torch::Tensor x;
  int64_t iterations = 0;  // evaluations of the map
  double error = 0;        // last max |x_new - x| over the whole batch
  bool converged = false;
};

// Statistics of one forward solve and its backward solve, filled in by ImplicitFunction.
struct SolveStats {
  int64_t forward_iterations = 0;
  int64_t backward_iterations = 0;
  double forward_error = 0;
  double backward_error = 0;
  bool forward_converged = true;
  bool backward_converged = true;
};

// Options in, statistics out, for one application of ImplicitFunction (kept by autograd until
// backward has run).
struct SolveContext : torch::CustomClassHolder {
  Activation activation;
  SolverOptions options;
  SolveStats stats;
};

// X <- phi(A X + Z) from X0 until max|X_new - X| < tol or mitr maps (Sec. 3, Picard iteration).
FixedPoint PicardForward(const torch::Tensor& A, const torch::Tensor& Z, const torch::Tensor& X0,
                         const Activation& activation, int64_t mitr, double tol);

// V <- Dphi o (A^T V) + Dphi o G from V = 0: the adjoint equation of the backward pass.
FixedPoint PicardAdjoint(const torch::Tensor& A, const torch::Tensor& dphi, const torch::Tensor& G,
                         int64_t mitr, double tol);

// out = f(x) for x, out [n, m]; the map whose fixed point Anderson looks for.
using FixedPointMap = std::function<void(const torch::Tensor& x, torch::Tensor& out)>;

// Anderson acceleration with per-column mixing weights, same stopping rule as Picard.
FixedPoint AndersonSolve(const FixedPointMap& f, const torch::Tensor& x0, int64_t mitr, double tol,
                         const SolverOptions& options);

// Dispatch on options.solver for the forward and the adjoint problem.
FixedPoint SolveForward(const torch::Tensor& A, const torch::Tensor& Z, const torch::Tensor& X0,
                        const Activation& activation, const SolverOptions& options);
FixedPoint SolveAdjoint(const torch::Tensor& A, const torch::Tensor& dphi, const torch::Tensor& G,
                        const SolverOptions& options);

// X(A, B, U) with implicit gradients. A [n, n], B [n, p], X0 [n, m], U [p, m] -> X [n, m].
// Non-convergence logs the reference's warning text and is recorded in `context->stats`.
class ImplicitFunction : public torch::autograd::Function<ImplicitFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor A,
                               torch::Tensor B, torch::Tensor X0, torch::Tensor U,
                               c10::intrusive_ptr<SolveContext> context);
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad_outputs);
};

}  // namespace implicit_dl

#endif  // IMPLICIT_DL_IMPLICIT_FUNCTION_H_
