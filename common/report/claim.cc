#include "common/report/claim.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/data/file_bytes.h"
#include "common/util/status_macros.h"

namespace common::report {

const char* ScaleName(Scale scale) {
  switch (scale) {
    case Scale::kSmoke:
      return "smoke";
    case Scale::kQuick:
      return "quick";
    case Scale::kPaper:
      return "paper";
  }
  return "?";
}

absl::StatusOr<Scale> ParseScale(std::string_view name) {
  for (Scale s : {Scale::kSmoke, Scale::kQuick, Scale::kPaper}) {
    if (name == ScaleName(s)) return s;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--scale must be smoke, quick or paper, got '", std::string(name), "'"));
}

std::string PlanContext::Binary(const std::string& package_and_name) const {
  return binary_dir + "/" + package_and_name;
}

std::string PlanContext::RunDir(const std::string& run) const { return runs_dir + "/" + run; }

std::string PlanContext::DatasetDir(const std::string& name) const {
  auto it = dataset_dirs.find(name);
  return it == dataset_dirs.end() ? "" : it->second;
}

std::string PlanContext::DataFor(const std::string& paper_dataset) const {
  return scale == Scale::kPaper ? DatasetDir(paper_dataset) : data_dir;
}

std::string NeedsDataset(const std::string& name) {
  return absl::StrCat("the ", name, " data is not given (--dataset_dirs=", name, "=DIR)");
}

std::string PlanContext::SharedRunDir(const std::string& run) const {
  return shared_dir + "/" + run;
}

std::string AssembleContext::RunDir(const std::string& run) const { return runs_dir + "/" + run; }

std::string AssembleContext::SharedRunDir(const std::string& run) const {
  return shared_dir + "/" + run;
}

std::string AssembleContext::Figure(const std::string& suffix) const {
  return absl::StrCat("figures/", claim_id, ".", suffix);
}

std::string AssembleContext::InReport(const std::string& relative) const {
  return report_dir + "/" + relative;
}

absl::StatusOr<std::string> AssembleContext::CopyFigure(const std::string& from,
                                                        const std::string& suffix) const {
  ASSIGN_OR_RETURN(std::string bytes, data::ReadFileBytes(from));
  const std::string to = Figure(suffix);
  RETURN_IF_ERROR(data::WriteFileAtomically(InReport(to), bytes));
  return to;
}

bool Check::Passes() const {
  if (std::isnan(measured)) return false;
  return op == Op::kAtLeast ? measured >= threshold : measured <= threshold;
}

std::string Check::Text() const {
  return absl::StrFormat("%s = %.4g %s %.4g: %s", what, measured,
                         op == Op::kAtLeast ? ">=" : "<=", threshold, Passes() ? "yes" : "NO");
}

void SetNotRun(Claim& claim, std::string below_paper_scale, std::string at_paper_scale) {
  claim.plan = [below_paper_scale, at_paper_scale](const PlanContext& ctx) {
    return ClaimPlan{{}, ctx.scale == Scale::kPaper ? at_paper_scale : below_paper_scale};
  };
  claim.assemble = [](const AssembleContext&) -> absl::StatusOr<Outcome> { return Outcome{}; };
}

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kReproduced:
      return "reproduced";
    case Verdict::kNotReproduced:
      return "not reproduced";
    case Verdict::kNotRun:
      return "not run";
  }
  return "?";
}

Verdict VerdictOf(const Outcome& outcome) {
  if (!outcome.not_run.empty() || outcome.checks.empty()) return Verdict::kNotRun;
  for (const Check& c : outcome.checks) {
    if (!c.Passes()) return Verdict::kNotReproduced;
  }
  return Verdict::kReproduced;
}

}  // namespace common::report
