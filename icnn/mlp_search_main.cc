// The generalisation experiment (Hoedt & Klambauer 2023, Fig. 3 / 11; mlp_search/): a grid search
// per model run as parallel processes (finished configurations are skipped), then the best
// configuration of each model retrained over seeds with the test curve and its figure.
//
//   ./bazelw run //icnn:mlp_search -- --grid=small --epochs=3 --models=nn,icnn,ours --retrain
//   ./bazelw run //icnn:mlp_search -- --grid=full --parallel=8 --retrain       # the reference's
//   180
#include <cstdio>
#include <map>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/data/dataset.h"
#include "common/data/file_bytes.h"
#include "common/plot/plot.h"
#include "common/train/run_dir.h"
#include "common/util/process_pool.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "icnn/grid_search.h"

ABSL_FLAG(std::string, models, "nn,icnn,skip,ours",
          "Comma-separated: nn, icnn, skip, ours, exp1, exp2.");
ABSL_FLAG(std::string, grid, "full",
          "full (the reference's 180 configurations) or small (8, CPU-sized).");
ABSL_FLAG(int64_t, epochs, 25, "Epochs per run (same as reference).");
ABSL_FLAG(int64_t, bs, 128, "Batch size (same as reference).");
ABSL_FLAG(int, parallel, 2,
          "Search runs at a time (separate processes, cores / --parallel threads each).");
ABSL_FLAG(bool, retrain, false,
          "After the search: retrain each model's best configuration over --seeds.");
ABSL_FLAG(int, seeds, 10, "Retraining runs per model (same as reference).");
ABSL_FLAG(std::string, dataset, "fashion-mnist",
          "fashion-mnist (default data), mnist or cifar10 (with --data_dir).");
ABSL_FLAG(std::string, worker_model, "", "Internal: run one search configuration of this model.");
ABSL_FLAG(int, worker_config, 0, "Internal: the configuration id of --worker_model.");

