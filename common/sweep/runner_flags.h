// The flags of every sweeping binary, and the runner they choose:
//   --runner=local|slurm  --parallel=N  --slurm_cpus_per_task=C  --slurm_args='--partition=x ...'
//   --slurm_poll_seconds=S  --slurm_wait=false
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<Runner> runner, RunnerFromFlags("mlp_search"));
//   RETURN_IF_ERROR(runner->Execute(sweep));
#ifndef COMMON_SWEEP_RUNNER_FLAGS_H_
#define COMMON_SWEEP_RUNNER_FLAGS_H_

#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "common/sweep/sweep.h"

ABSL_DECLARE_FLAG(std::string, runner);
ABSL_DECLARE_FLAG(int, parallel);
ABSL_DECLARE_FLAG(int, slurm_cpus_per_task);
ABSL_DECLARE_FLAG(std::string, slurm_args);
ABSL_DECLARE_FLAG(double, slurm_poll_seconds);
ABSL_DECLARE_FLAG(bool, slurm_wait);

namespace common::sweep {

// The runner the flags describe (`job_name` names a Slurm job); flag errors name the flag.
absl::StatusOr<std::unique_ptr<Runner>> RunnerFromFlags(const std::string& job_name);

}  // namespace common::sweep

#endif  // COMMON_SWEEP_RUNNER_FLAGS_H_
