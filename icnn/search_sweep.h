// The generalisation experiment's orchestration (Hoedt & Klambauer 2023, Fig. 3 / 11;
// mlp_search/): every (model, configuration) of the grid is one run of a sweep (common/sweep: on
// this machine or as a Slurm job array), the mlp_search binary in worker mode writing
// <dir>/<model>/config<id>/result.json; then the best configuration of each model by validation
// accuracy, retrained over seeds with its test curve and figure. The training itself is in
// grid_search.h.
#ifndef ICNN_SEARCH_SWEEP_H_
#define ICNN_SEARCH_SWEEP_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sweep/sweep.h"
#include "icnn/grid_search.h"

namespace icnn {

struct MlpSearchOptions {
  std::vector<std::string> models = {"nn", "icnn", "skip", "ours"};
  std::string grid = "full";              // SearchGrid's name
  std::string dataset = "fashion-mnist";  // fashion-mnist, mnist or cifar10
  std::string data_dir;                   // resolved
  SearchRunOptions run;                   // epochs, batch size and seed of every search run
  int seeds = 10;                         // retraining runs per model (same as reference)
  bool retrain = false;                   // retrain each model's best configuration over seeds
  std::string dir;                        // output directory
  std::string worker_binary;              // mlp_search, run as --worker_model=M --worker_config=ID
};

// Flag-named errors for sizes, models and the dataset name.
absl::Status Validate(const MlpSearchOptions& options);

// The dataset flattened to [N, D] in [0, 1]; "--dataset=X but DIR holds Y" when they disagree.
absl::StatusOr<SearchData> LoadSearchData(const std::string& dataset, const std::string& data_dir);

// The search's runs, one per (model, configuration), each writing result.json into its
// directory.
common::sweep::Sweep PlanSearch(const MlpSearchOptions& options,
                                const std::vector<SearchConfig>& grid);

// Configuration `id` of the named grid; an InvalidArgument naming --grid when there is none.
absl::StatusOr<SearchConfig> FindConfig(const std::string& grid, int id);

// One search run (what a worker process does): trains the configuration and writes
// <dir>/result.json (model, config, best_accuracy, best_epoch, valid_accuracy per epoch).
absl::Status RunSearchWorker(const std::string& model, const SearchConfig& config,
                             const SearchData& data, const SearchRunOptions& options,
                             const std::string& dir);

struct BestConfig {
  SearchConfig config;
  double accuracy = -1;  // best validation accuracy
  int64_t epoch = 0;     // 1-based epoch of it
};

// Reads every run's result.json; writes search.csv and best_<model>.json. The first of equally
// good configurations (lowest id) wins.
absl::StatusOr<std::map<std::string, BestConfig>> CollectSearch(
    const MlpSearchOptions& options, const std::vector<SearchConfig>& grid);

// Retrains each model's best configuration over options.seeds seeds (seed * 1000 + s) on the
// whole training set: retrain.csv and retrain.svg/.png (median and IQR of the test accuracy).
// Returns one line per model.
absl::StatusOr<std::vector<std::string>> RetrainBest(const MlpSearchOptions& options,
                                                     const std::map<std::string, BestConfig>& best,
                                                     const SearchData& data);

// The whole experiment: the search as a sweep on `runner` (finished runs are skipped, so an
// interrupted search goes on where it stopped), CollectSearch, and with options.retrain
// RetrainBest. Returns the lines to print.
absl::StatusOr<std::vector<std::string>> RunMlpSearch(const MlpSearchOptions& options,
                                                      const SearchData& data,
                                                      common::sweep::Runner& runner);

}  // namespace icnn

#endif  // ICNN_SEARCH_SWEEP_H_
