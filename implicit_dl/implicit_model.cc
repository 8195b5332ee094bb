#include "implicit_dl/implicit_model.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"

namespace implicit_dl {

absl::Status Validate(const ImplicitModelOptions& o) {
  const std::pair<const char*, int64_t> sizes[] = {
      {"--n", o.n()}, {"p (input features)", o.p()}, {"q (outputs)", o.q()}};
  for (const auto& [name, value] : sizes) {
    if (value <= 0)
      return absl::InvalidArgumentError(absl::StrCat(name, " must be > 0, got ", value));
  }
  const SolverOptions& s = o.solver();
  if (s.mitr < 1)
    return absl::InvalidArgumentError(absl::StrCat("--mitr must be >= 1, got ", s.mitr));
  if (s.grad_mitr < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--grad_mitr must be >= 1, got ", s.grad_mitr));
  }
  if (!(s.tol > 0))
    return absl::InvalidArgumentError(absl::StrCat("--tol must be > 0, got ", s.tol));
  if (!(s.grad_tol > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("--grad_tol must be > 0, got ", s.grad_tol));
  }
  return absl::OkStatus();
}

ImplicitModelImpl::ImplicitModelImpl(const ImplicitModelOptions& options) : options(options) {
  reset();
}

void ImplicitModelImpl::reset() {
  const absl::Status valid = Validate(options);
  TORCH_CHECK(valid.ok(), std::string(valid.message()));
  const int64_t n = options.n(), p = options.p() + (options.bias() ? 1 : 0), q = options.q();
  A = register_parameter("A", torch::empty({n, n}));
  B = register_parameter("B", torch::empty({n, p}));
  C = register_parameter("C", torch::empty({q, n}));
  D = options.no_D() ? register_buffer("D", torch::zeros({q, p}))
                     : register_parameter("D", torch::empty({q, p}));
  reset_parameters();
}

void ImplicitModelImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  const double n = static_cast<double>(options.n());
  A.normal_().div_(n);
  B.normal_().div_(n);
  C.normal_().div_(n);
  if (!options.no_D()) D.normal_().div_(n);
}

torch::Tensor ImplicitModelImpl::InputColumns(const torch::Tensor& u) const {
  TORCH_CHECK(u.dim() == 2, "ImplicitModel expects a 2-D [batch, features] input, got ", u.sizes());
  TORCH_CHECK(u.size(1) == options.p(), "input has ", u.size(1),
              " features but the model expects p = ", options.p());
  torch::Tensor U = u.t();
  if (options.bias()) U = torch::cat({U, torch::ones({1, U.size(1)}, U.options())});
  return U;
}

torch::Tensor ImplicitModelImpl::HiddenState(const torch::Tensor& u, const torch::Tensor& x0) {
  const torch::Tensor U = InputColumns(u);
  const torch::Tensor A_used = ApplyWellPosedness(A, options.variant());
  const torch::Tensor X0 =
      x0.defined() ? x0.t().contiguous() : torch::zeros({options.n(), U.size(1)}, U.options());
  last_ = c10::make_intrusive<SolveContext>();
  last_->activation = options.activation();
  last_->options = options.solver();
  return ImplicitFunction::apply(A_used, B, X0, U, last_).t();
}

torch::Tensor ImplicitModelImpl::forward(const torch::Tensor& u, const torch::Tensor& x0) {
  const torch::Tensor X = HiddenState(u, x0).t();
  return (C.mm(X) + D.mm(InputColumns(u))).t();
}

SolveStats ImplicitModelImpl::last_stats() const { return last_ ? last_->stats : SolveStats{}; }

double ImplicitModelImpl::SparsityOfA() const {
  return 100.0 * (A == 0).to(torch::kFloat64).mean().item<double>();
}

void ImplicitModelImpl::pretty_print(std::ostream& stream) const {
  stream << "implicit_dl::ImplicitModel(n=" << options.n() << ", p=" << options.p()
         << ", q=" << options.q() << ", variant=" << WellPosednessName(options.variant())
         << ", activation=" << options.activation().Name() << ", no_D=" << options.no_D()
         << ", bias=" << options.bias() << ")";
}

}  // namespace implicit_dl
