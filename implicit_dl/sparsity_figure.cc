#include "implicit_dl/sparsity_figure.h"

#include <torch/torch.h>

#include "absl/strings/str_format.h"
#include "common/plot/plot.h"

namespace implicit_dl {

torch::Tensor BlockMatrix(const ImplicitModelImpl& model) {
  torch::NoGradGuard no_grad;
  const auto f64 = [](const torch::Tensor& t) { return t.detach().cpu().to(torch::kFloat64); };
  return torch::cat(
      {torch::cat({f64(model.C), f64(model.D)}, 1), torch::cat({f64(model.A), f64(model.B)}, 1)},
      0);
}

absl::Status WriteSparsityFigure(const ImplicitModelImpl& model, const std::string& path,
                                 double threshold) {
  const torch::Tensor m = BlockMatrix(model).contiguous();
  common::plot::Matrix matrix{
      m.size(0), m.size(1),
      std::vector<double>(m.data_ptr<double>(), m.data_ptr<double>() + m.numel())};
  const std::string title =
      absl::StrFormat("[[C, D], [A, B]] of an implicit model (n=%d)", model.options.n());
  return common::plot::SparsityPattern(path, {title, "column", "row", false, false}, matrix,
                                       threshold);
}

}  // namespace implicit_dl
