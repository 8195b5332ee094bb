// Training curves of run directories as a figure.
//
//   ./bazelw run //common/plot:curves -- --runs runs/a runs/b --columns=train_loss,test_acc \
//       --out=cmp.svg [--median] [--log_y]
//
// One panel per column (default: every metrics.csv column), against the first column (step or
// epoch); one line per run, or with --median one per setting (runs that differ only in --seed):
// the median across seeds with the 25th-75th percentile band.
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "common/plot/curves.h"
#include "common/util/runtime.h"

ABSL_FLAG(std::string, runs, "", "Run directories (space- or comma-separated).");
ABSL_FLAG(std::string, out, "curves.svg", "The figure: .svg or .png.");
ABSL_FLAG(std::string, columns, "", "Comma-separated metrics.csv columns (default: all).");
ABSL_FLAG(bool, median, false,
          "One line per setting: the median over runs that differ only in --seed, with the "
          "inter-quartile band.");
ABSL_FLAG(bool, log_y, false, "Logarithmic y axes.");

int main(int argc, char** argv) {
  return common::util::RunMainWithListFlags(
      argc, argv, {"--runs"},
      "Draws metrics.csv columns of run directories: curves --runs DIR... --out=fig.svg",
      [](const common::util::Runtime& rt) -> absl::Status {
        common::plot::CurvesOptions o;
        const std::vector<std::string> dirs =
            absl::StrSplit(absl::GetFlag(FLAGS_runs), ',', absl::SkipEmpty());
        for (const std::string& dir : dirs) {
          o.run_dirs.push_back(common::util::ResolveUserPath(dir));
        }
        if (!absl::GetFlag(FLAGS_columns).empty()) {
          o.columns = absl::StrSplit(absl::GetFlag(FLAGS_columns), ',', absl::SkipEmpty());
        }
        o.median = absl::GetFlag(FLAGS_median);
        o.log_y = absl::GetFlag(FLAGS_log_y);
        return common::plot::DrawCurves(common::util::ResolveUserPath(absl::GetFlag(FLAGS_out)), o);
      });
}
