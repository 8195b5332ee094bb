#include "implicit_dl/well_posedness.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "common/linalg/projections.h"

namespace implicit_dl {

absl::StatusOr<WellPosedness> ParseWellPosedness(const std::string& name) {
  if (name == "inf") return WellPosedness::kInf;
  if (name == "inf_scale") return WellPosedness::kInfScale;
  if (name == "triu") return WellPosedness::kTriu;
  if (name == "none") return WellPosedness::kNone;
  return absl::InvalidArgumentError(
      absl::StrCat("--variant must be inf, inf_scale, triu or none, got '", name, "'"));
}

std::string WellPosednessName(WellPosedness variant) {
  switch (variant) {
    case WellPosedness::kNone:
      return "none";
    case WellPosedness::kInf:
      return "inf";
    case WellPosedness::kInfScale:
      return "inf_scale";
    case WellPosedness::kTriu:
      return "triu";
  }
  return "?";
}

double InfinityNorm(const torch::Tensor& A) { return A.abs().sum(1).max().item<double>(); }

torch::Tensor ApplyWellPosedness(torch::Tensor& A, WellPosedness variant) {
  switch (variant) {
    case WellPosedness::kNone:
      return A;
    case WellPosedness::kInf: {
      // Through variable_data(), like the reference's A.data.copy_(): autograd's version counter
      // of A is not bumped, so graphs that already saved A (earlier steps of an RNN unroll, which
      // re-project an A that is already inside the ball) stay valid.
      torch::NoGradGuard no_grad;
      A.variable_data().copy_(common::linalg::ProjectRowsOntoL1Ball(A, kInfRadius));
      return A;
    }
    case WellPosedness::kInfScale: {
      const double norm = InfinityNorm(A.detach());
      if (norm <= kInfScaleKappa) return A;
      const torch::Tensor scaled = A.detach() * (kInfScaleKappa / norm);
      return A + (scaled - A.detach());  // value: scaled; gradient: identity to A
    }
    case WellPosedness::kTriu: {
      {
        torch::NoGradGuard no_grad;
        A.variable_data().triu_(1);  // as kInf: no version bump
      }
      return A.triu(1);  // autograd masks the gradient below the first superdiagonal
    }
  }
  return A;
}

}  // namespace implicit_dl
