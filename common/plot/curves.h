// Training curves from run directories: any columns of metrics.csv against its first column (the
// step or epoch), one panel per column, one line per run — or, with `median`, one line per group
// of runs whose config.json differ only in their seed: the median across the seeds with the
// inter-quartile band. RunDir::WriteSummary draws every run's loss and accuracy columns this way
// (curves.svg); //common/plot:curves does it for any runs.
//
// Example:
//   RETURN_IF_ERROR(DrawCurves("cmp.svg", {.run_dirs = {"runs/a", "runs/b"},
//                                          .columns = {"train_loss", "test_acc"}}));
#ifndef COMMON_PLOT_CURVES_H_
#define COMMON_PLOT_CURVES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/plot/plot.h"

namespace common::plot {

struct CurvesOptions {
  std::vector<std::string> run_dirs;
  // Columns to draw; empty: every column of the first run but the x column.
  std::vector<std::string> columns;
  bool median = false;  // group runs that differ only in --seed (median, 25th-75th band)
  bool log_y = false;
};

// The panels DrawCurves draws: one per column, with a series per run or per group of seeds.
// Errors name the run and the column: a directory without metrics.csv, a column a run lacks,
// runs with different x columns.
absl::StatusOr<std::vector<Panel>> CurvePanels(const CurvesOptions& options);

// Writes the figure of CurvePanels to `path` (.svg or .png), at most 3 panels per row.
absl::Status DrawCurves(const std::string& path, const CurvesOptions& options);

// The columns DrawCurves draws at the end of a run: those whose name holds "loss" or "acc".
std::vector<std::string> LossAndAccuracyColumns(const std::vector<std::string>& header);

}  // namespace common::plot

#endif  // COMMON_PLOT_CURVES_H_
