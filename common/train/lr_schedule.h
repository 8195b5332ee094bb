// Learning-rate schedules as pure functions of the training position, plus a setter for any
// LibTorch optimizer. Epochs and iterations are 0-based.
//
// Example:
//   const double lr = MultiStepLr(/*base=*/0.1, {60, 120, 160}, /*gamma=*/0.2, epoch);
//   SetLearningRate(optimizer, lr);
#ifndef COMMON_TRAIN_LR_SCHEDULE_H_
#define COMMON_TRAIN_LR_SCHEDULE_H_

#include <utility>
#include <vector>

namespace torch::optim {
class Optimizer;
}  // namespace torch::optim

namespace common::train {

// base * gamma^(number of milestones <= epoch).
double MultiStepLr(double base, const std::vector<int>& milestones, double gamma, int epoch);

// min_lr + (base - min_lr) * (1 + cos(pi * t / total)) / 2, constant min_lr for t >= total.
double CosineLr(double base, double min_lr, double total, double t);

// The per-iteration quadratic warm-up of weightnorm_init (Arpit et al. 2019, code: train.py):
// alpha = (epoch + (iter + offset) / iters_per_epoch) / warmup_epochs with offset = 1 when
// warmup_lr == 0 (so the first step is not 0), and lr = warmup_lr + alpha^2 (target - warmup_lr).
// Fix of the reference: alpha is capped at 1, so a fractional warmup_epochs no longer overshoots
// the target LR in its last partial epoch.
double QuadraticWarmupLr(double warmup_lr, double target_lr, double warmup_epochs, int epoch,
                         int iter, int iters_per_epoch);

// Sets the LR of every parameter group.
void SetLearningRate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace common::train

#endif  // COMMON_TRAIN_LR_SCHEDULE_H_
