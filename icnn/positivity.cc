#include "icnn/positivity.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"

namespace icnn {

absl::StatusOr<Positivity> ParsePositivity(const std::string& name) {
  if (name.empty() || name == "none") return Positivity::kNone;
  if (name == "icnn") return Positivity::kLazyClip;
  if (name == "exp") return Positivity::kExp;
  if (name == "clip") return Positivity::kClip;
  if (name == "negexp") return Positivity::kNegExp;
  return absl::InvalidArgumentError(
      absl::StrCat("--positivity must be none, icnn, exp, clip or negexp, got '", name, "'"));
}

torch::Tensor ApplyPositivity(Positivity p, torch::Tensor& raw) {
  switch (p) {
    case Positivity::kNone:
      return raw;
    case Positivity::kLazyClip: {
      torch::NoGradGuard no_grad;
      raw.clamp_min_(0);  // same as reference: projected gradient descent, gradient not masked
      return raw;
    }
    case Positivity::kExp:
      return raw.exp();
    case Positivity::kClip:
      return torch::relu(raw);
    case Positivity::kNegExp:
      return torch::where(raw < 0, raw.exp(), raw);
  }
  return raw;
}

torch::Tensor InversePositivity(Positivity p, const torch::Tensor& w) {
  switch (p) {
    case Positivity::kNone:  // the identity is its own inverse (clamping here would drop signs)
      return w.clone();
    case Positivity::kExp:
      return w.log();
    case Positivity::kNegExp:  // the reference's inverse is the map itself
      return torch::where(w < 0, w.exp(), w);
    default:
      return w.clamp_min(0);
  }
}

}  // namespace icnn
