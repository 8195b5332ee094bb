#include "excess_capacity/dykstra.h"

#include <torch/torch.h>

namespace excess_capacity {

torch::Tensor Dykstra(const std::vector<Projector>& sets, const torch::Tensor& x, int sweeps) {
  if (sets.empty() || sweeps < 1) return x.clone();
  std::vector<torch::Tensor> p(sets.size());
  torch::Tensor current = x;
  for (int s = 0; s < sweeps; ++s) {
    for (size_t i = 0; i < sets.size(); ++i) {
      const torch::Tensor shifted = p[i].defined() ? current + p[i] : current;
      torch::Tensor next = sets[i](shifted);
      if (s + 1 < sweeps) p[i] = shifted - next;  // the last sweep's corrections are never used
      current = next;
    }
  }
  return current;
}

}  // namespace excess_capacity
