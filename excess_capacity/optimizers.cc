#include "excess_capacity/optimizers.h"

#include <torch/torch.h>

#include <cmath>

namespace excess_capacity {
namespace {

double Ratio(double num, double den) { return num > 0 && den > 0 ? num / den : 1.0; }

}  // namespace

torch::Tensor Lars::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss = closure ? closure() : torch::Tensor();
  for (auto& group : param_groups()) {
    auto& o = static_cast<torch::optim::SGDOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const double w_norm = p.norm().item<double>(), g_norm = p.grad().norm().item<double>();
      const double trust = eta_ * Ratio(w_norm, g_norm + o.weight_decay() * w_norm + 1e-8);
      torch::Tensor d = p.grad() + o.weight_decay() * p;
      d.mul_(w_norm > 0 && g_norm > 0 ? trust : 1.0);
      auto& slot = state_[c10::guts::to_string(p.unsafeGetTensorImpl())];
      if (!slot) {
        auto s = std::make_unique<torch::optim::SGDParamState>();
        s->momentum_buffer(d.clone());
        slot = std::move(s);
      } else {
        auto& s = static_cast<torch::optim::SGDParamState&>(*slot);
        s.momentum_buffer().mul_(o.momentum()).add_(d);
      }
      p.add_(static_cast<torch::optim::SGDParamState&>(*slot).momentum_buffer(), -o.lr());
    }
  }
  return loss;
}

torch::Tensor Lamb::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss = closure ? closure() : torch::Tensor();
  for (auto& group : param_groups()) {
    auto& o = static_cast<torch::optim::AdamOptions&>(group.options());
    const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& slot = state_[c10::guts::to_string(p.unsafeGetTensorImpl())];
      if (!slot) {
        auto s = std::make_unique<torch::optim::AdamParamState>();
        s->step(0);
        s->exp_avg(torch::zeros_like(p));
        s->exp_avg_sq(torch::zeros_like(p));
        slot = std::move(s);
      }
      auto& s = static_cast<torch::optim::AdamParamState&>(*slot);
      s.step(s.step() + 1);
      s.exp_avg().mul_(beta1).add_(p.grad(), 1 - beta1);
      s.exp_avg_sq().mul_(beta2).addcmul_(p.grad(), p.grad(), 1 - beta2);
      const double c1 = 1 - std::pow(beta1, s.step()), c2 = 1 - std::pow(beta2, s.step());
      torch::Tensor r = (s.exp_avg() / c1) / ((s.exp_avg_sq() / c2).sqrt() + o.eps());
      if (o.weight_decay() != 0) r.add_(p, o.weight_decay());
      const double trust = Ratio(p.norm().item<double>(), r.norm().item<double>());
      p.add_(r, -o.lr() * trust);
    }
  }
  return loss;
}

}  // namespace excess_capacity
