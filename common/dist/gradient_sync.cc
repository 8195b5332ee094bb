#include "common/dist/gradient_sync.h"

#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "common/util/status_macros.h"

namespace common::dist {

GradientSync::GradientSync(ProcessGroup& group, std::vector<torch::Tensor> params,
                           int64_t bucket_bytes, int64_t first_bucket_bytes)
    : group_(group) {
  for (torch::Tensor& p : params) {
    if (p.requires_grad()) params_.push_back(std::move(p));
  }
  if (!group_.distributed()) return;
  // Buckets over the parameters in reverse order, cut at the byte cap and where dtype or device
  // change.
  bucket_of_.resize(params_.size());
  offset_of_.resize(params_.size());
  int64_t bytes = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    const torch::Tensor& p = params_[k];
    const int64_t size = p.numel() * static_cast<int64_t>(p.element_size());
    const int64_t cap = buckets_.size() == 1 ? first_bucket_bytes : bucket_bytes;
    const bool start = buckets_.empty() || bytes + size > cap ||
                       params_[buckets_.back().params.front()].dtype() != p.dtype() ||
                       params_[buckets_.back().params.front()].device() != p.device();
    if (start) {
      buckets_.emplace_back();
      bytes = 0;
    }
    Bucket& b = buckets_.back();
    b.offsets.push_back(b.params.empty() ? 0 : b.offsets.back() + params_[b.params.back()].numel());
    b.params.push_back(k);
    bucket_of_[k] = buckets_.size() - 1;
    offset_of_[k] = b.offsets.back();
    bytes += size;
  }
  for (Bucket& b : buckets_) {
    const torch::Tensor& last = params_[b.params.back()];
    b.flat = torch::zeros({b.offsets.back() + last.numel()}, last.options());
  }
  ready_.assign(params_.size(), false);
  for (size_t k = 0; k < params_.size(); ++k) {
    std::shared_ptr<torch::autograd::Node> accumulator =
        torch::autograd::impl::grad_accumulator(params_[k]);
    hook_keys_.push_back(
        accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
            [this, k](const torch::autograd::variable_list& outputs,
                      const torch::autograd::variable_list&) {
              OnGradReady(k);
              return outputs;
            })));
    accumulators_.push_back(std::move(accumulator));  // keeps the hooked node alive
  }
}

GradientSync::~GradientSync() {
  for (size_t k = 0; k < accumulators_.size(); ++k) accumulators_[k]->del_post_hook(hook_keys_[k]);
}

void GradientSync::FillBucketSlot(size_t k) {
  if (ready_[k]) return;
  ready_[k] = true;
  Bucket& b = buckets_[bucket_of_[k]];
  const torch::Tensor& p = params_[k];
  torch::Tensor view = b.flat.narrow(0, offset_of_[k], p.numel());
  if (p.grad().defined()) {
    view.copy_(p.grad().reshape(-1)).mul_(scale_);
  } else {
    view.zero_();
  }
  --b.pending;
}

void GradientSync::LaunchReadyBuckets() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0) {
    Bucket& b = buckets_[next_launch_++];
    std::vector<torch::Tensor> arg = {b.flat};
    b.work = group_.backend()->allreduce(arg);
  }
}

void GradientSync::OnGradReady(size_t k) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!active_) return;
  FillBucketSlot(k);
  LaunchReadyBuckets();
}

absl::Status GradientSync::Backward(const torch::Tensor& loss, int64_t local_n, int64_t global_n,
                                    bool reduce) {
  if (!group_.distributed() || !reduce) {
    if (loss.defined()) loss.backward();
    return absl::OkStatus();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_ = true;
    scale_ = global_n > 0 ? static_cast<double>(local_n) / static_cast<double>(global_n) : 0.0;
    std::fill(ready_.begin(), ready_.end(), false);
    for (Bucket& b : buckets_) {
      b.pending = static_cast<int64_t>(b.params.size());
      b.work.reset();
    }
    next_launch_ = 0;
  }
  absl::Status status = group_.Run("gradient all-reduce", [&] {
    if (loss.defined()) loss.backward();
    std::lock_guard<std::mutex> lock(mu_);
    active_ = false;
    // Parameters backward did not reach on this rank count as zero.
    for (size_t k = 0; k < params_.size(); ++k) FillBucketSlot(k);
    LaunchReadyBuckets();
    for (Bucket& b : buckets_) b.work->wait();
  });
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_ = false;
  }
  RETURN_IF_ERROR(status);
  torch::NoGradGuard no_grad;
  for (const Bucket& b : buckets_) {
    for (size_t slot = 0; slot < b.params.size(); ++slot) {
      torch::Tensor& p = params_[b.params[slot]];
      const torch::Tensor reduced = b.flat.narrow(0, b.offsets[slot], p.numel()).view_as(p);
      if (p.grad().defined()) {
        p.mutable_grad().copy_(reduced);
      } else {
        p.mutable_grad() = reduced.clone();
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace common::dist
