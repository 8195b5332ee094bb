// Well-posedness of x = phi(A x + b) (El Ghaoui et al. 2021, Sec. 3): unique for every b when
// lambda_pf(|A|) < 1; the tractable surrogate is ||A||_inf = max_i sum_j |A_ij| <= kappa < 1,
// which makes each column's Picard map a kappa-contraction in the infinity norm.
#ifndef IMPLICIT_DL_WELL_POSEDNESS_H_
#define IMPLICIT_DL_WELL_POSEDNESS_H_

#include <torch/types.h>

#include <string>

#include "absl/status/statusor.h"

namespace implicit_dl {

enum class WellPosedness {
  kNone,      // unconstrained A (the reference's base ImplicitFunction)
  kInf,       // default, the reference's ImplicitFunctionInf: rows of A projected onto the L1 ball
              // of radius 0.95, in place on the parameter, at the start of every forward
  kInfScale,  // the successor package (torchidl): A * kappa / ||A||_inf when ||A||_inf > kappa,
              // not in place, straight-through gradient
  kTriu,      // the reference's ImplicitFunctionTriu: strictly upper-triangular A (feed-forward),
              // zeroed in place, gradient masked
};

inline constexpr double kInfRadius = 0.95;      // same as reference: hard-coded v = 0.95
inline constexpr double kInfScaleKappa = 0.99;  // same as torchidl: kappa = 0.99

absl::StatusOr<WellPosedness> ParseWellPosedness(const std::string& name);
std::string WellPosednessName(WellPosedness variant);

// Applies the variant to the parameter A [n, n] and returns the matrix the solve must use.
// kInf and kTriu modify A in place (without autograd); the returned tensor carries the gradient
// path to A (masked by triu for kTriu, straight-through for kInfScale).
torch::Tensor ApplyWellPosedness(torch::Tensor& A, WellPosedness variant);

// max_i sum_j |A_ij|.
double InfinityNorm(const torch::Tensor& A);

}  // namespace implicit_dl

#endif  // IMPLICIT_DL_WELL_POSEDNESS_H_
