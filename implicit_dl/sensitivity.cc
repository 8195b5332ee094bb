#include "implicit_dl/sensitivity.h"

#include <torch/torch.h>

namespace implicit_dl {
namespace {

template <typename F>
double BatchedAccuracy(const common::data::InMemoryDataset& data, int64_t batch_size, F correct) {
  int64_t hits = 0;
  for (const torch::Tensor& idx : data.EpochBatches(batch_size, /*shuffle=*/false, 0, 0)) {
    hits += correct(data.Get(idx));
  }
  return data.size() == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(data.size());
}

}  // namespace

torch::Tensor SensitivityMatrix(const ImplicitModelImpl& model) {
  torch::NoGradGuard no_grad;
  const torch::Tensor A = model.A.to(torch::kFloat64).abs();
  const int64_t p = model.options.p();
  const torch::Tensor B = model.B.to(torch::kFloat64).abs().narrow(1, 0, p);
  const torch::Tensor C = model.C.to(torch::kFloat64).abs();
  const torch::Tensor D = model.D.to(torch::kFloat64).abs().narrow(1, 0, p);
  const torch::Tensor I = torch::eye(A.size(0), A.options());
  return C.mm(torch::linalg_solve(I - A, B)) + D;
}

torch::Tensor OutputBound(const ImplicitModelImpl& model, double sigma_u) {
  return SensitivityMatrix(model).sum(1) * sigma_u;
}

torch::Tensor RobustCrossEntropy(const torch::Tensor& logits, const torch::Tensor& sigma_y,
                                 const torch::Tensor& labels) {
  const torch::Tensor s = sigma_y.to(logits.options()).view({1, -1});
  return torch::nn::functional::cross_entropy(logits + s, labels) +
         2 * s.squeeze(0).index_select(0, labels).mean();
}

double FgsmAccuracy(ImplicitModel& model, const common::data::InMemoryDataset& data, double eps,
                    InputRange range, int64_t batch_size) {
  return BatchedAccuracy(data, batch_size, [&](const common::data::Batch& b) {
    torch::Tensor u = b.inputs.clone().requires_grad_();
    torch::nn::functional::cross_entropy(model->forward(u), b.targets).backward();
    torch::NoGradGuard no_grad;
    const torch::Tensor attacked = (u + eps * u.grad().sign()).clamp(range.lo, range.hi);
    return (model->forward(attacked).argmax(1) == b.targets).sum().item<int64_t>();
  });
}

double NoiseAccuracy(ImplicitModel& model, const common::data::InMemoryDataset& data, double sigma,
                     InputRange range, uint64_t seed, int64_t batch_size) {
  torch::Generator gen = common::data::SeededGenerator(seed, /*stream=*/7);
  torch::NoGradGuard no_grad;
  return BatchedAccuracy(data, batch_size, [&](const common::data::Batch& b) {
    const torch::Tensor noise = torch::randn(b.inputs.sizes(), gen, b.inputs.options());
    const torch::Tensor noisy = (b.inputs + sigma * noise).clamp(range.lo, range.hi);
    return (model->forward(noisy).argmax(1) == b.targets).sum().item<int64_t>();
  });
}

double CertifiedAccuracy(ImplicitModel& model, const common::data::InMemoryDataset& data,
                         double eps, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const torch::Tensor bound = OutputBound(*model, eps).to(torch::kFloat32).view({1, -1});
  return BatchedAccuracy(data, batch_size, [&](const common::data::Batch& b) {
    const torch::Tensor logits = model->forward(b.inputs);
    const torch::Tensor y = b.targets.view({-1, 1});
    const torch::Tensor worst_true = logits.gather(1, y) - bound.expand_as(logits).gather(1, y);
    const torch::Tensor worst_other = (logits + bound).scatter(1, y, -INFINITY).amax(1, true);
    return (worst_true > worst_other).sum().item<int64_t>();
  });
}

}  // namespace implicit_dl
