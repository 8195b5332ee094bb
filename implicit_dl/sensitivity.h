// Robustness analysis of implicit models (El Ghaoui et al. 2021, Sec. 5; the pre-release code's
// ImplicitPerturbation / RobustCrossEntropy / fgsm_test): for |du| <= sigma_u componentwise,
// |dy| <= S sigma_u with the sensitivity matrix S = |C| (I - |A|)^{-1} |B| + |D|, valid when
// lambda_pf(|A|) < 1 (e.g. ||A||_inf <= 0.95) and phi is 1-Lipschitz.
#ifndef IMPLICIT_DL_SENSITIVITY_H_
#define IMPLICIT_DL_SENSITIVITY_H_

#include <torch/types.h>

#include "common/data/dataset.h"
#include "implicit_dl/implicit_model.h"

namespace implicit_dl {

// S [q, p] over the model's real inputs (a bias row is never perturbed).
torch::Tensor SensitivityMatrix(const ImplicitModelImpl& model);

// sigma_y = S sigma_u [q] for a box of half-width sigma_u on every input.
torch::Tensor OutputBound(const ImplicitModelImpl& model, double sigma_u);

// CE(logits + sigma_y, y) + 2 mean(sigma_y[y]) (the pre-release RobustCrossEntropy): an upper
// bound on the cross-entropy of the worst-case logits (true class - sigma, others + sigma).
torch::Tensor RobustCrossEntropy(const torch::Tensor& logits, const torch::Tensor& sigma_y,
                                 const torch::Tensor& labels);

struct InputRange {
  double lo = -0.5;  // the reference's MNIST normalisation maps pixels [0, 1] to [-0.5, 0.5]
  double hi = 0.5;
};

// Accuracy on inputs moved by eps * sign(grad_u CE) (one FGSM step), clamped to `range`.
double FgsmAccuracy(ImplicitModel& model, const common::data::InMemoryDataset& data, double eps,
                    InputRange range, int64_t batch_size = 1000);

// Accuracy under additive N(0, sigma^2) noise, clamped to `range`.
double NoiseAccuracy(ImplicitModel& model, const common::data::InMemoryDataset& data, double sigma,
                     InputRange range, uint64_t seed, int64_t batch_size = 1000);

// Fraction of inputs whose prediction is certified for every perturbation |du| <= eps: the true
// logit minus its bound beats every other logit plus its bound.
double CertifiedAccuracy(ImplicitModel& model, const common::data::InMemoryDataset& data,
                         double eps, int64_t batch_size = 1000);

}  // namespace implicit_dl

#endif  // IMPLICIT_DL_SENSITIVITY_H_
