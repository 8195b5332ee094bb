// The reproduce report: report.md and a self-contained index.html (inline CSS, figures as files
// beside it), one section per paper and one row per claim with the paper's number, ours, the
// verdict, the command that re-runs only that claim and links to its run directories. Claims
// that are not reproduced are listed at the top.
#ifndef COMMON_REPORT_REPORT_H_
#define COMMON_REPORT_REPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/report/claim.h"

namespace common::report {

struct ClaimResult {
  const Claim* claim = nullptr;
  Outcome outcome;
  Verdict verdict = Verdict::kNotRun;
  std::string rerun_command;          // re-runs only this claim
  std::vector<std::string> run_dirs;  // relative to the report directory
};

struct ReportHeader {
  std::string title = "Reproduction report";
  Scale scale = Scale::kQuick;
  std::string command;  // the command that produced the report
  std::string machine;  // e.g. "2 cores, Linux"
  std::string date;
  double seconds = 0;   // wall time of the command
  int runs = 0;         // runs of the selected claims
  int runs_reused = 0;  // of them, finished before this command started
  std::vector<std::pair<std::string, std::string>> paper_titles;  // package -> paper title
};

std::string ReportMarkdown(const ReportHeader& header, const std::vector<ClaimResult>& results);
std::string ReportHtml(const ReportHeader& header, const std::vector<ClaimResult>& results);

// <dir>/report.md and <dir>/index.html, each written atomically.
absl::Status WriteReport(const std::string& dir, const ReportHeader& header,
                         const std::vector<ClaimResult>& results);

}  // namespace common::report

#endif  // COMMON_REPORT_REPORT_H_
