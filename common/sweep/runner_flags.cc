#include "common/sweep/runner_flags.h"

#include <cmath>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/sweep/local_runner.h"
#include "common/sweep/slurm_runner.h"

ABSL_FLAG(std::string, runner, "local",
          "Where the sweep's runs go: local (worker processes on this machine) or slurm (one "
          "sbatch job array; run directories and binaries must be on a shared filesystem).");
ABSL_FLAG(int, parallel, 0,
          "Runs at a time. local: worker processes, each with cores / N threads (0: one per "
          "core); slurm: the array's %N limit (0: no limit).");
ABSL_FLAG(int, slurm_cpus_per_task, 1, "slurm: sbatch --cpus-per-task, and each run's --threads.");
ABSL_FLAG(std::string, slurm_args, "",
          "slurm: more sbatch options, space-separated (e.g. '--partition=gpu --time=02:00:00 "
          "--gres=gpu:1 --account=x').");
ABSL_FLAG(double, slurm_poll_seconds, 10, "slurm: seconds between squeue polls while waiting.");
ABSL_FLAG(bool, slurm_wait, true,
          "slurm: wait for the job array to finish; false: submit it and exit (code 1, 'not "
          "finished yet'), and run the same command again later to collect the results.");

namespace common::sweep {

absl::StatusOr<std::unique_ptr<Runner>> RunnerFromFlags(const std::string& job_name) {
  const std::string runner = absl::GetFlag(FLAGS_runner);
  const int parallel = absl::GetFlag(FLAGS_parallel);
  if (parallel < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--parallel must be >= 0, got ", parallel));
  }
  if (runner == "local") {
    const int workers = parallel > 0 ? parallel : WorkerThreads(1);  // 0: one per core
    return std::make_unique<LocalRunner>(workers);
  }
  if (runner != "slurm") {
    return absl::InvalidArgumentError(
        absl::StrCat("--runner must be local or slurm, got '", runner, "'"));
  }
  SlurmOptions o;
  o.job_name = job_name;
  o.max_parallel = parallel;
  o.cpus_per_task = absl::GetFlag(FLAGS_slurm_cpus_per_task);
  o.poll_seconds = absl::GetFlag(FLAGS_slurm_poll_seconds);
  o.wait = absl::GetFlag(FLAGS_slurm_wait);
  o.sbatch_args = absl::StrSplit(absl::GetFlag(FLAGS_slurm_args), ' ', absl::SkipEmpty());
  if (o.cpus_per_task < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--slurm_cpus_per_task must be >= 1, got ", o.cpus_per_task));
  }
  if (!(o.poll_seconds > 0 && std::isfinite(o.poll_seconds))) {
    return absl::InvalidArgumentError(
        absl::StrCat("--slurm_poll_seconds must be > 0, got ", o.poll_seconds));
  }
  return std::make_unique<SlurmRunner>(std::move(o));
}

}  // namespace common::sweep
