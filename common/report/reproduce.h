// The reproduce driver behind //:reproduce: plans the selected claims' runs at one scale, runs
// them through a sweep runner (local processes or a Slurm job array; finished runs are reused, so
// a killed or still-queued reproduce continues where it stopped), assembles each claim from its
// run directories and writes the report (report.md, index.html) into the output directory.
//
// Layout of --out_dir:
//   report.md, index.html, figures/<paper>.<claim>.*  the report
//   runs/<paper>/<claim>/<run>/                       one run directory per run
//   .sweep/                                           the runners' files
#ifndef COMMON_REPORT_REPRODUCE_H_
#define COMMON_REPORT_REPRODUCE_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/report/claim.h"
#include "common/report/report.h"
#include "common/sweep/sweep.h"

namespace common::report {

struct ReproduceOptions {
  Scale scale = Scale::kQuick;
  std::vector<std::string> papers;  // empty: all
  std::vector<std::string> claims;  // claim ids (<paper>.<name>) or names; empty: all
  std::string out_dir;
  std::string data_dir;  // passed to the plans: the quick scale's data (Fashion-MNIST)
  std::map<std::string, std::string> dataset_dirs;  // passed to the plans: the paper scale's data
  std::string binary_dir;  // where the repository's binaries are (PlanContext::binary_dir)
  // The re-run command of a claim is `<rerun_prefix> --claims=<id>`, e.g.
  // "./bazelw run -c opt //:reproduce -- --scale=quick".
  std::string rerun_prefix;
  std::string command;  // the command line, for the report's header
  std::vector<std::pair<std::string, std::string>> paper_titles;
};

// The claims `papers` and `claims` select, in the order of `all`; an unknown paper or claim is an
// InvalidArgument that lists the known ones.
absl::StatusOr<std::vector<const Claim*>> SelectClaims(const std::vector<Claim>& all,
                                                       const std::vector<std::string>& papers,
                                                       const std::vector<std::string>& claims);

// Plans, runs, assembles and writes the report; returns each claim's result (also when some runs
// failed: those claims are "not run" with the failed run's log). An interrupt (Ctrl-C) or a flag
// error is returned as an error, after the report of what has finished.
absl::StatusOr<std::vector<ClaimResult>> RunReproduce(const std::vector<Claim>& all,
                                                      const ReproduceOptions& options,
                                                      sweep::Runner& runner);

}  // namespace common::report

#endif  // COMMON_REPORT_REPRODUCE_H_
