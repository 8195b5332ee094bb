#include "common/report/run_files.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/data/file_bytes.h"
#include "common/util/status_macros.h"

namespace common::report {

absl::StatusOr<std::vector<std::string>> Csv::TextColumn(const std::string& name) const {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) {
    return absl::NotFoundError(
        absl::StrCat("no column '", name, "' (columns: ", absl::StrJoin(header, ","), ")"));
  }
  const size_t c = it - header.begin();
  std::vector<std::string> out;
  for (const auto& row : rows) out.push_back(c < row.size() ? row[c] : "");
  return out;
}

absl::StatusOr<std::vector<double>> Csv::Column(const std::string& name) const {
  ASSIGN_OR_RETURN(const std::vector<std::string> cells, TextColumn(name));
  std::vector<double> out;
  for (const std::string& cell : cells) {
    char* end = nullptr;
    const double v = std::strtod(cell.c_str(), &end);
    out.push_back(cell.empty() || end != cell.c_str() + cell.size() ? NAN : v);
  }
  return out;
}

absl::StatusOr<Csv> ReadCsv(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, data::ReadFileBytes(path));
  Csv csv;
  bool first = true;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    std::vector<std::string> cells = absl::StrSplit(absl::StripTrailingAsciiWhitespace(line), ',');
    if (first) {
      csv.header = std::move(cells);
      first = false;
    } else {
      csv.rows.push_back(std::move(cells));
    }
  }
  if (first) return absl::DataLossError(absl::StrCat(path, ": empty CSV file"));
  return csv;
}

double Mean(const std::vector<double>& v) {
  if (v.empty()) return NAN;
  double s = 0;
  for (double x : v) s += x;
  return s / v.size();
}

double Std(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = Mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / (v.size() - 1));
}

std::string MeanStd(const std::vector<double>& v, int digits) {
  if (v.size() < 2) return absl::StrFormat("%.*f", digits, Mean(v));
  return absl::StrFormat("%.*f ± %.*f", digits, Mean(v), digits, Std(v));
}

}  // namespace common::report
