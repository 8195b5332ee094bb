#include "weightnorm_init/depth_sweep_experiment.h"

#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/data/file_bytes.h"
#include "common/plot/plot.h"
#include "common/train/run_dir.h"
#include "common/util/status_macros.h"

namespace weightnorm_init {

absl::Status Validate(const DepthSweepOptions& o) {
  if (o.nn != "mlp" && o.nn != "cnn") {
    return absl::InvalidArgumentError(absl::StrCat("--nn must be mlp or cnn, got '", o.nn, "'"));
  }
  if (o.depths.empty()) return absl::InvalidArgumentError("--depths is empty");
  for (int64_t d : o.depths) {
    if (d < 1) return absl::InvalidArgumentError(absl::StrCat("--depths: ", d, " is not >= 1"));
  }
  if (o.inits.empty()) return absl::InvalidArgumentError("--inits is empty");
  if (o.seeds < 1) return absl::InvalidArgumentError("--seeds must be >= 1");
  return absl::OkStatus();
}

std::vector<DepthRun> PlanDepthRuns(const DepthSweepOptions& o) {
  std::vector<DepthRun> runs;
  for (const std::string& init : o.inits) {
    for (int64_t depth : o.depths) {
      for (int seed = 0; seed < o.seeds; ++seed) {
        runs.push_back(
            {init, depth, seed, absl::StrCat(o.dir, "/", init, "_depth", depth, "_seed", seed)});
      }
    }
  }
  return runs;
}

common::sweep::Sweep PlanDepthSweep(const DepthSweepOptions& o) {
  common::sweep::Sweep sweep{o.dir, {}};
  for (const DepthRun& r : PlanDepthRuns(o)) {
    common::sweep::Run run{
        absl::StrCat(r.init, "_depth", r.depth, "_seed", r.seed),
        {o.train_binary, "--nn=" + o.nn, absl::StrCat("--num_layers=", r.depth), "--weight_norm",
         "--init=" + r.init, absl::StrCat("--seed=", r.seed), "--out_dir=" + r.dir},
        r.dir};
    run.argv.insert(run.argv.end(), o.train_args.begin(), o.train_args.end());
    // A run killed before its summary continues from its checkpoint (its directory refuses a
    // fresh start).
    run.resume_when_started = true;
    sweep.runs.push_back(std::move(run));
  }
  return sweep;
}

absl::StatusOr<std::vector<DepthResult>> CollectDepthSweep(const DepthSweepOptions& o) {
  std::vector<DepthResult> out;
  for (const DepthRun& r : PlanDepthRuns(o)) {
    const std::string path = r.dir + "/summary.json";
    ASSIGN_OR_RETURN(const nlohmann::json j, common::train::ReadJsonFile(path));
    if (!j.contains("test_acc")) return absl::DataLossError(absl::StrCat(path, ": no test_acc"));
    out.push_back({r, j["test_acc"].get<double>(), j.value("diverged", false)});
  }
  return out;
}

absl::Status WriteDepthSweepReport(const DepthSweepOptions& o,
                                   const std::vector<DepthResult>& results) {
  std::string csv = "init,depth,seed,test_acc,diverged\n";
  std::map<std::string, std::map<int64_t, std::vector<double>>> acc;  // init -> depth -> seeds
  for (const DepthResult& r : results) {
    absl::StrAppend(&csv, r.run.init, ",", r.run.depth, ",", r.run.seed, ",", r.test_acc, ",",
                    r.diverged, "\n");
    acc[r.run.init][r.run.depth].push_back(r.test_acc);
  }
  RETURN_IF_ERROR(common::data::WriteFileAtomically(o.dir + "/depth_sweep.csv", csv));
  std::vector<common::plot::Series> series;
  for (const std::string& init : o.inits) {
    common::plot::Series s{init, {}, {}, {}, {}};
    for (const auto& [depth, values] : acc[init]) {
      s.x.push_back(static_cast<double>(depth));
      s.y.push_back(common::plot::Quantile(values, 0.5));
      s.lower.push_back(common::plot::Quantile(values, 0.25));
      s.upper.push_back(common::plot::Quantile(values, 0.75));
    }
    series.push_back(std::move(s));
  }
  common::plot::Axes axes{absl::StrCat("WN-", o.nn, ": test accuracy vs depth"), "hidden layers",
                          "test accuracy", true};
  axes.y_min = 0, axes.y_max = 1.05;
  RETURN_IF_ERROR(common::plot::LinePlot(o.dir + "/depth_sweep.svg", axes, series));
  return common::plot::LinePlot(o.dir + "/depth_sweep.png", axes, series);
}

absl::StatusOr<std::vector<DepthResult>> RunDepthSweep(const DepthSweepOptions& o,
                                                       common::sweep::Runner& runner) {
  RETURN_IF_ERROR(Validate(o));
  RETURN_IF_ERROR(runner.Execute(PlanDepthSweep(o)));
  ASSIGN_OR_RETURN(std::vector<DepthResult> results, CollectDepthSweep(o));
  RETURN_IF_ERROR(WriteDepthSweepReport(o, results));
  return results;
}

}  // namespace weightnorm_init
