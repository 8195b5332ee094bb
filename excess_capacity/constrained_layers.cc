#include "excess_capacity/constrained_layers.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/linalg/power_iteration.h"
#include "common/linalg/projections.h"
#include "excess_capacity/cyclic_conv.h"
#include "excess_capacity/dykstra.h"

namespace excess_capacity {
namespace {

constexpr int kColdPowerIterations = 100;   // same as reference
constexpr int kWarmPowerIterations = 5;     // same as reference
constexpr int kRadialPowerIterations = 10;  // same as reference

bool Constrained(double c) { return std::isfinite(c); }

torch::Tensor Normalize(const torch::Tensor& x) { return x / x.norm().clamp_min(1e-12); }

// Power iteration of the reference on the stride-1 cyclic conv over u's grid:
// v <- normalize(A^T u), u <- normalize(A v); returns <u, A v>.
double CyclicPowerIteration(const torch::Tensor& w, torch::Tensor& u, int iterations) {
  torch::Tensor v;
  for (int i = 0; i < iterations; ++i) {
    v = Normalize(CyclicConv2dAdjoint(u, w));
    u = Normalize(CyclicConv2d(v, w));
  }
  return (u * CyclicConv2d(v, w)).sum().item<double>();
}

// DistProj of the reference: the (2,1) ball around the anchor, groups along dim 1.
Projector DistanceProjector(const torch::Tensor& anchor, double radius, ProjMode mode) {
  if (mode == ProjMode::kOrthogonal) {
    return [anchor, radius](const torch::Tensor& x) {
      return common::linalg::ProjectOntoGroupNormBall(x, anchor, radius, /*group_dim=*/1);
    };
  }
  return [anchor, radius](const torch::Tensor& x) {
    const torch::Tensor delta = x - anchor;
    const double d = delta.norm(2, 1).sum().item<double>();
    return d <= radius ? x : anchor + delta * (radius / d);
  };
}

double MatrixNorm(const torch::Tensor& w) { return torch::linalg_svdvals(w).max().item<double>(); }

}  // namespace

torch::Tensor MoveIntoConstraints(const torch::Tensor& w, const torch::Tensor& anchor,
                                  const ConstraintOptions& constraints,
                                  const std::function<double(const torch::Tensor&)>& lip) {
  torch::NoGradGuard no_grad;
  const torch::Tensor delta = w - anchor;
  double hi = 1.0;
  if (Constrained(constraints.dist_cond())) {
    const double d = common::linalg::GroupNormDistance(w, anchor, 1).item<double>();
    if (d > constraints.dist_cond()) hi = constraints.dist_cond() / d * (1 - 1e-9);
  }
  const double bound = constraints.lip_cond();
  // The anchor sits at lip_cond up to rounding after Init's rescale: compare with a 1e-6 slack.
  auto feasible = [&](double t) {
    return !Constrained(bound) || lip(anchor + t * delta) <= bound * (1 + 1e-6);
  };
  if (feasible(hi)) return anchor + hi * delta;
  if (!feasible(0)) {  // an anchor outside the Lipschitz set (not produced by Init): rescale
    const torch::Tensor v = anchor + hi * delta;
    return v * (bound / lip(v));
  }
  double lo = 0;
  while (hi - lo > 1e-7) {
    const double mid = 0.5 * (lo + hi);
    (feasible(mid) ? lo : hi) = mid;
  }
  return anchor + lo * delta;
}

absl::Status Validate(const ConstraintOptions& o) {
  if (!(o.lip_cond() > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--lip values must be > 0 (or -1 for none), got ", o.lip_cond()));
  }
  if (!(o.dist_cond() > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--dist values must be > 0 (or -1 for none; 0 only as the classifier's "
                     "simplex selector), got ",
                     o.dist_cond()));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// ConstrainedLinear

ConstrainedLinearImpl::ConstrainedLinearImpl(int64_t in_features, int64_t out_features,
                                             ConstraintOptions constraints)
    : in_features(in_features), out_features(out_features), constraints(constraints) {
  reset();
}

void ConstrainedLinearImpl::reset() {
  const absl::Status valid = Validate(constraints);
  TORCH_CHECK(valid.ok(), std::string(valid.message()));
  // PyTorch's default Linear init: U(-1/sqrt(in), 1/sqrt(in)).
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  weight = register_parameter("weight",
                              torch::empty({out_features, in_features}).uniform_(-bound, bound));
  init_weight = register_buffer("init_weight", weight.detach().clone());
}

torch::Tensor ConstrainedLinearImpl::forward(const torch::Tensor& x) {
  return x.matmul(weight.t());
}

void ConstrainedLinearImpl::Init() {
  torch::NoGradGuard no_grad;
  const double lip = MatrixNorm(weight.detach());
  if (lip > constraints.lip_cond()) weight.mul_(constraints.lip_cond() / lip);
  init_weight.copy_(weight);
}

double ConstrainedLinearImpl::Lip() {
  torch::NoGradGuard no_grad;
  const torch::Tensor v0 = torch::randn({in_features}, weight.options());
  return common::linalg::SpectralNorm(weight.detach(), kColdPowerIterations, v0).sigma;
}

double ConstrainedLinearImpl::Dist() const {
  return common::linalg::GroupNormDistance(weight.detach(), init_weight, 1).item<double>();
}

void ConstrainedLinearImpl::Project(int n_iter, bool exact) {
  std::vector<Projector> sets;
  if (Constrained(constraints.dist_cond())) {
    sets.push_back(
        DistanceProjector(init_weight, constraints.dist_cond(), constraints.proj_mode()));
  }
  if (Constrained(constraints.lip_cond())) {
    const double bound = constraints.lip_cond();
    sets.push_back([bound](const torch::Tensor& w) { return ClipMatrixSpectrum(w, bound); });
  }
  if (sets.empty()) return;
  torch::NoGradGuard no_grad;
  torch::Tensor w = Dykstra(sets, weight.detach(), n_iter);
  if (exact) w = MoveIntoConstraints(w, init_weight, constraints, MatrixNorm);
  weight.copy_(w);
}

void ConstrainedLinearImpl::pretty_print(std::ostream& stream) const {
  stream << "excess_capacity::ConstrainedLinear(" << in_features << ", " << out_features
         << ", lip_cond=" << constraints.lip_cond() << ", dist_cond=" << constraints.dist_cond()
         << ")";
}

// ---------------------------------------------------------------------------------------------
// ConstrainedConv2d

ConstrainedConv2dImpl::ConstrainedConv2dImpl(int64_t in_channels, int64_t out_channels,
                                             int64_t kernel_size, int64_t stride,
                                             ConstraintOptions constraints)
    : in_channels(in_channels),
      out_channels(out_channels),
      kernel_size(kernel_size),
      stride(stride),
      constraints(constraints) {
  reset();
}

void ConstrainedConv2dImpl::reset() {
  const absl::Status valid = Validate(constraints);
  TORCH_CHECK(valid.ok(), std::string(valid.message()));
  TORCH_CHECK(kernel_size > 0 && stride > 0, "kernel_size and stride must be > 0");
  // PyTorch's default Conv2d init (kaiming_uniform with a = sqrt(5)): U(-1/sqrt(fan_in), ...).
  const double bound =
      1.0 / std::sqrt(static_cast<double>(in_channels * kernel_size * kernel_size));
  weight = register_parameter(
      "weight",
      torch::empty({out_channels, in_channels, kernel_size, kernel_size}).uniform_(-bound, bound));
  init_weight = register_buffer("init_weight", weight.detach().clone());
  power_u = register_buffer("power_u", torch::zeros({1, out_channels, 1, 1}));
}

torch::Tensor ConstrainedConv2dImpl::forward(const torch::Tensor& x) {
  return CyclicConv2d(x, weight, stride);
}

std::vector<int64_t> ConstrainedConv2dImpl::Init(int64_t height, int64_t width) {
  torch::NoGradGuard no_grad;
  input_height = height;
  input_width = width;
  torch::Tensor w = weight.detach();
  if (height == 1 && width == 1) {
    w = w.sum({2, 3}, /*keepdim=*/true);  // every tap reads the same pixel: exact
  } else if (height == 2 && width == 2 && kernel_size > 2) {
    w = w.narrow(2, 0, 2).narrow(3, 0, 2).contiguous();  // same as reference: a crop, not exact
  }
  kernel_size = w.size(2);
  // set_data keeps the registered tensors (and any optimizer built on them) and changes shapes.
  weight.set_data(w.clone());
  const int64_t out_h = (height + stride - 1) / stride, out_w = (width + stride - 1) / stride;
  power_u.set_data(torch::zeros({1, out_channels, out_h, out_w}, weight.options()));
  Lip();  // starts the warm-started power iteration (100 iterations)
  const double lip = LipExact();
  if (lip > constraints.lip_cond()) weight.mul_(constraints.lip_cond() / lip);
  init_weight.set_data(weight.detach().clone());
  return {1, out_channels, out_h, out_w};
}

double ConstrainedConv2dImpl::Lip() {
  TORCH_CHECK(input_height > 0, "ConstrainedConv2d::Lip before Init");
  torch::NoGradGuard no_grad;
  const bool cold = power_u.norm().item<double>() == 0;
  torch::Tensor u = cold ? torch::randn_like(power_u) : power_u.clone();
  const double sigma =
      CyclicPowerIteration(weight.detach(), u, cold ? kColdPowerIterations : kWarmPowerIterations);
  power_u.copy_(u);
  return sigma;
}

double ConstrainedConv2dImpl::LipExact() const {
  return CyclicConvSpectralNorm(weight, power_u.size(2), power_u.size(3));
}

double ConstrainedConv2dImpl::Dist() const {
  return common::linalg::GroupNormDistance(weight.detach(), init_weight, 1).item<double>();
}

void ConstrainedConv2dImpl::ResetPowerState() {
  torch::NoGradGuard no_grad;
  power_u.zero_();
  radial_u_ = torch::Tensor();
}

void ConstrainedConv2dImpl::Project(int n_iter, bool exact) {
  TORCH_CHECK(input_height > 0, "ConstrainedConv2d::Project before Init");
  const bool dist = Constrained(constraints.dist_cond()), lip = Constrained(constraints.lip_cond());
  if (!dist && !lip) return;  // nothing can change
  torch::NoGradGuard no_grad;
  const bool orthogonal = constraints.proj_mode() == ProjMode::kOrthogonal;
  const int64_t k = kernel_size;
  auto embed = [&](const torch::Tensor& w) {
    return orthogonal ? EmbedKernel(w, input_height, input_width) : w;
  };
  const torch::Tensor x = embed(weight.detach());
  const bool embedded = x.size(2) != k;  // false when the kernel already fills the input grid
  const bool fits = k <= input_height && k <= input_width;
  std::vector<Projector> sets;
  if (dist) {
    Projector on_kernel =
        DistanceProjector(init_weight, constraints.dist_cond(), constraints.proj_mode());
    if (embedded) {
      // Dykstra's distance step only sees points supported on the kernel window (its input is
      // the last support projection plus its own correction, both zero outside the window), so
      // projecting the window projects the whole embedded point, at a fraction of the cost.
      sets.push_back([on_kernel, k](const torch::Tensor& e) {
        const torch::Tensor window = e.narrow(2, 0, k).narrow(3, 0, k);
        const torch::Tensor projected = on_kernel(window);
        if (projected.is_same(window)) return e;
        torch::Tensor out = torch::zeros_like(e);
        out.narrow(2, 0, k).narrow(3, 0, k).copy_(projected);
        return out;
      });
    } else {
      sets.push_back(on_kernel);
    }
  }
  const double bound = constraints.lip_cond();
  if (lip && orthogonal && fits) {
    sets.push_back([bound](const torch::Tensor& e) { return ClipCyclicConvSpectrum(e, bound); });
  } else if (lip) {  // radial mode, or a kernel larger than its input: rescale by the power
                     // iteration
    sets.push_back([this, bound](const torch::Tensor& w) {
      if (!radial_u_.defined()) radial_u_ = torch::randn_like(power_u);
      const double sigma = CyclicPowerIteration(w, radial_u_, kRadialPowerIterations);
      return sigma > bound ? w * (bound / sigma) : w;
    });
  }
  if (embedded) {
    sets.push_back([k](const torch::Tensor& e) {  // ProjOnPlane: the kernel support
      torch::Tensor out = torch::zeros_like(e);
      out.narrow(2, 0, k).narrow(3, 0, k).copy_(e.narrow(2, 0, k).narrow(3, 0, k));
      return out;
    });
  }
  torch::Tensor w = Dykstra(sets, x, n_iter).narrow(2, 0, k).narrow(3, 0, k);
  if (exact) {
    const int64_t h = power_u.size(2), wd = power_u.size(3);
    w = MoveIntoConstraints(w, init_weight, constraints, [h, wd](const torch::Tensor& t) {
      return CyclicConvSpectralNorm(t, h, wd);
    });
  }
  weight.copy_(w);
}

void ConstrainedConv2dImpl::pretty_print(std::ostream& stream) const {
  stream << "excess_capacity::ConstrainedConv2d(" << in_channels << ", " << out_channels
         << ", kernel_size=" << kernel_size << ", stride=" << stride
         << ", lip_cond=" << constraints.lip_cond() << ", dist_cond=" << constraints.dist_cond()
         << ")";
}

// ---------------------------------------------------------------------------------------------
// SimplexClassifier

torch::Tensor SimplexPrototypes(int64_t classes, int64_t dim) {
  TORCH_CHECK(classes >= 2 && dim >= classes - 1, "a regular simplex of ", classes,
              " unit vertices needs dimension >= ", classes - 1, ", got ", dim);
  // q_i = (e_i - 1/C) sqrt(C/(C-1)) in R^C, written in the Helmert basis of the sum-zero subspace:
  // h_j = (1, ..., 1, -j, 0, ...) / sqrt(j (j + 1)) with j ones, j = 1..C-1.
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor q = (torch::eye(classes, f64) - 1.0 / classes) *
                    std::sqrt(static_cast<double>(classes) / (classes - 1));
  torch::Tensor helmert = torch::zeros({classes - 1, classes}, f64);
  for (int64_t j = 1; j < classes; ++j) {
    helmert[j - 1].narrow(0, 0, j).fill_(1.0);
    helmert[j - 1][j] = -static_cast<double>(j);
    helmert[j - 1].div_(std::sqrt(static_cast<double>(j * (j + 1))));
  }
  torch::Tensor p = torch::zeros({classes, dim}, f64);
  p.narrow(1, 0, classes - 1).copy_(q.mm(helmert.t()));
  // A fixed random rotation of R^dim (its own generator: the same prototypes in every run). In
  // the Helmert coordinates alone, non-negative (post-ReLU) features can only ever select the
  // first class; the reference's optimised prototypes are randomly oriented too.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(/*seed=*/20220921);
  const torch::Tensor rotation = std::get<0>(torch::linalg_qr(torch::randn({dim, dim}, gen, f64)));
  return p.mm(rotation).to(torch::kFloat32);
}

SimplexClassifierImpl::SimplexClassifierImpl(int64_t in_features, int64_t classes, double lip_cond)
    : in_features(in_features), classes(classes), lip_cond(lip_cond) {
  reset();
}

void SimplexClassifierImpl::reset() {
  TORCH_CHECK(lip_cond > 0, "--lip of the simplex classifier must be > 0, got ", lip_cond);
  const double natural = std::sqrt(static_cast<double>(classes) / (classes - 1));
  weight = register_buffer("weight", SimplexPrototypes(classes, in_features) * (Lip() / natural));
}

torch::Tensor SimplexClassifierImpl::forward(const torch::Tensor& x) {
  return x.matmul(weight.t());
}

double SimplexClassifierImpl::Lip() const {
  return std::min(lip_cond, std::sqrt(static_cast<double>(classes) / (classes - 1)));
}

}  // namespace excess_capacity
