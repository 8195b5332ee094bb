// Readers for the CSV tables runs leave in their directories and the small statistics the claims
// report, for the claims' assemble functions (summary.json: common/train/run_dir.h's ReadJsonFile).
#ifndef COMMON_REPORT_RUN_FILES_H_
#define COMMON_REPORT_RUN_FILES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace common::report {

// A CSV table with a header row (no quoting).
struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  // The named column as numbers (empty and non-numeric cells read as NaN); NotFound naming the
  // file's columns when there is none.
  absl::StatusOr<std::vector<double>> Column(const std::string& name) const;
  absl::StatusOr<std::vector<std::string>> TextColumn(const std::string& name) const;
};
absl::StatusOr<Csv> ReadCsv(const std::string& path);

double Mean(const std::vector<double>& v);  // NaN when empty
double Std(const std::vector<double>& v);   // sample standard deviation; 0 for one value
// "0.812 ± 0.013" (mean ± sample std) with `digits` decimals; one value: "0.812".
std::string MeanStd(const std::vector<double>& v, int digits = 3);

}  // namespace common::report

#endif  // COMMON_REPORT_RUN_FILES_H_
