#include "implicit_dl/implicit_function.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"

namespace implicit_dl {
namespace {

constexpr char kContextKey[] = "solve_context";

double MaxAbsDiff(const torch::Tensor& a, const torch::Tensor& b, torch::Tensor& scratch) {
  at::sub_out(scratch, a, b);
  return scratch.abs_().max().item<double>();
}

// One forward map evaluation out = phi(A x + Z); returns max |out - x|.
double ForwardStep(const torch::Tensor& A, const torch::Tensor& Z, const torch::Tensor& x,
                   const Activation& activation, torch::Tensor& out, torch::Tensor& scratch) {
  at::addmm_out(out, Z, A, x);
  activation.PhiInPlace(out);
  return MaxAbsDiff(out, x, scratch);
}

// One adjoint map evaluation out = dphi o (A^T v) + source; returns max |out - v|.
double AdjointStep(const torch::Tensor& At, const torch::Tensor& dphi, const torch::Tensor& source,
                   const torch::Tensor& v, torch::Tensor& out, torch::Tensor& scratch) {
  at::mm_out(out, At, v);
  out.mul_(dphi).add_(source);
  return MaxAbsDiff(out, v, scratch);
}

// The reference's warning (implicit_function.py), rate-limited: every occurrence is counted in
// SolveStats and the training metrics.
void WarnNotConverged(const char* what, const FixedPoint& fp) {
  LOG_FIRST_N(WARNING, 20) << absl::StrFormat(
      "%s iterations did not converge: err=%.4e, status=max itrs reached", what, fp.error);
}

template <typename Step>
FixedPoint Picard(const Step& step, torch::Tensor x, int64_t mitr, double tol) {
  torch::Tensor next = torch::empty_like(x), scratch = torch::empty_like(x);
  FixedPoint fp;
  for (int64_t k = 0; k < mitr; ++k) {
    fp.error = step(x, next, scratch);
    fp.iterations = k + 1;
    if (fp.error < tol) {
      fp.x = x;
      fp.converged = true;
      return fp;
    }
    std::swap(x, next);
  }
  fp.x = x;
  return fp;
}

}  // namespace

absl::StatusOr<Solver> ParseSolver(const std::string& name) {
  if (name == "picard") return Solver::kPicard;
  if (name == "anderson") return Solver::kAnderson;
  return absl::InvalidArgumentError(
      absl::StrCat("--solver must be picard or anderson, got '", name, "'"));
}

// The reference's loop (inn_pred / inn_pred_grad): step(x, out, scratch) writes the map's output
// into `out` and returns max |out - x|; stops at the first error < tol and returns the iterate
// before that update, or after mitr steps the last update.
FixedPoint PicardForward(const torch::Tensor& A, const torch::Tensor& Z, const torch::Tensor& X0,
                         const Activation& activation, int64_t mitr, double tol) {
  auto step = [&](const torch::Tensor& x, torch::Tensor& out, torch::Tensor& scratch) {
    return ForwardStep(A, Z, x, activation, out, scratch);
  };
  return Picard(step, X0.clone(), mitr, tol);
}

FixedPoint PicardAdjoint(const torch::Tensor& A, const torch::Tensor& dphi, const torch::Tensor& G,
                         int64_t mitr, double tol) {
  const torch::Tensor source = dphi * G;
  const torch::Tensor At = A.t().contiguous();
  auto step = [&](const torch::Tensor& v, torch::Tensor& out, torch::Tensor& scratch) {
    return AdjointStep(At, dphi, source, v, out, scratch);
  };
  return Picard(step, torch::zeros_like(source), mitr, tol);
}

// Anderson acceleration (Walker & Ni 2011), with one set of mixing weights for the whole batch:
// with the last k iterates x_i and residuals g_i = f(x_i) - x_i,
// alpha = argmin ||sum_i alpha_i g_i|| s.t. sum_i alpha_i = 1 (regularised normal equations),
// and x_next = beta sum_i alpha_i f(x_i) + (1 - beta) sum_i alpha_i x_i. One k x k solve per
// iteration keeps the overhead to a few passes over the state (per-column weights would need a
// LAPACK call per column).
FixedPoint AndersonSolve(const FixedPointMap& f, const torch::Tensor& x0, int64_t mitr, double tol,
                         const SolverOptions& options) {
  const int64_t depth = std::max<int64_t>(1, options.anderson_memory), size = x0.numel();
  torch::Tensor xs = torch::zeros({depth, size}, x0.options());  // past iterates
  torch::Tensor fs = torch::zeros({depth, size}, x0.options());  // f of those iterates
  torch::Tensor gs = torch::zeros({depth, size}, x0.options());  // residuals f(x) - x
  torch::Tensor x = x0.clone(), fx = torch::empty_like(x0), scratch = torch::empty_like(x0);
  FixedPoint fp;
  for (int64_t k = 0; k < mitr; ++k) {
    f(x, fx);
    fp.iterations = k + 1;
    fp.error = MaxAbsDiff(fx, x, scratch);
    if (fp.error < tol) {
      fp.x = x;
      fp.converged = true;
      return fp;
    }
    const int64_t slot = k % depth, used = std::min(k + 1, depth);
    xs[slot].copy_(x.view(-1));
    fs[slot].copy_(fx.view(-1));
    torch::Tensor residual = gs[slot];
    at::sub_out(residual, fx.view(-1), x.view(-1));
    const torch::Tensor G = gs.narrow(0, 0, used);
    torch::Tensor H = G.mm(G.t()).to(torch::kFloat64).cpu();  // [used, used]
    const double scale = H.diagonal().max().item<double>();
    H.diagonal().add_(options.anderson_lambda * std::max(scale, 1e-300));
    torch::Tensor alpha = torch::linalg_solve(H, torch::ones({used, 1}, H.options()));
    alpha.div_(alpha.sum());
    alpha = alpha.t().to(x0.options());  // [1, used]
    torch::Tensor mixed = alpha.mm(fs.narrow(0, 0, used));
    if (options.anderson_beta != 1.0) {
      mixed.mul_(options.anderson_beta)
          .add_(alpha.mm(xs.narrow(0, 0, used)), 1 - options.anderson_beta);
    }
    x.view(-1).copy_(mixed.view(-1));
  }
  fp.x = fx;  // like Picard: the last map output
  return fp;
}

FixedPoint SolveForward(const torch::Tensor& A, const torch::Tensor& Z, const torch::Tensor& X0,
                        const Activation& activation, const SolverOptions& options) {
  if (options.solver == Solver::kPicard) {
    return PicardForward(A, Z, X0, activation, options.mitr, options.tol);
  }
  auto map = [&](const torch::Tensor& x, torch::Tensor& out) {
    at::addmm_out(out, Z, A, x);
    activation.PhiInPlace(out);
  };  // the residual test of AndersonSolve needs f(x) and x both kept
  return AndersonSolve(map, X0, options.mitr, options.tol, options);
}

FixedPoint SolveAdjoint(const torch::Tensor& A, const torch::Tensor& dphi, const torch::Tensor& G,
                        const SolverOptions& options) {
  if (options.solver == Solver::kPicard) {
    return PicardAdjoint(A, dphi, G, options.grad_mitr, options.grad_tol);
  }
  const torch::Tensor source = dphi * G;
  const torch::Tensor At = A.t();
  auto map = [&](const torch::Tensor& v, torch::Tensor& out) {
    at::mm_out(out, At, v);
    out.mul_(dphi).add_(source);
  };
  return AndersonSolve(map, torch::zeros_like(source), options.grad_mitr, options.grad_tol,
                       options);
}

torch::Tensor ImplicitFunction::forward(torch::autograd::AutogradContext* ctx, torch::Tensor A,
                                        torch::Tensor B, torch::Tensor X0, torch::Tensor U,
                                        c10::intrusive_ptr<SolveContext> context) {
  TORCH_CHECK(A.dim() == 2 && A.size(0) == A.size(1), "A must be [n, n], got ", A.sizes());
  TORCH_CHECK(B.dim() == 2 && B.size(0) == A.size(0), "B must be [n, p] with n = ", A.size(0),
              ", got ", B.sizes());
  TORCH_CHECK(U.dim() == 2 && U.size(0) == B.size(1), "U must be [p, m] with p = ", B.size(1),
              ", got ", U.sizes());
  TORCH_CHECK(X0.sizes() == torch::IntArrayRef({A.size(0), U.size(1)}), "X0 must be [n, m] = [",
              A.size(0), ", ", U.size(1), "], got ", X0.sizes());
  torch::NoGradGuard no_grad;
  const torch::Tensor Z = B.mm(U);
  FixedPoint fp = SolveForward(A, Z, X0, context->activation, context->options);
  if (!fp.converged) WarnNotConverged("Picard", fp);
  context->stats.forward_iterations = fp.iterations;
  context->stats.forward_error = fp.error;
  context->stats.forward_converged = fp.converged;
  ctx->save_for_backward({A, B, fp.x, U, Z});  // Z kept: backward needs A X + B U
  ctx->saved_data[kContextKey] = c10::IValue::make_capsule(context);
  return fp.x;
}

torch::autograd::tensor_list ImplicitFunction::backward(torch::autograd::AutogradContext* ctx,
                                                        torch::autograd::tensor_list grad_outputs) {
  const auto saved = ctx->get_saved_variables();
  const torch::Tensor &A = saved[0], &B = saved[1], &X = saved[2], &U = saved[3], &Z = saved[4];
  auto context =
      c10::static_intrusive_pointer_cast<SolveContext>(ctx->saved_data[kContextKey].toCapsule());
  torch::NoGradGuard no_grad;
  const torch::Tensor dphi = context->activation.DPhi(torch::addmm(Z, A, X));
  FixedPoint fp = SolveAdjoint(A, dphi, grad_outputs[0], context->options);
  if (!fp.converged) WarnNotConverged("Gradient", fp);
  context->stats.backward_iterations = fp.iterations;
  context->stats.backward_error = fp.error;
  context->stats.backward_converged = fp.converged;
  const torch::Tensor& V = fp.x;
  // Products are formed only for inputs that need them: dU = B^T V costs as much as B U.
  auto needed = [&](int i, auto product) {
    return ctx->needs_input_grad(i) ? product() : torch::Tensor();
  };
  return {needed(0, [&] { return V.mm(X.t()); }), needed(1, [&] { return V.mm(U.t()); }),
          needed(2, [&] { return torch::zeros_like(X); }), needed(3, [&] { return B.t().mm(V); }),
          torch::Tensor()};
}

}  // namespace implicit_dl
