// A paper's headline claim as the reproduce report checks it: the paper's statement and number,
// the runs that measure it at each scale, and an assemble function that turns the finished runs'
// directories into our number, checks against thresholds declared beside the paper's number, and
// tables or figures. Each paper package lists its claims in <package>/claims.cc; //:reproduce
// (reproduce.h) runs them through the sweep runners and writes the report (report.h).
//
// Example (icnn/claims.cc):
//   Claim c;
//   c.paper = "icnn";
//   c.name = "init_learnability";
//   c.statement = "The principled init trains an ICNN about as fast as a non-convex net ...";
//   c.paper_number = "Fig. 2: ...";
//   c.source = "specs/icnn.md §6";
//   c.plan = [](const PlanContext& ctx) { ... return plan; };
//   c.assemble = [](const AssembleContext& ctx) -> absl::StatusOr<Outcome> { ... };
#ifndef COMMON_REPORT_CLAIM_H_
#define COMMON_REPORT_CLAIM_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sweep/sweep.h"

namespace common::report {

// smoke: seconds, for tests; quick: Fashion-MNIST on one machine (minutes per paper); paper: each
// paper's own protocol (its datasets, sizes, seeds and epochs).
enum class Scale { kSmoke, kQuick, kPaper };
const char* ScaleName(Scale scale);
absl::StatusOr<Scale> ParseScale(std::string_view name);  // InvalidArgument naming --scale

struct PlanContext {
  Scale scale = Scale::kQuick;
  std::string runs_dir;    // this claim's directory: <out_dir>/runs/<paper>/<claim>
  std::string shared_dir;  // runs several claims of a paper read: <out_dir>/runs/<paper>/shared
  std::string data_dir;    // --data_dir: MNIST-layout IDX files (the quick scale's data)
  std::map<std::string, std::string> dataset_dirs;  // paper scale: "mnist" -> its directory, ...
  std::string binary_dir;  // where the repository's binaries are: <binary_dir>/icnn/mlp_search
  std::string Binary(const std::string& package_and_name) const;  // binary_dir + "/" + name
  std::string RunDir(const std::string& run) const;               // runs_dir + "/" + run
  // shared_dir + "/" + run: a run that two claims plan alike (same directory and arguments) is
  // run once; the same directory with other arguments is an error.
  std::string SharedRunDir(const std::string& run) const;
  // The directory of a paper-scale dataset, or "" when --dataset_dirs does not name it.
  std::string DatasetDir(const std::string& name) const;
  // The data of a claim: data_dir (Fashion-MNIST) at the smoke and quick scales, the paper's
  // dataset `paper_dataset` at the paper scale ("" when not given).
  std::string DataFor(const std::string& paper_dataset) const;
};

// "needs --dataset_dirs=<name>=DIR": the not_run reason of a claim whose dataset is missing.
std::string NeedsDataset(const std::string& name);

// One run of a claim. Runs of phase 1 start after every run of phase 0 has finished (e.g.
// robustness curves of trained models).
struct PlannedRun {
  sweep::Run run;  // run.name is the claim-local name; the driver prefixes "<paper>.<claim>/"
  int phase = 0;
};

struct ClaimPlan {
  std::vector<PlannedRun> runs;
  std::string not_run;  // non-empty: why the claim is not run at this scale (no runs then)
};

// A measured number against a threshold declared once, in the claim's code, beside the paper's
// number. Never tuned to make a claim pass.
struct Check {
  enum class Op { kAtLeast, kAtMost };
  std::string what;  // "accuracy(ICNN + init) - accuracy(non-convex)"
  double measured = 0;
  Op op = Op::kAtLeast;
  double threshold = 0;
  bool Passes() const;       // false for NaN
  std::string Text() const;  // "0.913 >= 0.9 (accuracy ...)"
};

struct Table {
  std::string caption;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each as long as header
};

struct Outcome {
  std::string measured;              // our number(s), one short line
  std::vector<Check> checks;         // every one must pass for "reproduced"
  std::string not_run;               // non-empty: the claim could not be measured, and why
  std::vector<Table> tables;         // shown under the claim
  std::vector<std::string> figures;  // image files (PNG or SVG), relative to the report directory
};

struct AssembleContext {
  Scale scale = Scale::kQuick;
  std::string claim_id;    // <paper>.<name>
  std::string runs_dir;    // as in PlanContext
  std::string shared_dir;  // as in PlanContext
  std::string report_dir;  // figures written here are linked relative to it
  std::string RunDir(const std::string& run) const;
  std::string SharedRunDir(const std::string& run) const;
  // "figures/<claim id>.<suffix>": where the claim's figure goes, relative to report_dir (the
  // driver creates report_dir/figures).
  std::string Figure(const std::string& suffix) const;
  std::string InReport(const std::string& relative) const;  // report_dir + "/" + relative
  // Copies a run's figure into the report: returns Figure(suffix).
  absl::StatusOr<std::string> CopyFigure(const std::string& from, const std::string& suffix) const;
};

struct Claim {
  std::string paper;         // the package: icnn, weightnorm_init, ...
  std::string name;          // unique within the paper; the claim's id is "<paper>.<name>"
  std::string statement;     // what the paper claims, in words
  std::string paper_number;  // the paper's number(s) for it
  std::string source;        // where the number comes from, e.g. "specs/icnn.md §6"
  std::function<ClaimPlan(const PlanContext&)> plan;
  // Called once every run of the plan has finished; reads only the run directories.
  std::function<absl::StatusOr<Outcome>(const AssembleContext&)> assemble;

  std::string Id() const { return paper + "." + name; }
};

// A claim whose runs are not written yet: its plan says why at each scale (below the paper scale,
// and at it) and it has nothing to assemble.
void SetNotRun(Claim& claim, std::string below_paper_scale, std::string at_paper_scale);

enum class Verdict { kReproduced, kNotReproduced, kNotRun };
const char* VerdictName(Verdict verdict);  // "reproduced", "not reproduced", "not run"
// kNotRun when outcome.not_run is set or there are no checks, else whether every check passes.
Verdict VerdictOf(const Outcome& outcome);

}  // namespace common::report

#endif  // COMMON_REPORT_CLAIM_H_
