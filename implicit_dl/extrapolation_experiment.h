// The extrapolation experiments of the reference notebooks (Decugis et al., "The Extrapolation
// Power of Implicit Models", IJCAI 2024): train on inputs U(-1, 1), test on U(-f/2, f/2) for
// factors f in logspace(log_min, log_max).
// - Arithmetic (custom_nonlinearity.ipynb): target g(sum of slice 1, sum of slice 2) for
//   g in {add, sub, mul, div}; implicit ReLU and SiLU models (n = 20) against MLPs
//   50-20-20-20-1 without bias; MSE loss.
// - Rolling argmax (implicitrnn_argmax.ipynb): label = position of the maximum of a length-10
//   sequence; ImplicitRNN (n = H = 20) against LSTM(1, 20), each with a Linear(20, 10) head.
// Full-batch Adam, ExponentialLR, as in the notebooks.
#ifndef IMPLICIT_DL_EXTRAPOLATION_EXPERIMENT_H_
#define IMPLICIT_DL_EXTRAPOLATION_EXPERIMENT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace implicit_dl {

struct ExtrapolationConfig {
  int64_t dim = 50;         // same as reference notebook: DIM = 50
  int64_t slice = 10;       // length of each random slice of the input that is summed
  int64_t samples = 10000;  // same as reference notebook
  int64_t test_samples = 1000;
  int64_t epochs = 1000;  // same as reference notebook
  double lr = 0.02;       // same as reference notebook (Adam)
  double gamma = 0.995;   // same as reference notebook (ExponentialLR)
  int64_t n = 20;         // implicit hidden size; also the MLP width and the RNN hidden size
  int64_t mitr = 500;     // same as reference notebook (CustomInf)
  double tol = 1e-6;      // same as reference notebook (CustomInf)
  int64_t factors = 100;  // test scale factors f in logspace(log_min, log_max)
  double log_min = 1;
  double log_max = 5;
  int64_t seq_len = 10;  // rolling argmax sequence length
  std::vector<std::string> functions = {"add", "sub", "mul", "div"};
  bool arithmetic = true;
  bool argmax = true;
  uint64_t seed = 0;
  std::string out_dir;  // CSV files and figures; empty: none written
};

absl::Status Validate(const ExtrapolationConfig& config);

// One curve per model: the test metric (MSE, or accuracy for argmax) at every factor.
struct ExtrapolationCurves {
  std::vector<double> factors;
  std::map<std::string, std::vector<double>> metric;  // model name -> values
  std::map<std::string, double> train_metric;         // model name -> final training metric
};

// task -> curves; tasks are "arithmetic_<function>" and "argmax". Writes <task>.csv and
// <task>.svg into config.out_dir when set.
absl::StatusOr<std::map<std::string, ExtrapolationCurves>> RunExtrapolation(
    const ExtrapolationConfig& config);

}  // namespace implicit_dl

#endif  // IMPLICIT_DL_EXTRAPOLATION_EXPERIMENT_H_
