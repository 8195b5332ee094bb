// Rademacher complexity bounds of Graf et al. (NeurIPS 2022, Thm 3.5) for a network of L layers
// with per-layer Lipschitz constants s_i and (2,1) distances to initialisation b_i, margin gamma,
// n samples with data matrix X (the reference's bounds/rademacher_bounds.py):
//
//   C_i = (4 / gamma) (||X||_F / sqrt(n)) (prod_l s_l) b_i / s_i
//   first:  R <= 4/n + (12 H_{n-1} / sqrt(n)) sqrt(log 2W) (sum_i ceil(C_i^{2/3}))^{3/2}
//   second: R <= (12 / sqrt(n)) sqrt(sum_i 2 W_i (log(1 + ceil(L^2 C_i^2)) + psi(ceil(L^2 C_i^2))))
//
// with W = max_i W_i (parameters). `paper_form` uses the harmonic number and the ceilings; the
// reference code uses log n and drops the ceilings. psi(x) = zeta(3/2)^{1/3} zeta(3/2, 1 + 1/x^2)
// as in the code (the spec notes that its limit ~3.6 contradicts the paper's psi < 2.7).
#ifndef EXCESS_CAPACITY_BOUNDS_H_
#define EXCESS_CAPACITY_BOUNDS_H_

#include <string>
#include <vector>

namespace excess_capacity {

struct LayerCapacity {
  std::string name;
  double lip = 1;          // s_i
  double dist = 0;         // b_i
  double params = 1;       // W_i
  double input_size = 1;   // d_i, spatial side of the layer's input
  double output_size = 1;  // d_{i+1}
  double kernel = 1;       // k_i
};

struct BoundInputs {
  std::vector<LayerCapacity> layers;
  double data_norm = 0;  // ||X||_F of the (normalised) training inputs
  double n = 1;          // training samples
  double margin = 1;     // gamma > 0
};

// The Hurwitz zeta function zeta(s, a) = sum_{k >= 0} (k + a)^{-s}, s > 1, a > 0.
double HurwitzZeta(double s, double a);

double FirstBound(const BoundInputs& in, bool paper_form);
double SecondBound(const BoundInputs& in, bool paper_form);
// The Bartlett et al. (Lemma A.8) adaptation: C_i times d_{i+1}^2 / k_i and
// W = max_i W_i (d_i d_{i+1} / k_i)^2, in the first bound's form (code variant).
double BartlettBound(const BoundInputs& in);

}  // namespace excess_capacity

#endif  // EXCESS_CAPACITY_BOUNDS_H_
