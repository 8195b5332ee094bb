#include "common/train/fused_sgd.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

namespace common::train {
namespace {

bool Fusable(const torch::Tensor& p) {
  return p.device().is_cpu() && p.scalar_type() == torch::kFloat32 && p.is_contiguous() &&
         p.grad().is_contiguous() && !p.grad().is_sparse();
}

// One parameter's update; `buf` is null without momentum, `fresh` when the buffer is new.
void Update(float* __restrict w, const float* __restrict g, float* __restrict buf, bool fresh,
            int64_t n, const torch::optim::SGDOptions& o) {
  const float lr = static_cast<float>(o.lr()), wd = static_cast<float>(o.weight_decay());
  const float mom = static_cast<float>(o.momentum()), damp = 1 - static_cast<float>(o.dampening());
  const bool nesterov = o.nesterov();
  at::parallel_for(0, n, 1 << 15, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float d = g[i] + wd * w[i];
      if (buf != nullptr) {
        buf[i] = fresh ? d : mom * buf[i] + damp * d;
        d = nesterov ? d + mom * buf[i] : buf[i];
      }
      w[i] -= lr * d;
    }
  });
}

}  // namespace

torch::Tensor FusedSgd::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss = closure ? closure() : torch::Tensor();
  for (auto& group : param_groups()) {
    for (auto& p : group.params()) {
      if (p.grad().defined() && !Fusable(p)) return SGD::step();  // mixed cases: LibTorch's loop
    }
  }
  for (auto& group : param_groups()) {
    const auto& o = static_cast<const torch::optim::SGDOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      float* buf = nullptr;
      bool fresh = false;
      if (o.momentum() != 0) {
        auto& slot = state_[c10::guts::to_string(p.unsafeGetTensorImpl())];
        if (!slot) {
          auto s = std::make_unique<torch::optim::SGDParamState>();
          s->momentum_buffer(torch::empty_like(p, torch::MemoryFormat::Contiguous));
          slot = std::move(s);
          fresh = true;
        }
        buf = static_cast<torch::optim::SGDParamState&>(*slot).momentum_buffer().data_ptr<float>();
      }
      Update(p.data_ptr<float>(), p.grad().data_ptr<float>(), buf, fresh, p.numel(), o);
    }
  }
  return loss;
}

}  // namespace common::train
