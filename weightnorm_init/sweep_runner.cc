#include "weightnorm_init/sweep_runner.h"

#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/data/file_bytes.h"
#include "common/plot/plot.h"
#include "common/train/run_dir.h"
#include "common/util/process_pool.h"
#include "common/util/status_macros.h"

namespace weightnorm_init {
namespace {

std::string SummaryPath(const SweepRun& run) { return run.dir + "/summary.json"; }

}  // namespace

std::vector<SweepRun> PlanSweep(const SweepOptions& o) {
  std::vector<SweepRun> runs;
  for (const std::string& init : o.inits) {
    for (int64_t depth : o.depths) {
      for (int seed = 0; seed < o.seeds; ++seed) {
        SweepRun r{
            init, depth, seed, absl::StrCat(o.dir, "/", init, "_depth", depth, "_seed", seed), {}};
        r.argv = {o.train_binary,
                  "--nn=" + o.nn,
                  absl::StrCat("--num_layers=", depth),
                  "--weight_norm",
                  "--init=" + init,
                  absl::StrCat("--seed=", seed),
                  "--out_dir=" + r.dir,
                  absl::StrCat("--threads=", o.threads_per_job > 0
                                                 ? o.threads_per_job
                                                 : common::util::WorkerThreads(o.jobs))};
        r.argv.insert(r.argv.end(), o.train_args.begin(), o.train_args.end());
        runs.push_back(std::move(r));
      }
    }
  }
  return runs;
}

absl::Status ExecuteSweep(const SweepOptions& o, const std::vector<SweepRun>& runs) {
  std::vector<common::util::ProcessJob> jobs;
  for (const SweepRun& r : runs) {
    // A run killed before its summary continues from its checkpoint (its directory refuses a
    // fresh start).
    std::vector<std::string> argv = r.argv;
    if (common::data::FileExists(r.dir + "/config.json")) argv.push_back("--resume");
    jobs.push_back({argv, r.dir + "/log.txt", SummaryPath(r)});
  }
  return common::util::RunProcessPool(jobs, o.jobs);
}

absl::StatusOr<std::vector<SweepResult>> CollectSweep(const std::vector<SweepRun>& runs) {
  std::vector<SweepResult> out;
  for (const SweepRun& r : runs) {
    ASSIGN_OR_RETURN(const nlohmann::json j, common::train::ReadJsonFile(SummaryPath(r)));
    if (!j.contains("test_acc")) {
      return absl::DataLossError(absl::StrCat(SummaryPath(r), ": no test_acc"));
    }
    out.push_back({r, j["test_acc"].get<double>(), j.value("diverged", false)});
  }
  return out;
}

absl::Status WriteSweepReport(const SweepOptions& o, const std::vector<SweepResult>& results) {
  std::string csv = "init,depth,seed,test_acc,diverged\n";
  std::map<std::string, std::map<int64_t, std::vector<double>>> acc;  // init -> depth -> seeds
  for (const SweepResult& r : results) {
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

}  // namespace weightnorm_init
