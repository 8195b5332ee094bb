#include "implicit_dl/activation.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"

namespace implicit_dl {

torch::Tensor Activation::Phi(const torch::Tensor& z) const {
  torch::Tensor out = z.clone();
  PhiInPlace(out);
  return out;
}

void Activation::PhiInPlace(torch::Tensor& z) const {
  switch (kind) {
    case ActivationKind::kReLU:
      z.clamp_min_(0);
      return;
    case ActivationKind::kSiLU:
      z.mul_(torch::sigmoid(z));
      return;
    case ActivationKind::kTanh:
      z.tanh_();
      return;
    case ActivationKind::kLeakyReLU:
      torch::leaky_relu_(z, negative_slope);
      return;
  }
}

torch::Tensor Activation::DPhi(const torch::Tensor& z) const {
  switch (kind) {
    case ActivationKind::kReLU:
      return (z > 0).to(z.scalar_type());
    case ActivationKind::kSiLU: {
      const torch::Tensor s = torch::sigmoid(z);
      return s * (1 + z * (1 - s));
    }
    case ActivationKind::kTanh:
      return 1 - torch::tanh(z).square();
    case ActivationKind::kLeakyReLU:
      return torch::where(z > 0, torch::ones_like(z), torch::full_like(z, negative_slope));
  }
  return {};
}

std::string Activation::Name() const {
  switch (kind) {
    case ActivationKind::kReLU:
      return "relu";
    case ActivationKind::kSiLU:
      return "silu";
    case ActivationKind::kTanh:
      return "tanh";
    case ActivationKind::kLeakyReLU:
      return "leaky_relu";
  }
  return "?";
}

absl::StatusOr<Activation> ParseActivation(const std::string& name) {
  if (name == "relu") return Activation{ActivationKind::kReLU};
  if (name == "silu") return Activation{ActivationKind::kSiLU};
  if (name == "tanh") return Activation{ActivationKind::kTanh};
  if (name == "leaky_relu") return Activation{ActivationKind::kLeakyReLU};
  return absl::InvalidArgumentError(
      absl::StrCat("--activation must be relu, silu, tanh or leaky_relu, got '", name, "'"));
}

}  // namespace implicit_dl