namespace icnn {
namespace {

absl::StatusOr<SearchData> LoadSearchData(const common::util::Runtime& rt) {
  const std::string dataset = absl::GetFlag(FLAGS_dataset);
  RETURN_IF_ERROR(common::util::RequireDataDirUnlessDefault(dataset));
  ASSIGN_OR_RETURN(common::data::ImageSplits raw, common::data::LoadImageSplits(rt.data_dir));
  const std::string expected = dataset == "cifar10" ? "cifar10" : "idx";
  if ((dataset != "fashion-mnist" && dataset != "mnist" && dataset != "cifar10") ||
      raw.format != expected) {
    return absl::InvalidArgumentError(absl::StrCat("--dataset=", dataset,
                                                   " (fashion-mnist, mnist or cifar10) but ",
                                                   rt.data_dir, " holds ", raw.format, " files"));
  }
  auto flat = [](const torch::Tensor& images) {
    return common::data::FlattenFeatures(common::data::ScaleToUnit(images)).contiguous();
  };
  return SearchData{flat(raw.train_images), raw.train_labels, flat(raw.test_images),
                    raw.test_labels, raw.num_classes};
}

SearchRunOptions RunOptions(uint64_t seed) {
  SearchRunOptions o;
  o.epochs = absl::GetFlag(FLAGS_epochs), o.bs = absl::GetFlag(FLAGS_bs), o.seed = seed;
  return o;
}

absl::StatusOr<SearchConfig> FindConfig(const std::vector<SearchConfig>& grid, int id) {
  for (const SearchConfig& c : grid) {
    if (c.id == id) return c;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("no configuration ", id, " in --grid=", absl::GetFlag(FLAGS_grid)));
}

// One search run, in its own process: result.json in --out_dir.
absl::Status Worker(const common::util::Runtime& rt, const std::vector<SearchConfig>& grid) {
  ASSIGN_OR_RETURN(SearchConfig c, FindConfig(grid, absl::GetFlag(FLAGS_worker_config)));
  ASSIGN_OR_RETURN(SearchData data, LoadSearchData(rt));
  const std::string model = absl::GetFlag(FLAGS_worker_model);
  ASSIGN_OR_RETURN(Curve curve, SearchRun(model, c, data, RunOptions(rt.seed)));
  const std::string dir = rt.ResolveOutDir("mlp_search_run");
  RETURN_IF_ERROR(common::data::MakeDirs(dir));
  return common::train::WriteJsonFile(dir + "/result.json", {{"model", model},
                                                             {"config", c.ToJson()},
                                                             {"best_accuracy", curve.best_accuracy},
                                                             {"best_epoch", curve.best_epoch},
                                                             {"valid_accuracy", curve.accuracy}});
}

std::string RunDirOf(const std::string& dir, const std::string& model, int id) {
  return absl::StrCat(dir, "/", model, "/config", id);
}

// Every (model, configuration) as a process of this binary in worker mode.
absl::Status Search(const common::util::Runtime& rt, const std::vector<std::string>& models,
                    const std::vector<SearchConfig>& grid, const std::string& dir) {
  std::vector<common::util::ProcessJob> jobs;
  for (const std::string& m : models) {
    for (const SearchConfig& c : grid) {
      const std::string run = RunDirOf(dir, m, c.id);
      jobs.push_back(
          {{common::util::SelfDirectory() + "mlp_search", "--worker_model=" + m,
            absl::StrCat("--worker_config=", c.id), "--out_dir=" + run,
            "--grid=" + absl::GetFlag(FLAGS_grid),
            absl::StrCat("--epochs=", absl::GetFlag(FLAGS_epochs)),
            absl::StrCat("--bs=", absl::GetFlag(FLAGS_bs)),
            "--dataset=" + absl::GetFlag(FLAGS_dataset), "--data_dir=" + rt.data_dir,
            absl::StrCat("--seed=", rt.seed),
            absl::StrCat("--threads=", common::util::WorkerThreads(absl::GetFlag(FLAGS_parallel)))},
           run + "/log.txt",
           run + "/result.json"});
    }
  }
  return common::util::RunProcessPool(jobs, absl::GetFlag(FLAGS_parallel));
}

struct Best {
  SearchConfig config;
  double accuracy = -1;
  int64_t epoch = 0;
};

// Reads every result.json; search.csv and the best configuration per model.
absl::StatusOr<std::map<std::string, Best>> Collect(const std::vector<std::string>& models,
                                                    const std::vector<SearchConfig>& grid,
                                                    const std::string& dir) {
  std::map<std::string, Best> best;
  std::string csv = "model,config,pre_process,lr,weight_decay,hidden,best_valid_acc,best_epoch\n";
  for (const std::string& m : models) {
    for (const SearchConfig& c : grid) {
      const std::string path = RunDirOf(dir, m, c.id) + "/result.json";
      ASSIGN_OR_RETURN(const nlohmann::json j, common::train::ReadJsonFile(path));
      if (!j.contains("best_accuracy"))
        return absl::DataLossError(absl::StrCat(path, ": no best_accuracy"));
      const double acc = j["best_accuracy"].get<double>();
      const int64_t epoch = j["best_epoch"].get<int64_t>();
      absl::StrAppend(&csv, m, ",", c.id, ",", c.pre_process, ",", c.lr, ",", c.weight_decay, ",",
                      absl::StrJoin(c.hidden, "x"), ",", acc, ",", epoch, "\n");
      if (acc > best[m].accuracy) best[m] = {c, acc, epoch};
    }
  }
  RETURN_IF_ERROR(common::data::WriteFileAtomically(dir + "/search.csv", csv));
  return best;
}

// Retrains each model's best configuration over the seeds; the test-accuracy figure.
absl::Status Retrain(const common::util::Runtime& rt, const std::map<std::string, Best>& best,
                     const std::string& dir) {
  ASSIGN_OR_RETURN(SearchData data, LoadSearchData(rt));
  std::vector<common::plot::Series> series;
  std::string csv = "model,seed,epoch,test_acc,test_loss\n";
  for (const auto& [model, b] : best) {
    std::vector<std::vector<double>> runs;
    for (int s = 0; s < absl::GetFlag(FLAGS_seeds); ++s) {
      ASSIGN_OR_RETURN(Curve c, RetrainRun(model, b.config, data,
                                           RunOptions(rt.seed * 1000 + static_cast<uint64_t>(s))));
      for (size_t e = 0; e < c.accuracy.size(); ++e)
        absl::StrAppend(&csv, model, ",", s, ",", e + 1, ",", c.accuracy[e], ",", c.loss[e], "\n");
      runs.push_back(c.accuracy);
    }
    std::vector<double> epochs;
    for (size_t e = 1; e <= runs[0].size(); ++e) epochs.push_back(static_cast<double>(e));
    series.push_back(common::plot::MedianBand(model, epochs, runs));
    std::printf(
        "%-5s config %03d (%s, lr %g, wd %g, hidden %s): search valid acc %.4f (epoch %lld), "
        "retrained test acc median %.4f\n",
        model.c_str(), b.config.id, b.config.pre_process.c_str(), b.config.lr,
        b.config.weight_decay, absl::StrJoin(b.config.hidden, "x").c_str(), b.accuracy,
        static_cast<long long>(b.epoch), series.back().y.back());
  }
  RETURN_IF_ERROR(common::data::WriteFileAtomically(dir + "/retrain.csv", csv));
  const common::plot::Axes axes{"Test accuracy of the best configurations (median, IQR over seeds)",
                                "epoch", "test accuracy"};
  RETURN_IF_ERROR(common::plot::LinePlot(dir + "/retrain.svg", axes, series));
  return common::plot::LinePlot(dir + "/retrain.png", axes, series);
}

absl::Status Main(const common::util::Runtime& rt) {
  ASSIGN_OR_RETURN(std::vector<SearchConfig> grid, SearchGrid(absl::GetFlag(FLAGS_grid)));
  if (absl::GetFlag(FLAGS_epochs) < 1 || absl::GetFlag(FLAGS_bs) < 1 ||
      absl::GetFlag(FLAGS_parallel) < 1 || absl::GetFlag(FLAGS_seeds) < 1) {
    return absl::InvalidArgumentError("--epochs, --bs, --parallel and --seeds must be >= 1");
  }
  if (!absl::GetFlag(FLAGS_worker_model).empty()) return Worker(rt, grid);
  const std::vector<std::string> models =
      absl::StrSplit(absl::GetFlag(FLAGS_models), ',', absl::SkipEmpty());
  if (models.empty()) {
    return absl::InvalidArgumentError(
        "--models must name at least one of nn, icnn, skip, ours, exp1, exp2");
  }
  for (const std::string& m : models) RETURN_IF_ERROR(SearchModel(m, 1, 2, {1}).status());
  RETURN_IF_ERROR(LoadSearchData(rt).status());  // one clear error here, not one per worker
  const std::string dir = rt.ResolveOutDir("icnn_mlp_search_" + absl::GetFlag(FLAGS_grid));
  RETURN_IF_ERROR(Search(rt, models, grid, dir));
  ASSIGN_OR_RETURN(auto best, Collect(models, grid, dir));
  for (const auto& [m, b] : best) {
    std::printf("%-5s best config %03d: valid acc %.4f at epoch %lld\n", m.c_str(), b.config.id,
                b.accuracy, static_cast<long long>(b.epoch));
    RETURN_IF_ERROR(common::train::WriteJsonFile(
        dir + "/best_" + m + ".json",
        {{"config", b.config.ToJson()}, {"valid_accuracy", b.accuracy}, {"best_epoch", b.epoch}}));
  }
  if (absl::GetFlag(FLAGS_retrain)) RETURN_IF_ERROR(Retrain(rt, best, dir));
  std::printf("search.csv, best_<model>.json%s in %s\n",
              absl::GetFlag(FLAGS_retrain) ? ", retrain.csv/.svg/.png" : "", dir.c_str());
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
