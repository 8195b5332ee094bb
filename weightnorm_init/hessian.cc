#include "weightnorm_init/hessian.h"

#include <glog/logging.h>
#include <torch/autograd.h>

namespace weightnorm_init {

std::vector<torch::Tensor> HessianVectorProduct(
    const std::vector<torch::Tensor>& params,
    const std::function<torch::Tensor(int64_t batch)>& batch_loss, int64_t num_batches,
    const std::vector<torch::Tensor>& v) {
  TORCH_CHECK(num_batches > 0 && v.size() == params.size(), "HessianVectorProduct: ", num_batches,
              " batches, ", v.size(), " vectors for ", params.size(), " parameters");
  std::vector<torch::Tensor> hv;
  for (const torch::Tensor& p : params) hv.push_back(torch::zeros_like(p));
  for (int64_t b = 0; b < num_batches; ++b) {
    const torch::Tensor loss = batch_loss(b);
    const std::vector<torch::Tensor> grads =
        torch::autograd::grad({loss}, params, {}, /*retain_graph=*/true, /*create_graph=*/true);
    torch::Tensor dot = torch::zeros({}, loss.options());
    for (size_t i = 0; i < grads.size(); ++i) dot = dot + (grads[i] * v[i]).sum();
    const std::vector<torch::Tensor> h = torch::autograd::grad({dot}, params, {}, false, false,
                                                               /*allow_unused=*/true);
    for (size_t i = 0; i < h.size(); ++i) {
      if (h[i].defined()) hv[i] += h[i].detach();
    }
  }
  for (torch::Tensor& t : hv) t /= static_cast<double>(num_batches);
  return hv;
}

HessianEstimate HessianSpectralNorm(const std::vector<torch::Tensor>& params,
                                    const std::function<torch::Tensor(int64_t batch)>& batch_loss,
                                    int64_t num_batches, int iters, torch::Generator& gen) {
  std::vector<torch::Tensor> v;
  for (const torch::Tensor& p : params) v.push_back(torch::randn(p.sizes(), gen, p.options()));
  HessianEstimate out;
  for (int it = 0; it < iters; ++it) {
    std::vector<torch::Tensor> hv = HessianVectorProduct(params, batch_loss, num_batches, v);
    double estimate = 0;
    for (const torch::Tensor& t : hv) {
      const torch::Tensor flat = t.flatten();
      if (flat.numel() == 0) continue;
      const double e = flat[flat.abs().argmax()].item<double>();
      if (std::abs(e) > std::abs(estimate)) estimate = e;
    }
    out.value = estimate;
    out.trace.push_back(estimate);
    LOG(INFO) << "hessian power iteration " << it + 1 << "/" << iters << ": " << estimate;
    if (estimate == 0) break;  // H v = 0: nothing left to iterate on
    for (size_t i = 0; i < v.size(); ++i) v[i] = hv[i] / estimate;
  }
  return out;
}

}  // namespace weightnorm_init
