// The extrapolation experiments of the reference notebooks: arithmetic (implicit ReLU/SiLU vs
// MLP) and rolling argmax (ImplicitRNN vs LSTM), trained on U(-1, 1), tested on U(-f/2, f/2).
//
//   ./bazelw run -c opt //implicit_dl:extrapolation -- --epochs=200 --factors=20
#include <cstdio>
#include <nlohmann/json.hpp>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "common/data/file_bytes.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "implicit_dl/extrapolation_experiment.h"

namespace {
const implicit_dl::ExtrapolationConfig kDefaults;
}  // namespace

ABSL_FLAG(int64_t, dim, kDefaults.dim, "Input features of the arithmetic task.");
ABSL_FLAG(int64_t, slice, kDefaults.slice, "Length of each summed random slice of the input.");
ABSL_FLAG(int64_t, samples, kDefaults.samples, "Training samples (full batch).");
ABSL_FLAG(int64_t, test_samples, kDefaults.test_samples, "Test samples per scale factor.");
ABSL_FLAG(int64_t, epochs, kDefaults.epochs, "Full-batch Adam epochs.");
ABSL_FLAG(double, lr, kDefaults.lr, "Adam learning rate.");
ABSL_FLAG(double, gamma, kDefaults.gamma, "ExponentialLR decay per epoch.");
ABSL_FLAG(int64_t, n, kDefaults.n, "Implicit hidden size (also MLP width and RNN hidden size).");
ABSL_FLAG(int64_t, mitr, kDefaults.mitr, "Fixed-point iteration cap.");
ABSL_FLAG(double, tol, kDefaults.tol, "Fixed-point tolerance.");
ABSL_FLAG(int64_t, factors, kDefaults.factors, "Number of test scale factors.");
ABSL_FLAG(double, log_min, kDefaults.log_min, "Smallest factor is 10^log_min.");
ABSL_FLAG(double, log_max, kDefaults.log_max, "Largest factor is 10^log_max.");
ABSL_FLAG(std::string, functions, "add,sub,mul,div", "Arithmetic functions.");
ABSL_FLAG(std::string, tasks, "arithmetic,argmax", "Which experiments to run.");

namespace implicit_dl {
namespace {

absl::StatusOr<ExtrapolationConfig> ConfigFromFlags(const common::util::Runtime& rt) {
  ExtrapolationConfig c;
  c.dim = absl::GetFlag(FLAGS_dim);
  c.slice = absl::GetFlag(FLAGS_slice);
  c.samples = absl::GetFlag(FLAGS_samples);
  c.test_samples = absl::GetFlag(FLAGS_test_samples);
  c.epochs = absl::GetFlag(FLAGS_epochs);
  c.lr = absl::GetFlag(FLAGS_lr);
  c.gamma = absl::GetFlag(FLAGS_gamma);
  c.n = absl::GetFlag(FLAGS_n);
  c.mitr = absl::GetFlag(FLAGS_mitr);
  c.tol = absl::GetFlag(FLAGS_tol);
  c.factors = absl::GetFlag(FLAGS_factors);
  c.log_min = absl::GetFlag(FLAGS_log_min);
  c.log_max = absl::GetFlag(FLAGS_log_max);
  c.functions = absl::StrSplit(absl::GetFlag(FLAGS_functions), ',', absl::SkipEmpty());
  const std::vector<std::string> tasks = absl::StrSplit(absl::GetFlag(FLAGS_tasks), ',');
  c.arithmetic = c.argmax = false;
  for (const std::string& t : tasks) {
    if (t == "arithmetic")
      c.arithmetic = true;
    else if (t == "argmax")
      c.argmax = true;
    else
      return absl::InvalidArgumentError("--tasks takes arithmetic and/or argmax, got '" + t + "'");
  }
  c.seed = rt.seed;
  c.out_dir = rt.ResolveOutDir("implicit_dl_extrapolation");
  RETURN_IF_ERROR(Validate(c));
  return c;
}

absl::Status Main(const common::util::Runtime& rt) {
  ASSIGN_OR_RETURN(ExtrapolationConfig config, ConfigFromFlags(rt));
  ASSIGN_OR_RETURN(auto results, RunExtrapolation(config));
  nlohmann::json summary;
  for (const auto& [task, curves] : results) {
    for (const auto& [model, values] : curves.metric) {
      summary[task][model] = {{"train", curves.train_metric.at(model)},
                              {"test_first_factor", values.front()},
                              {"test_last_factor", values.back()}};
    }
  }
  // Written last: its presence means every task's CSV file is there.
  RETURN_IF_ERROR(
      common::data::WriteFileAtomically(config.out_dir + "/summary.json", summary.dump(2) + "\n"));
  for (const auto& [task, curves] : results) {
    std::printf("%s (%s at f = %g / %g):\n", task.c_str(), task == "argmax" ? "accuracy" : "MSE",
                curves.factors.front(), curves.factors.back());
    for (const auto& [model, values] : curves.metric) {
      std::printf("  %-14s train %.4g | test %.4g / %.4g\n", model.c_str(),
                  curves.train_metric.at(model), values.front(), values.back());
    }
  }
  std::printf("CSV files and figures in %s\n", config.out_dir.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace implicit_dl

int main(int argc, char** argv) {
  return common::util::RunMain(
      argc, argv,
      "Extrapolation of implicit models vs MLP / LSTM (the reference notebooks): train on "
      "U(-1,1), test on U(-f/2,f/2) for f in logspace(log_min, log_max).",
      implicit_dl::Main);
}
