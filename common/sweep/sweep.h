// A sweep is a list of named runs, each a command that writes one run directory; a runner executes
// the runs that are not finished. Two runners share this interface: `local` (worker processes on
// this machine, local_runner.h) and `slurm` (one sbatch job array, slurm_runner.h). Both skip
// finished runs (their done file exists), pass `--resume` to a run that was started but not
// finished when the run asks for it, choose each run's `--threads`, append the run's stdout and
// stderr to <run dir>/log.txt and record its exit status in <run dir>/exit_status, so a sweep
// can be run again, with either runner, until every run is finished.
//
// Example:
//   Sweep sweep{"runs/my_sweep", {}};
//   sweep.runs.push_back({"seed0", {"/path/to/train", "--seed=0", "--out_dir=runs/my_sweep/seed0"},
//                         "runs/my_sweep/seed0"});
//   ASSIGN_OR_RETURN(std::unique_ptr<Runner> runner, RunnerFromFlags("my_sweep"));
//   RETURN_IF_ERROR(runner->Execute(sweep));
#ifndef COMMON_SWEEP_SWEEP_H_
#define COMMON_SWEEP_SWEEP_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace common::sweep {

struct Run {
  std::string name;               // unique within the sweep, e.g. "icnn/config18"
  std::vector<std::string> argv;  // argv[0]: absolute path of the executable
  std::string dir;                // the run's directory (absolute, or relative to the sweep's cwd)
  std::string done_file = "summary.json";  // in `dir`; its presence means finished
  bool resume_when_started = false;        // append --resume when dir/config.json exists at start
  bool pass_threads = true;                // append --threads=<the runner's choice>
};

struct Sweep {
  std::string dir;  // the runners' own files (job scripts, Slurm output) go to <dir>/.sweep
  std::vector<Run> runs;
};

enum class RunState {
  kFinished,     // the done file exists
  kFailed,       // ended without its done file (exit_status holds the code)
  kInterrupted,  // started (log.txt exists) but no exit status: killed, or still running
  kNotStarted,
};

const char* RunStateName(RunState state);
RunState StateOf(const Run& run);
std::string LogPath(const Run& run);         // <dir>/log.txt
std::string ExitStatusPath(const Run& run);  // <dir>/exit_status

// <dir>/arguments: the run's argv[1..], one per line, recorded by the runner when it starts the
// run. A run's identity: a sweep that gives a finished run other arguments (other options into the
// same directory) is refused instead of mixing results; an unfinished run simply starts again.
std::string ArgumentsPath(const Run& run);
absl::Status RecordArguments(const Run& run);

// OK unless a finished run had other arguments than the sweep now gives it: FailedPrecondition
// naming the runs, the first difference and what to do.
absl::Status CheckArguments(const Sweep& sweep);

// The runs that are not finished, in order.
std::vector<const Run*> Unfinished(const Sweep& sweep);

// OK when every run is finished; otherwise FailedPrecondition listing each unfinished run with
// its state and log path.
absl::Status CheckFinished(const Sweep& sweep);

// Names unique, argv and dir non-empty, no two runs sharing a directory.
absl::Status Validate(const Sweep& sweep);

// The run's command line, with --threads and (when started before) --resume appended.
std::vector<std::string> CommandOf(const Run& run, int threads);

class Runner {
 public:
  virtual ~Runner() = default;
  // Runs every unfinished run of `sweep` and returns when all have ended: OK when every run is
  // finished, else CheckFinished's error. Runs that fail do not stop the others.
  virtual absl::Status Execute(const Sweep& sweep) = 0;
};

}  // namespace common::sweep

#endif  // COMMON_SWEEP_SWEEP_H_
