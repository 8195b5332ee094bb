// Robustness of a trained implicit model: accuracy under FGSM and Gaussian noise, and the
// accuracy certified by the sensitivity bound S = |C|(I - |A|)^{-1}|B| + |D|, at several budgets.
//
//   ./bazelw run //implicit_dl:train -- --epochs=1 --out_dir=runs/idl
//   ./bazelw run //implicit_dl:robustness -- --run_dir=runs/idl
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/train/checkpoint.h"
#include "common/train/run_dir.h"
#include "common/util/list_flag.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "implicit_dl/experiment.h"
#include "implicit_dl/sensitivity.h"

ABSL_FLAG(std::string, run_dir, "",
          "A run directory of //implicit_dl:train (config.json, weights.pt).");
ABSL_FLAG(std::string, weights, "weights.pt", "Weights file inside --run_dir.");
ABSL_FLAG(std::string, eps, "0,0.01,0.02,0.05,0.1",
          "Budgets: FGSM step, noise std and certified box half-width, in normalised input units.");
ABSL_FLAG(int64_t, limit, 10000, "Evaluate on the first N test images.");

namespace implicit_dl {
namespace {

absl::StatusOr<std::vector<double>> ParseBudgets(const std::string& text) {
  ASSIGN_OR_RETURN(std::vector<double> out, common::util::ParseDoubleList("eps", text));
  for (double v : out) {
    if (v < 0) return absl::InvalidArgumentError(absl::StrCat("--eps: ", v, " is < 0"));
  }
  if (out.empty()) return absl::InvalidArgumentError("--eps is empty");
  return out;
}

// The model stored in run_dir, with the dataset and normalisation it was trained on.
absl::StatusOr<ImplicitModel> LoadModel(const std::string& run_dir, const std::string& weights,
                                        int64_t p, int64_t q) {
  ASSIGN_OR_RETURN(common::train::TensorMap state,
                   common::train::LoadTensorMap(run_dir + "/" + weights));
  for (const char* key : {"A", "B", "C", "D"}) {
    if (state.count(key) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(run_dir, "/", weights, ": no tensor '", key,
                                                     "': not an ImplicitModel state dict"));
    }
  }
  const int64_t n = state.at("A").size(0), cols = state.at("B").size(1);
  if (cols != p && cols != p + 1) {
    return absl::InvalidArgumentError(absl::StrCat(run_dir, "/", weights, ": B has ", cols,
                                                   " columns but the data has ", p, " features"));
  }
  ImplicitModel model(ImplicitModelOptions(n, p, q).bias(cols == p + 1));
  RETURN_IF_ERROR(common::train::LoadStateDictInto(state, *model, run_dir + "/" + weights));
  return model;
}

absl::Status Main(const common::util::Runtime& rt) {
  const std::string run_dir = common::util::ResolveUserPath(absl::GetFlag(FLAGS_run_dir));
  if (run_dir.empty()) return absl::InvalidArgumentError("--run_dir is required");
  ASSIGN_OR_RETURN(std::vector<double> budgets, ParseBudgets(absl::GetFlag(FLAGS_eps)));
  if (absl::GetFlag(FLAGS_limit) < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--limit must be >= 1 (test images), got ", absl::GetFlag(FLAGS_limit)));
  }
  ASSIGN_OR_RETURN(const nlohmann::json config,
                   common::train::ReadJsonFile(run_dir + "/config.json"));
  if (!config.contains("dataset")) {
    return absl::DataLossError(absl::StrCat(run_dir, "/config.json: not a train config"));
  }
  const std::string dataset = config["dataset"].get<std::string>();
  std::string data_dir = config.value("data_dir", "");
  if (!absl::GetFlag(FLAGS_data_dir).empty() || data_dir.empty()) data_dir = rt.data_dir;
  ASSIGN_OR_RETURN(ClassificationData data, LoadClassificationData(dataset, data_dir));
  const int64_t limit = std::min(absl::GetFlag(FLAGS_limit), data.test.size());
  const common::data::InMemoryDataset test = data.test.Subset(torch::arange(limit));
  ASSIGN_OR_RETURN(ImplicitModel model, LoadModel(run_dir, absl::GetFlag(FLAGS_weights),
                                                  test.inputs().size(1), data.num_classes));
  const InputRange range = dataset == "cifar10" ? InputRange{-1, 1} : InputRange{-0.5, 0.5};
  ASSIGN_OR_RETURN(
      common::train::RunDir out,
      common::train::RunDir::Open(run_dir + "/robustness", common::train::CommandLineFlagsJson()));
  std::printf("%8s %10s %10s %10s\n", "eps", "fgsm_acc", "noise_acc", "certified");
  nlohmann::json summary = nlohmann::json::array();
  for (double eps : budgets) {
    const double fgsm = FgsmAccuracy(model, test, eps, range);
    const double noise = NoiseAccuracy(model, test, eps, range, rt.seed);
    const double certified = CertifiedAccuracy(model, test, eps);
    std::printf("%8.4f %10.4f %10.4f %10.4f\n", eps, fgsm, noise, certified);
    RETURN_IF_ERROR(out.AppendMetrics(
        {{"eps", eps}, {"fgsm_acc", fgsm}, {"noise_acc", noise}, {"certified_acc", certified}}));
    summary.push_back(
        {{"eps", eps}, {"fgsm_acc", fgsm}, {"noise_acc", noise}, {"certified_acc", certified}});
  }
  // Written last: its presence means the whole curve is in metrics.csv.
  RETURN_IF_ERROR(out.WriteSummary({{"curve", summary}, {"test_images", limit}}));
  std::printf("results in %s\n", out.path().c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace implicit_dl

int main(int argc, char** argv) {
  return common::util::RunMain(
      argc, argv,
      "Accuracy of a trained implicit model under FGSM and Gaussian noise, and certified by the "
      "sensitivity matrix S = |C|(I-|A|)^-1|B| + |D| (El Ghaoui et al. 2021, Sec. 5).",
      implicit_dl::Main);
}
