// Evaluation metrics: accuracy, running means, and ROC-AUC with missing labels masked out
// (Tox21-style multi-task targets where NaN means "not measured").
//
// Example:
//   RunningMean loss;
//   loss.Add(batch_loss, batch_size);
//   std::optional<double> auc = RocAuc(scores, labels);  // nullopt if only one class present
#ifndef COMMON_TRAIN_METRICS_H_
#define COMMON_TRAIN_METRICS_H_

#include <torch/types.h>

#include <optional>
#include <vector>

namespace common::train {

// Number of rows of logits [N, C] whose argmax equals labels [N].
int64_t CountCorrect(const torch::Tensor& logits, const torch::Tensor& labels);

// Fraction in [0, 1] of rows whose argmax equals the label.
double Accuracy(const torch::Tensor& logits, const torch::Tensor& labels);

// A weighted running mean, e.g. of per-batch mean losses weighted by batch size.
class RunningMean {
 public:
  void Add(double value, double weight = 1.0) {
    sum_ += value * weight;
    weight_ += weight;
  }
  double mean() const { return weight_ > 0 ? sum_ / weight_ : 0.0; }
  double weight() const { return weight_; }

 private:
  double sum_ = 0;
  double weight_ = 0;
};

// Area under the ROC curve of scores [N] for binary labels [N] (1 positive, 0 negative); entries
// whose label is NaN are ignored. Ties count one half (the Mann-Whitney statistic, as
// sklearn.metrics.roc_auc_score). nullopt when fewer than one positive and one negative remain.
std::optional<double> RocAuc(const torch::Tensor& scores, const torch::Tensor& labels);

// RocAuc of each column of scores [N, T] against labels [N, T].
std::vector<std::optional<double>> RocAucPerTask(const torch::Tensor& scores,
                                                 const torch::Tensor& labels);

}  // namespace common::train

#endif  // COMMON_TRAIN_METRICS_H_
