#include "common/train/run_dir.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/data/file_bytes.h"
#include "common/util/status_macros.h"

namespace common::train {
namespace {

std::string Header(const MetricsRow& row) {
  return absl::StrJoin(row, ",", [](std::string* out, const auto& kv) { out->append(kv.first); });
}

std::string FormatValue(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

}  // namespace

absl::StatusOr<RunDir> RunDir::Open(const std::string& path, const nlohmann::json& config,
                                    bool resume) {
  RETURN_IF_ERROR(data::MakeDirs(path));
  RunDir run(path);
  if (!resume) std::remove(run.File("metrics.csv").c_str());
  RETURN_IF_ERROR(WriteJsonFile(run.File("config.json"), config));
  return run;
}

absl::Status RunDir::AppendMetrics(const MetricsRow& row) {
  const std::string file = File("metrics.csv");
  const std::string header = Header(row);
  std::string existing;
  if (data::FileExists(file)) {
    ASSIGN_OR_RETURN(existing, data::ReadFileBytes(file));
  }
  if (!existing.empty()) {
    const std::string first_line = existing.substr(0, existing.find('\n'));
    if (first_line != header) {
      return absl::FailedPreconditionError(absl::StrCat(
          file, ": columns '", header, "' differ from the existing header '", first_line, "'"));
    }
  }
  std::ofstream out(file, std::ios::app);
  if (!out) return absl::PermissionDeniedError(absl::StrCat(file, ": cannot append"));
  if (existing.empty()) out << header << "\n";
  out << absl::StrJoin(row, ",", [](std::string* s, const auto& kv) {
    s->append(FormatValue(kv.second));
  }) << "\n";
  return out ? absl::OkStatus() : absl::DataLossError(absl::StrCat(file, ": write failed"));
}

absl::Status RunDir::TruncateMetrics(const std::string& column, double max_value) {
  const std::string file = File("metrics.csv");
  if (!data::FileExists(file)) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::string text, data::ReadFileBytes(file));
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (lines.empty()) return absl::OkStatus();
  const std::vector<std::string> names = absl::StrSplit(lines[0], ',');
  const auto it = std::find(names.begin(), names.end(), column);
  if (it == names.end()) {
    return absl::FailedPreconditionError(absl::StrCat(file, ": no column '", column, "'"));
  }
  const size_t col = it - names.begin();
  std::string kept = lines[0] + "\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> cells = absl::StrSplit(lines[i], ',');
    double v;
    if (cells.size() == names.size() && absl::SimpleAtod(cells[col], &v) && v <= max_value) {
      kept += lines[i] + "\n";
    }
  }
  return data::WriteFileAtomically(file, kept);
}

absl::Status RunDir::WriteSummary(const nlohmann::json& summary) {
  return WriteJsonFile(File("summary.json"), summary);
}

absl::Status ResumableMetrics::Append(double at, const MetricsRow& row) {
  if (truncate_) RETURN_IF_ERROR(dir_.TruncateMetrics(key_, at - 1));
  truncate_ = false;
  MetricsRow full{{key_, at}};
  full.insert(full.end(), row.begin(), row.end());
  return dir_.AppendMetrics(full);
}

nlohmann::json CommandLineFlagsJson() {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::StrContains(flag->Filename(), "absl/")) continue;
    out[std::string(name)] = flag->CurrentValue();
  }
  return out;
}

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, data::ReadFileBytes(path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::DataLossError(absl::StrCat(path, ": not valid JSON"));
  return j;
}

absl::Status WriteJsonFile(const std::string& path, const nlohmann::json& value) {
  return data::WriteFileAtomically(path, value.dump(2) + "\n");
}

}  // namespace common::train
