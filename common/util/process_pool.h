// Runs independent commands as child processes, a fixed number at a time: experiment sweeps whose
// runs are separate invocations of a binary. A job whose `done_path` exists is skipped, so an
// interrupted sweep continues where it stopped; stdout and stderr of each job go to its log.
//
// Example:
//   std::vector<ProcessJob> jobs = {{{"/path/train", "--seed=1"}, "run1/log.txt",
//   "run1/summary.json"}}; RETURN_IF_ERROR(RunProcessPool(jobs, /*parallel=*/2));
#ifndef COMMON_UTIL_PROCESS_POOL_H_
#define COMMON_UTIL_PROCESS_POOL_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace common::util {

struct ProcessJob {
  std::vector<std::string> argv;  // argv[0]: path of the executable
  std::string log_path;           // stdout + stderr, appended; its directory is created
  std::string done_path;          // skip the job when this file exists ("" = always run)
};

// Runs the jobs that are not done, `parallel` at a time. Every job runs even when some fail; the
// status then counts the failures and names their logs.
absl::Status RunProcessPool(const std::vector<ProcessJob>& jobs, int parallel);

// --threads for each of `parallel` workers on this machine: cores / parallel, at least 1, so that
// workers x threads <= cores (more would make every worker wait for descheduled threads).
int WorkerThreads(int parallel);

// This executable's directory (from /proc/self/exe), with a trailing '/': where Bazel puts sibling
// binaries of the same package.
std::string SelfDirectory();

}  // namespace common::util

#endif  // COMMON_UTIL_PROCESS_POOL_H_
