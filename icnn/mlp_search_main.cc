// The generalisation experiment (Hoedt & Klambauer 2023, Fig. 3 / 11; mlp_search/): a grid search
// per model as a sweep of worker processes of this binary (on this machine, or as a Slurm job
// array with --runner=slurm; finished configurations are skipped), then the best configuration of
// each model retrained over seeds with the test curve and its figure. The orchestration is
// search_sweep.h, the training grid_search.h.
//
//   ./bazelw run //icnn:mlp_search -- --grid=small --epochs=3 --models=nn,icnn,ours --retrain
//   ./bazelw run //icnn:mlp_search -- --grid=full --retrain          # the reference's 180
//   ./bazelw run //icnn:mlp_search -- --grid=full --runner=slurm --slurm_args='--partition=gpu'
#include <cstdio>

#include "absl/flags/flag.h"
#include "common/sweep/local_runner.h"
#include "common/sweep/runner_flags.h"
#include "common/util/list_flag.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "icnn/search_sweep.h"

ABSL_FLAG(std::string, models, "nn,icnn,skip,ours",
          "Comma-separated: nn, icnn, skip, ours, exp1, exp2.");
ABSL_FLAG(std::string, grid, "full",
          "full (the reference's 180 configurations) or small (8, CPU-sized).");
ABSL_FLAG(int64_t, epochs, 25, "Epochs per run (same as reference).");
ABSL_FLAG(int64_t, bs, 128, "Batch size (same as reference).");
ABSL_FLAG(bool, retrain, false,
          "After the search: retrain each model's best configuration over --seeds.");
ABSL_FLAG(int, seeds, 10, "Retraining runs per model (same as reference).");
ABSL_FLAG(std::string, dataset, "fashion-mnist",
          "fashion-mnist (default data), mnist or cifar10 (with --data_dir).");
ABSL_FLAG(std::string, worker_model, "", "Internal: run one search configuration of this model.");
ABSL_FLAG(int, worker_config, 0, "Internal: the configuration id of --worker_model.");

namespace icnn {
namespace {

absl::Status Main(const common::util::Runtime& rt) {
  MlpSearchOptions o;
  o.models = common::util::ParseStringList(absl::GetFlag(FLAGS_models));
  o.grid = absl::GetFlag(FLAGS_grid);
  o.dataset = absl::GetFlag(FLAGS_dataset);
  o.data_dir = rt.data_dir;
  o.run = {absl::GetFlag(FLAGS_epochs), absl::GetFlag(FLAGS_bs), rt.seed};
  o.seeds = absl::GetFlag(FLAGS_seeds);
  o.retrain = absl::GetFlag(FLAGS_retrain);
  o.worker_binary = common::sweep::SelfDirectory() + "mlp_search";
  RETURN_IF_ERROR(Validate(o));
  ASSIGN_OR_RETURN(const auto runner, common::sweep::RunnerFromFlags("mlp_search"));
  RETURN_IF_ERROR(common::util::RequireDataDirUnlessDefault(o.dataset));
  ASSIGN_OR_RETURN(const SearchData data, LoadSearchData(o.dataset, o.data_dir));
  const std::string worker_model = absl::GetFlag(FLAGS_worker_model);
  if (!worker_model.empty()) {
    ASSIGN_OR_RETURN(const SearchConfig c, FindConfig(o.grid, absl::GetFlag(FLAGS_worker_config)));
    return RunSearchWorker(worker_model, c, data, o.run, rt.ResolveOutDir("mlp_search_run"));
  }
  o.dir = rt.ResolveOutDir("icnn_mlp_search_" + o.grid);
  ASSIGN_OR_RETURN(const std::vector<std::string> lines, RunMlpSearch(o, data, *runner));
  for (const std::string& line : lines) std::printf("%s\n", line.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace icnn

int main(int argc, char** argv) {
  return common::util::RunMain(
      argc, argv,
      "Grid search and retraining of ICNNs and MLPs (Hoedt & Klambauer 2023, Fig. 3); the "
      "pca/zca arms really whiten the inputs (the reference's did not).",
      icnn::Main);
}
