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

double LinearDecayLr(double base, double end, double total, double t) {
  CHECK_GT(total, 0) << "linear schedule needs total > 0";
  const double progress = std::clamp(t / total, 0.0, 1.0);
  return base + (end - base) * progress;
}

double PiecewiseConstantLr(const std::vector<int>& boundaries, const std::vector<double>& values,
                           int epoch) {
  CHECK_EQ(values.size(), boundaries.size() + 1) << "need one more value than boundaries";
  const auto j = std::upper_bound(boundaries.begin(), boundaries.end(), epoch) - boundaries.begin();
  return values[j];
}

double PiecewiseLinearLr(const std::vector<std::pair<double, double>>& points, double t) {
  CHECK(!points.empty()) << "piecewise-linear schedule needs points";
  if (t <= points.front().first) return points.front().second;
  for (size_t j = 1; j < points.size(); ++j) {
    const auto [t0, v0] = points[j - 1];
    const auto [t1, v1] = points[j];
    if (t <= t1) return t1 == t0 ? v1 : v0 + (v1 - v0) * (t - t0) / (t1 - t0);
  }
  return points.back().second;
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
