// The local runner: a sweep's runs as child processes on this machine, `workers` at a time, each
// with cores / workers threads (so that workers x threads <= cores).
//
// Example:
//   LocalRunner runner(/*workers=*/2);
//   RETURN_IF_ERROR(runner.Execute(sweep));
#ifndef COMMON_SWEEP_LOCAL_RUNNER_H_
#define COMMON_SWEEP_LOCAL_RUNNER_H_

#include "common/sweep/sweep.h"

namespace common::sweep {

class LocalRunner : public Runner {
 public:
  explicit LocalRunner(int workers);  // CHECKs workers >= 1
  absl::Status Execute(const Sweep& sweep) override;

 private:
  int workers_;
};

// --threads for each of `workers` processes on this machine: cores / workers, at least 1.
int WorkerThreads(int workers);

// This executable's directory (from /proc/self/exe), with a trailing '/': where Bazel puts sibling
// binaries of the same package.
std::string SelfDirectory();

}  // namespace common::sweep

#endif  // COMMON_SWEEP_LOCAL_RUNNER_H_
