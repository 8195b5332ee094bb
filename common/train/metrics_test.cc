#include "common/train/metrics.h"

#include <torch/torch.h>

#include <cmath>

#include "gtest/gtest.h"

namespace common::train {
namespace {

// Oracle: count ordered (positive, negative) pairs directly.
double PairCountAuc(const std::vector<double>& s, const std::vector<double>& y) {
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    for (size_t j = 0; j < s.size(); ++j) {
      if (y[i] == 1 && y[j] == 0) {
        pairs += 1;
        wins += s[i] > s[j] ? 1 : (s[i] == s[j] ? 0.5 : 0);
      }
    }
  }
  return wins / pairs;
}

TEST(RocAuc, KnownValue) {
  // sklearn's documented example: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75.
  EXPECT_DOUBLE_EQ(
      RocAuc(torch::tensor({0.1, 0.4, 0.35, 0.8}), torch::tensor({0., 0., 1., 1.})).value(), 0.75);
}

TEST(RocAuc, MatchesPairCountingWithTiesAndMaskedNaN) {
  torch::manual_seed(0);
  torch::Tensor s = torch::randint(0, 5, {200}, torch::kFloat64);  // many ties
  torch::Tensor y = torch::randint(0, 2, {200}, torch::kFloat64);
  y.index_put_({torch::arange(0, 200, 7)}, NAN);
  std::vector<double> sv, yv;
  for (int64_t i = 0; i < 200; ++i) {
    if (std::isnan(y[i].item<double>())) continue;
    sv.push_back(s[i].item<double>());
    yv.push_back(y[i].item<double>());
  }
  EXPECT_NEAR(RocAuc(s, y).value(), PairCountAuc(sv, yv), 1e-12);
}

TEST(RocAuc, SingleClassIsUndefined) {
  EXPECT_FALSE(RocAuc(torch::tensor({0.2, 0.3}), torch::tensor({1.0, 1.0})).has_value());
  EXPECT_FALSE(RocAuc(torch::tensor({0.2, 0.3}), torch::tensor({1.0, static_cast<double>(NAN)}))
                   .has_value());
  auto per_task = RocAucPerTask(torch::tensor({{0.9, 0.1}, {0.1, 0.2}}),
                                torch::tensor({{1.0, 1.0}, {0.0, static_cast<double>(NAN)}}));
  EXPECT_DOUBLE_EQ(per_task[0].value(), 1.0);
  EXPECT_FALSE(per_task[1].has_value());
}

TEST(Accuracy, ArgmaxAgreement) {
  torch::Tensor logits = torch::tensor({{0.1, 0.9}, {2.0, -1.0}, {0.3, 0.4}});
  EXPECT_DOUBLE_EQ(Accuracy(logits, torch::tensor({1, 0, 0}, torch::kInt64)), 2.0 / 3);
  RunningMean m;
  m.Add(1.0, 3);
  m.Add(3.0, 1);
  EXPECT_DOUBLE_EQ(m.mean(), 1.5);
}

}  // namespace
}  // namespace common::train
