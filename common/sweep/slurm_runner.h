// The Slurm runner: a sweep's unfinished runs as one job array (`sbatch --array=0-(N-1)%K`)
// whose task i runs the i-th of them into its run directory; run directories, logs and binaries
// must be on a filesystem that the compute nodes share. Execute submits, waits until the job has
// left the queue (polling squeue), and reports like the local runner. Run again, it skips the
// finished runs and submits the rest (failed, killed or never started); while an earlier job of
// the same sweep is still queued it waits for that job instead of submitting twice, so Ctrl-C
// leaves the job running and the same command picks it up.
//
// Example:
//   SlurmOptions options;
//   options.sbatch_args = {"--partition=gpu", "--time=02:00:00", "--gres=gpu:1"};
//   SlurmRunner runner(options);
//   RETURN_IF_ERROR(runner.Execute(sweep));
#ifndef COMMON_SWEEP_SLURM_RUNNER_H_
#define COMMON_SWEEP_SLURM_RUNNER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sweep/sweep.h"

namespace common::sweep {

struct SlurmOptions {
  std::string job_name = "sweep";
  int max_parallel = 0;   // the array's %K: tasks running at once; 0: as many as Slurm allows
  int cpus_per_task = 1;  // sbatch --cpus-per-task, and each run's --threads
  std::vector<std::string> sbatch_args;  // more sbatch options (partition, time, gres, account)
  double poll_seconds = 10;              // squeue polling interval while waiting
  // false: Execute submits (or finds this sweep's job still queued) and returns Unavailable
  // "not finished yet: ..." at once; the same call again, once the job has left the queue,
  // collects the results (and resubmits what failed).
  bool wait = true;
};

// What squeue says of a job: its array tasks by state (PENDING, RUNNING, ...); empty once the
// job has left the queue.
struct QueueState {
  int pending = 0, running = 0, other = 0;
  bool Empty() const { return pending + running + other == 0; }
};
absl::StatusOr<QueueState> QueryJob(const std::string& job_id);

// The job id recorded by the last submission for this sweep ("" if none).
std::string LastJobId(const Sweep& sweep);

class SlurmRunner : public Runner {
 public:
  explicit SlurmRunner(SlurmOptions options);
  absl::Status Execute(const Sweep& sweep) override;

  // The job script for `runs` (what Execute submits), for tests and dry runs.
  std::string JobScript(const std::vector<const Run*>& runs) const;

 private:
  absl::StatusOr<std::string> Submit(const Sweep& sweep, const std::vector<const Run*>& runs);
  absl::Status Wait(const Sweep& sweep, const std::string& job_id) const;

  SlurmOptions options_;
};

}  // namespace common::sweep

#endif  // COMMON_SWEEP_SLURM_RUNNER_H_
