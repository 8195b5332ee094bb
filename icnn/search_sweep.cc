#include "icnn/search_sweep.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/data/dataset.h"
#include "common/data/file_bytes.h"
#include "common/plot/plot.h"
#include "common/train/run_dir.h"
#include "common/util/status_macros.h"

namespace icnn {
namespace {

std::string RunDirOf(const MlpSearchOptions& o, const std::string& model, int id) {
  return absl::StrCat(o.dir, "/", model, "/config", id);
}

SearchRunOptions WithSeed(SearchRunOptions o, uint64_t seed) {
  o.seed = seed;
  return o;
}

}  // namespace

absl::Status Validate(const MlpSearchOptions& o) {
  if (o.run.epochs < 1 || o.run.bs < 1 || o.seeds < 1) {
    return absl::InvalidArgumentError("--epochs, --bs and --seeds must be >= 1");
  }
  if (o.models.empty()) {
    return absl::InvalidArgumentError(
        "--models must name at least one of nn, icnn, skip, ours, exp1, exp2");
  }
  for (const std::string& m : o.models) RETURN_IF_ERROR(SearchModel(m, 1, 2, {1}).status());
  return SearchGrid(o.grid).status();
}

absl::StatusOr<SearchData> LoadSearchData(const std::string& dataset, const std::string& data_dir) {
  ASSIGN_OR_RETURN(
      common::data::ImageSplits raw,
      common::data::LoadNamedImageSplits(dataset, data_dir, {"fashion-mnist", "mnist", "cifar10"}));
  auto flat = [](const torch::Tensor& images) {
    return common::data::FlattenFeatures(common::data::ScaleToUnit(images)).contiguous();
  };
  return SearchData{flat(raw.train_images), raw.train_labels, flat(raw.test_images),
                    raw.test_labels, raw.num_classes};
}

common::sweep::Sweep PlanSearch(const MlpSearchOptions& o, const std::vector<SearchConfig>& grid) {
  common::sweep::Sweep sweep{o.dir, {}};
  for (const std::string& m : o.models) {
    for (const SearchConfig& c : grid) {
      const std::string dir = RunDirOf(o, m, c.id);
      common::sweep::Run run{
          absl::StrCat(m, "/config", c.id),
          {o.worker_binary, "--worker_model=" + m, absl::StrCat("--worker_config=", c.id),
           "--out_dir=" + dir, "--grid=" + o.grid, absl::StrCat("--epochs=", o.run.epochs),
           absl::StrCat("--bs=", o.run.bs), "--dataset=" + o.dataset, "--data_dir=" + o.data_dir,
           absl::StrCat("--seed=", o.run.seed)},
          dir};
      run.done_file = "result.json";
      sweep.runs.push_back(std::move(run));
    }
  }
  return sweep;
}

absl::StatusOr<SearchConfig> FindConfig(const std::string& grid, int id) {
  ASSIGN_OR_RETURN(const std::vector<SearchConfig> configs, SearchGrid(grid));
  for (const SearchConfig& c : configs) {
    if (c.id == id) return c;
  }
  return absl::InvalidArgumentError(absl::StrCat("no configuration ", id, " in --grid=", grid));
}

absl::Status RunSearchWorker(const std::string& model, const SearchConfig& config,
                             const SearchData& data, const SearchRunOptions& options,
                             const std::string& dir) {
  ASSIGN_OR_RETURN(Curve curve, SearchRun(model, config, data, options));
  RETURN_IF_ERROR(common::data::MakeDirs(dir));
  return common::train::WriteJsonFile(dir + "/result.json", {{"model", model},
                                                             {"config", config.ToJson()},
                                                             {"best_accuracy", curve.best_accuracy},
                                                             {"best_epoch", curve.best_epoch},
                                                             {"valid_accuracy", curve.accuracy}});
}

absl::StatusOr<std::map<std::string, BestConfig>> CollectSearch(
    const MlpSearchOptions& o, const std::vector<SearchConfig>& grid) {
  std::map<std::string, BestConfig> best;
  std::string csv = "model,config,pre_process,lr,weight_decay,hidden,best_valid_acc,best_epoch\n";
  for (const std::string& m : o.models) {
    for (const SearchConfig& c : grid) {
      const std::string path = RunDirOf(o, m, c.id) + "/result.json";
      ASSIGN_OR_RETURN(const nlohmann::json j, common::train::ReadJsonFile(path));
      if (!j.contains("best_accuracy") || !j.contains("best_epoch")) {
        return absl::DataLossError(absl::StrCat(path, ": no best_accuracy / best_epoch"));
      }
      const double acc = j["best_accuracy"].get<double>();
      const int64_t epoch = j["best_epoch"].get<int64_t>();
      absl::StrAppend(&csv, m, ",", c.id, ",", c.pre_process, ",", c.lr, ",", c.weight_decay, ",",
                      absl::StrJoin(c.hidden, "x"), ",", acc, ",", epoch, "\n");
      if (acc > best[m].accuracy) best[m] = {c, acc, epoch};
    }
  }
  RETURN_IF_ERROR(common::data::WriteFileAtomically(o.dir + "/search.csv", csv));
  for (const auto& [m, b] : best) {
    RETURN_IF_ERROR(common::train::WriteJsonFile(
        o.dir + "/best_" + m + ".json",
        {{"config", b.config.ToJson()}, {"valid_accuracy", b.accuracy}, {"best_epoch", b.epoch}}));
  }
  return best;
}

absl::StatusOr<std::vector<std::string>> RetrainBest(const MlpSearchOptions& o,
                                                     const std::map<std::string, BestConfig>& best,
                                                     const SearchData& data) {
  std::vector<common::plot::Series> series;
  std::vector<std::string> lines;
  std::string csv = "model,seed,epoch,test_acc,test_loss\n";
  for (const auto& [model, b] : best) {
    std::vector<std::vector<double>> runs;
    for (int s = 0; s < o.seeds; ++s) {
      ASSIGN_OR_RETURN(Curve c,
                       RetrainRun(model, b.config, data, WithSeed(o.run, o.run.seed * 1000 + s)));
      for (size_t e = 0; e < c.accuracy.size(); ++e)
        absl::StrAppend(&csv, model, ",", s, ",", e + 1, ",", c.accuracy[e], ",", c.loss[e], "\n");
      runs.push_back(c.accuracy);
    }
    std::vector<double> epochs;
    for (size_t e = 1; e <= runs[0].size(); ++e) epochs.push_back(static_cast<double>(e));
    series.push_back(common::plot::MedianBand(model, epochs, runs));
    lines.push_back(absl::StrFormat(
        "%-5s config %03d (%s, lr %g, wd %g, hidden %s): search valid acc %.4f (epoch %d), "
        "retrained test acc median %.4f",
        model, b.config.id, b.config.pre_process, b.config.lr, b.config.weight_decay,
        absl::StrJoin(b.config.hidden, "x"), b.accuracy, b.epoch, series.back().y.back()));
  }
  RETURN_IF_ERROR(common::data::WriteFileAtomically(o.dir + "/retrain.csv", csv));
  const common::plot::Axes axes{"Test accuracy of the best configurations (median, IQR over seeds)",
                                "epoch", "test accuracy"};
  RETURN_IF_ERROR(common::plot::LinePlot(o.dir + "/retrain.svg", axes, series));
  RETURN_IF_ERROR(common::plot::LinePlot(o.dir + "/retrain.png", axes, series));
  return lines;
}

absl::StatusOr<std::vector<std::string>> RunMlpSearch(const MlpSearchOptions& o,
                                                      const SearchData& data,
                                                      common::sweep::Runner& runner) {
  RETURN_IF_ERROR(Validate(o));
  ASSIGN_OR_RETURN(const std::vector<SearchConfig> grid, SearchGrid(o.grid));
  RETURN_IF_ERROR(runner.Execute(PlanSearch(o, grid)));
  ASSIGN_OR_RETURN(const auto best, CollectSearch(o, grid));
  std::vector<std::string> lines;
  for (const auto& [m, b] : best) {
    lines.push_back(absl::StrFormat("%-5s best config %03d: valid acc %.4f at epoch %d", m,
                                    b.config.id, b.accuracy, b.epoch));
  }
  if (o.retrain) {
    ASSIGN_OR_RETURN(std::vector<std::string> retrained, RetrainBest(o, best, data));
    lines.insert(lines.end(), retrained.begin(), retrained.end());
  }
  lines.push_back(absl::StrCat("search.csv, best_<model>.json",
                               o.retrain ? ", retrain.csv/.svg/.png" : "", " in ", o.dir));
  return lines;
}

}  // namespace icnn
