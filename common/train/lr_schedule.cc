#include "common/train/lr_schedule.h"

#include <torch/optim/optimizer.h>

#include <algorithm>
#include <cmath>

#include "glog/logging.h"

namespace common::train {

double MultiStepLr(double base, const std::vector<int>& milestones, double gamma, int epoch) {
  const auto passed =
      std::count_if(milestones.begin(), milestones.end(), [epoch](int m) { return m <= epoch; });
  return base * std::pow(gamma, static_cast<double>(passed));
}

double CosineLr(double base, double min_lr, double total, double t) {
  CHECK_GT(total, 0) << "cosine schedule needs total > 0";
  const double progress = std::clamp(t / total, 0.0, 1.0);
  return min_lr + (base - min_lr) * 0.5 * (1 + std::cos(M_PI * progress));
}

double QuadraticWarmupLr(double warmup_lr, double target_lr, double warmup_epochs, int epoch,
                         int iter, int iters_per_epoch) {
  CHECK_GT(warmup_epochs, 0);
  CHECK_GT(iters_per_epoch, 0);
  const double offset = warmup_lr == 0 ? 1.0 : 0.0;
  const double alpha = std::min(1.0, (epoch + (iter + offset) / iters_per_epoch) / warmup_epochs);
  return warmup_lr + alpha * alpha * (target_lr - warmup_lr);
}

void SetLearningRate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace common::train
