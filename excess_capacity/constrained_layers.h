// The constrained layers of Graf et al., "On Measuring Excess Capacity in Neural Networks"
// (NeurIPS 2022, arXiv 2202.08070): each layer keeps its Lipschitz constant lip() <= lip_cond and
// its (2,1) group-norm distance to the initial weights dist() <= dist_cond (infinity: no
// constraint), the two quantities that drive the paper's Rademacher bounds (Thm 3.5).
//
// Life cycle (explicit where the reference is lazy): construct -> Init(input shape) (kernel
// rewrites for 1x1 / 2x2 inputs, rescale to lip_cond, capture the anchor init_weight) -> build
// the optimizer -> train, calling Project(n_iter) on schedule. Load checkpoints after Init.
#ifndef EXCESS_CAPACITY_CONSTRAINED_LAYERS_H_
#define EXCESS_CAPACITY_CONSTRAINED_LAYERS_H_

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <functional>
#include <limits>
#include <ostream>

#include "absl/status/status.h"

namespace excess_capacity {

inline constexpr double kNoConstraint = std::numeric_limits<double>::infinity();

enum class ProjMode {
  kOrthogonal,  // exact projections: group soft-thresholding, per-frequency SVD clip (default)
  kRadial,      // rescaling: delta * r / dist, W * lip_cond / lip (not projections)
};

struct ConstraintOptions {
  TORCH_ARG(double, lip_cond) = kNoConstraint;
  TORCH_ARG(double, dist_cond) = kNoConstraint;
  TORCH_ARG(ProjMode, proj_mode) = ProjMode::kOrthogonal;
};

// lip_cond > 0 and dist_cond > 0 (0 is reserved for the simplex classifier); messages name the
// flag --lip / --dist.
absl::Status Validate(const ConstraintOptions& options);

// Fully connected, no bias (the paper's models use bias=False throughout). Groups of dist() are
// the rows (one per output).
class ConstrainedLinearImpl : public torch::nn::Cloneable<ConstrainedLinearImpl> {
 public:
  ConstrainedLinearImpl(int64_t in_features, int64_t out_features, ConstraintOptions constraints);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);  // [B, in] -> [B, out]

  // Rescales to lip_cond when the exact spectral norm is above it (the reference uses 100 power
  // iterations, which under-estimate), then captures the anchor.
  void Init();
  // Spectral norm of W by 100 power iterations from a fresh random start (same as reference).
  double Lip();
  double Dist() const;
  // Dykstra over [dist ball, spectral-norm ball] with n_iter sweeps (orthogonal SVD clip for the
  // Lipschitz set in both modes, same as reference). Dykstra only approaches the intersection;
  // with `exact` the result is then moved towards the (feasible) anchor until both constraints
  // hold exactly, see MoveIntoConstraints.
  void Project(int n_iter, bool exact = false);
  void pretty_print(std::ostream& stream) const override;

  int64_t in_features, out_features;
  ConstraintOptions constraints;
  torch::Tensor weight;       // [out, in]
  torch::Tensor init_weight;  // [out, in] anchor (buffer)
};
TORCH_MODULE(ConstrainedLinear);

// Cyclic-padded conv, no bias. Groups of dist() are the input-channel fibres K[o, :, a, b].
class ConstrainedConv2dImpl : public torch::nn::Cloneable<ConstrainedConv2dImpl> {
 public:
  ConstrainedConv2dImpl(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                        int64_t stride, ConstraintOptions constraints);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  // For inputs [*, in_channels, height, width]: 1x1 inputs sum the kernel to 1x1 (exact), 2x2
  // inputs crop it to 2x2 (same as reference), then rescale to lip_cond by the exact FFT norm
  // (the reference's power iteration under-estimates it) and capture the anchor. Returns the
  // output shape [1, out, H/s, W/s].
  std::vector<int64_t> Init(int64_t height, int64_t width);
  // Power iteration on the stride-1 cyclic conv over the output grid (same as reference, which
  // ignores the stride): 100 iterations from a random u the first time (or after ResetPowerState),
  // then 5 warm-started ones. u is a buffer, so it survives checkpoints.
  double Lip();
  // The exact value of what Lip() estimates, from the FFT.
  double LipExact() const;
  double Dist() const;
  void ResetPowerState();
  // Dykstra over [dist ball, Lipschitz set, kernel support] on the kernel embedded in the input
  // grid (orthogonal mode) with n_iter sweeps; the anchor is re-embedded from the init_weight
  // buffer on every call, so a loaded checkpoint projects around its own anchor. `exact` as for
  // ConstrainedLinear.
  void Project(int n_iter, bool exact = false);
  void pretty_print(std::ostream& stream) const override;

  int64_t in_channels, out_channels, kernel_size, stride;
  ConstraintOptions constraints;
  int64_t input_height = 0, input_width = 0;
  torch::Tensor weight;       // [out, in, k, k]
  torch::Tensor init_weight;  // anchor (buffer)
  torch::Tensor power_u;      // [1, out, H/s, W/s] warm start of Lip() (buffer)

 private:
  torch::Tensor radial_u_;  // warm start of the radial-mode projection
};
TORCH_MODULE(ConstrainedConv2d);

// A fixed classifier whose rows are the unit vertices of a regular simplex centred at 0
// (<p_i, p_j> = -1/(C-1)), built in closed form (Helmert basis of the sum-zero subspace, zero-
// padded to `in_features`, then a fixed random rotation) instead of the reference's optimised
// prototype files; scaled to the
// spectral norm min(lip_cond, sqrt(C/(C-1))). Not trainable; dist() = 0.
class SimplexClassifierImpl : public torch::nn::Cloneable<SimplexClassifierImpl> {
 public:
  SimplexClassifierImpl(int64_t in_features, int64_t classes, double lip_cond);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);
  double Lip() const;  // min(lip_cond, sqrt(C/(C-1)))

  int64_t in_features, classes;
  double lip_cond;
  torch::Tensor weight;  // [C, in] (buffer: fixed)
};
TORCH_MODULE(SimplexClassifier);

// anchor + t (w - anchor) with the largest t in [0, 1] such that dist <= dist_cond and
// lip <= lip_cond, given a feasible anchor: dist scales exactly with t, and lip (a norm of an
// affine function of t) is convex in t, so bisection finds the boundary (to 1e-7 in t). The
// constraints then hold to within lip_cond * 1e-6.
torch::Tensor MoveIntoConstraints(const torch::Tensor& w, const torch::Tensor& anchor,
                                  const ConstraintOptions& constraints,
                                  const std::function<double(const torch::Tensor&)>& lip);

// The unit simplex prototypes [classes, dim] (dim >= classes - 1).
torch::Tensor SimplexPrototypes(int64_t classes, int64_t dim);

}  // namespace excess_capacity

#endif  // EXCESS_CAPACITY_CONSTRAINED_LAYERS_H_
