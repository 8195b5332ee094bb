// How an input-convex network keeps its weights non-negative (Hoedt & Klambauer, NeurIPS 2023,
// convex_modules.py): a map from raw parameters to effective weights, and its inverse (so that an
// initialiser can write effective weights into raw parameters).
#ifndef ICNN_POSITIVITY_H_
#define ICNN_POSITIVITY_H_

#include <torch/types.h>

#include <string>

#include "absl/status/statusor.h"

namespace icnn {

enum class Positivity {
  kNone,      // identity: the same code builds a non-convex network
  kLazyClip,  // "icnn": raw weights clamped to >= 0 in place at every forward, identity gradient
  kExp,       // "exp": w = exp(raw)
  kClip,      // "clip": w = relu(raw) in the graph (zero gradient for negative raw weights)
  kNegExp,    // w = exp(raw) where raw < 0, else raw
};

// "none" (or ""), "icnn", "exp", "clip", "negexp"; errors name --positivity.
absl::StatusOr<Positivity> ParsePositivity(const std::string& name);

// Effective weight of `raw` (for kLazyClip: clamps `raw` in place and returns it).
torch::Tensor ApplyPositivity(Positivity p, torch::Tensor& raw);

// Raw parameter giving the (non-negative) effective weight `w`.
torch::Tensor InversePositivity(Positivity p, const torch::Tensor& w);

}  // namespace icnn

#endif  // ICNN_POSITIVITY_H_
