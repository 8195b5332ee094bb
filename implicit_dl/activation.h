// The componentwise non-linearity phi of an implicit model and its derivative phi', as a small
// value type (so that it can travel through autograd's saved data). Well-posedness theory
// (El Ghaoui et al. 2021, Sec. 3) needs phi monotone and 1-Lipschitz: ReLU, tanh and leaky ReLU
// are; SiLU is not (phi' in [-0.1, 1.1]), as in the reference notebook.
#ifndef IMPLICIT_DL_ACTIVATION_H_
#define IMPLICIT_DL_ACTIVATION_H_

#include <torch/types.h>

#include <string>

#include "absl/status/statusor.h"

namespace implicit_dl {

enum class ActivationKind { kReLU, kSiLU, kTanh, kLeakyReLU };

struct Activation {
  ActivationKind kind = ActivationKind::kReLU;
  double negative_slope = 0.01;  // leaky ReLU only

  torch::Tensor Phi(const torch::Tensor& z) const;
  // phi'(z); for ReLU 1 where z > 0 and 0 where z <= 0 (the reference's subgradient at 0).
  torch::Tensor DPhi(const torch::Tensor& z) const;
  // z <- phi(z) without allocating where the activation allows it.
  void PhiInPlace(torch::Tensor& z) const;

  std::string Name() const;
};

// "relu", "silu", "tanh" or "leaky_relu"; errors name --activation.
absl::StatusOr<Activation> ParseActivation(const std::string& name);

}  // namespace implicit_dl

#endif  // IMPLICIT_DL_ACTIVATION_H_
