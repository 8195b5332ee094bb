#include "common/train/metrics.h"

#include <torch/torch.h>

namespace common::train {

int64_t CountCorrect(const torch::Tensor& logits, const torch::Tensor& labels) {
  TORCH_CHECK(logits.dim() == 2 && labels.dim() == 1 && logits.size(0) == labels.size(0),
              "expected logits [N, C] and labels [N], got ", logits.sizes(), " and ",
              labels.sizes());
  return logits.argmax(1).eq(labels).sum().item<int64_t>();
}

double Accuracy(const torch::Tensor& logits, const torch::Tensor& labels) {
  if (labels.size(0) == 0) return 0.0;
  return static_cast<double>(CountCorrect(logits, labels)) / static_cast<double>(labels.size(0));
}

std::optional<double> RocAuc(const torch::Tensor& scores, const torch::Tensor& labels) {
  TORCH_CHECK(scores.dim() == 1 && scores.sizes() == labels.sizes(),
              "expected scores and labels [N], got ", scores.sizes(), " and ", labels.sizes());
  torch::Tensor y = labels.detach().cpu().to(torch::kFloat64);
  torch::Tensor s = scores.detach().cpu().to(torch::kFloat64);
  torch::Tensor known = ~torch::isnan(y);
  y = y.masked_select(known);
  s = s.masked_select(known);
  const int64_t n = y.size(0);
  const double positives = y.sum().item<double>();
  const double negatives = static_cast<double>(n) - positives;
  if (positives < 1 || negatives < 1) return std::nullopt;
  // Mann-Whitney: AUC = (sum of positive ranks - P (P + 1) / 2) / (P N), average ranks for ties.
  auto [sorted, order] = s.sort();
  torch::Tensor ranks = torch::empty({n}, torch::kFloat64);
  auto sv = sorted.accessor<double, 1>();
  auto ov = order.accessor<int64_t, 1>();
  auto rv = ranks.accessor<double, 1>();
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    while (j + 1 < n && sv[j + 1] == sv[i]) ++j;
    for (int64_t k = i; k <= j; ++k) rv[ov[k]] = 0.5 * static_cast<double>(i + j) + 1.0;
    i = j + 1;
  }
  const double positive_rank_sum = (ranks * y).sum().item<double>();
  return (positive_rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

std::vector<std::optional<double>> RocAucPerTask(const torch::Tensor& scores,
                                                 const torch::Tensor& labels) {
  TORCH_CHECK(scores.dim() == 2 && scores.sizes() == labels.sizes(),
              "expected scores and labels [N, T], got ", scores.sizes(), " and ", labels.sizes());
  std::vector<std::optional<double>> out;
  for (int64_t t = 0; t < scores.size(1); ++t) {
    out.push_back(RocAuc(scores.select(1, t), labels.select(1, t)));
  }
  return out;
}

}  // namespace common::train
