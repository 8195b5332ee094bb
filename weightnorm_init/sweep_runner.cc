#include "weightnorm_init/sweep_runner.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <deque>
#include <map>

#include <glog/logging.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/data/file_bytes.h"
#include "common/plot/plot.h"
#include "common/util/status_macros.h"

extern char** environ;

namespace weightnorm_init {
namespace {

// Starts argv with stdout and stderr appended to `log`; returns the pid or an error.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int err = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return absl::NotFoundError(absl::StrCat("cannot start ", argv[0], ": ", std::strerror(err)));
  return pid;
}

std::string SummaryPath(const SweepRun& run) { return run.dir + "/summary.json"; }

}  // namespace

std::vector<SweepRun> PlanSweep(const SweepOptions& o) {
  std::vector<SweepRun> runs;
  for (const std::string& init : o.inits) {
    for (int64_t depth : o.depths) {
      for (int seed = 0; seed < o.seeds; ++seed) {
        SweepRun r{init, depth, seed, absl::StrCat(o.dir, "/", init, "_depth", depth, "_seed", seed), {}};
        r.argv = {o.train_binary, "--nn=" + o.nn, absl::StrCat("--num_layers=", depth), "--weight_norm",
                  "--init=" + init, absl::StrCat("--seed=", seed), "--out_dir=" + r.dir,
                  absl::StrCat("--threads=", o.threads_per_job)};
        r.argv.insert(r.argv.end(), o.train_args.begin(), o.train_args.end());
        runs.push_back(std::move(r));
      }
    }
  }
  return runs;
}

absl::Status ExecuteSweep(const SweepOptions& o, const std::vector<SweepRun>& runs) {
  std::deque<const SweepRun*> todo;
  for (const SweepRun& r : runs) {
    if (!common::data::FileExists(SummaryPath(r))) todo.push_back(&r);
  }
  LOG(INFO) << runs.size() - todo.size() << " of " << runs.size() << " runs already done; "
            << todo.size() << " to go, " << o.jobs << " at a time";
  std::map<pid_t, const SweepRun*> running;
  std::vector<std::string> failed;
  while (!todo.empty() || !running.empty()) {
    while (!todo.empty() && static_cast<int>(running.size()) < o.jobs) {
      const SweepRun* r = todo.front();
      todo.pop_front();
      RETURN_IF_ERROR(common::data::MakeDirs(r->dir));
      ASSIGN_OR_RETURN(pid_t pid, Spawn(r->argv, r->dir + "/log.txt"));
      running[pid] = r;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) return absl::InternalError("waitpid failed");
    const SweepRun* r = running.at(pid);
    running.erase(pid);
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    LOG(INFO) << (ok ? "done: " : "FAILED: ") << r->dir;
    if (!ok) failed.push_back(r->dir + "/log.txt");
  }
  if (failed.empty()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(failed.size(), " runs failed; see ", absl::StrJoin(failed, ", ")));
}

absl::StatusOr<std::vector<SweepResult>> CollectSweep(const std::vector<SweepRun>& runs) {
  std::vector<SweepResult> out;
  for (const SweepRun& r : runs) {
    ASSIGN_OR_RETURN(std::string text, common::data::ReadFileBytes(SummaryPath(r)));
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.contains("test_acc")) {
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
    absl::StrAppend(&csv, r.run.init, ",", r.run.depth, ",", r.run.seed, ",", r.test_acc, ",", r.diverged, "\n");
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
  common::plot::Axes axes{absl::StrCat("WN-", o.nn, ": test accuracy vs depth"), "hidden layers", "test accuracy", true};
  axes.y_min = 0, axes.y_max = 1.05;
  RETURN_IF_ERROR(common::plot::LinePlot(o.dir + "/depth_sweep.svg", axes, series));
  return common::plot::LinePlot(o.dir + "/depth_sweep.png", axes, series);
}

}  // namespace weightnorm_init
