#include "common/train/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/data/file_bytes.h"
#include "common/plot/curves.h"
#include "common/report/run_files.h"
#include "common/train/tensorboard.h"
#include "common/util/status_macros.h"

ABSL_FLAG(
    bool, overwrite, false,
    "Replace the run that --out_dir holds (its config, metrics, summary and checkpoint) instead of "
    "refusing to start.");

namespace common::train {
namespace {

constexpr char kFinishedPayload[] = "type.dl-papers/common.train.FinishedRun";
// The files that make a directory hold a run; --overwrite removes them.
constexpr const char* kRunFiles[] = {"config.json", "metrics.csv", "summary.json", "checkpoint.pt",
                                     "curves.svg"};

std::string Header(const MetricsRow& row) {
  return absl::StrJoin(row, ",", [](std::string* out, const auto& kv) { out->append(kv.first); });
}

std::string FormatValue(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

// The row's columns after the first as scalars at step = the first (epoch or step); NaN (a
// column "not defined here") is left out.
absl::Status WriteEventRow(EventWriter& writer, const MetricsRow& row) {
  if (row.empty() || !std::isfinite(row.front().second)) return absl::OkStatus();
  std::vector<std::pair<std::string, double>> scalars;
  for (size_t c = row.size() > 1 ? 1 : 0; c < row.size(); ++c) {
    if (std::isfinite(row[c].second)) scalars.push_back(row[c]);
  }
  return writer.AddScalars(std::llround(row.front().second), scalars);
}

// Takes the exclusive advisory lock of `dir`/.lock and writes this process's pid into it; the
// descriptor is closed (releasing the lock) with the last copy of the pointer.
absl::StatusOr<std::shared_ptr<int>> LockRunDir(const std::string& dir) {
  const std::string path = dir + "/.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::PermissionDeniedError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {0};
    const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    const std::string pid(absl::StripAsciiWhitespace(std::string(buf, n > 0 ? n : 0)));
    return absl::FailedPreconditionError(
        absl::StrCat(dir, " is in use by another run (pid ", pid.empty() ? "unknown" : pid,
                     "): wait for it to end or choose another --out_dir"));
  }
  const std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    ::close(fd);
    return absl::DataLossError(absl::StrCat(path, ": cannot write: ", std::strerror(errno)));
  }
  return std::shared_ptr<int>(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
}

void RemoveLeftoverTemporaries(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec) && absl::EndsWith(entry.path().filename().string(), ".tmp")) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

// Checks the run that `path` holds (if any) against a start with `config` and `options`.
absl::Status CheckExistingRun(const std::string& path, const nlohmann::json& config,
                              const RunDirOptions& options) {
  const std::string config_file = path + "/config.json";
  const bool holds_run = data::FileExists(config_file);
  if (options.resume) {
    if (!holds_run) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--resume: ", path, " holds no run (no config.json); start without --resume"));
    }
    ASSIGN_OR_RETURN(const nlohmann::json before, ReadJsonFile(config_file));
    const std::vector<std::string> diff = ConfigDifferences(before, config);
    if (!diff.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--resume: ", path, " holds a run with other flags: ", absl::StrJoin(diff, ", "),
          "; resume with the run's flags, or start it anew with --overwrite or another --out_dir"));
    }
    if (data::FileExists(path + "/summary.json")) return FinishedRunError(path);
    return absl::OkStatus();
  }
  if (holds_run && !options.overwrite) {
    return absl::FailedPreconditionError(
        absl::StrCat(path,
                     " holds another run (config.json): continue it with --resume, replace it with "
                     "--overwrite, or choose another --out_dir"));
  }
  for (const char* name : kRunFiles) std::remove((path + "/" + name).c_str());
  return absl::OkStatus();
}

// The first non-finite number in `j`, as "key: value" (nested keys joined by '.'), or "".
std::string FirstNonFinite(const nlohmann::json& j, const std::string& prefix) {
  if (j.is_number_float() && !std::isfinite(j.get<double>()))
    return absl::StrCat(prefix, ": ", j.get<double>());
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      const std::string found =
          FirstNonFinite(value, prefix.empty() ? key : absl::StrCat(prefix, ".", key));
      if (!found.empty()) return found;
    }
  }
  if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) {
      const std::string found = FirstNonFinite(j[i], absl::StrCat(prefix, "[", i, "]"));
      if (!found.empty()) return found;
    }
  }
  return "";
}

}  // namespace

absl::Status FinishedRunError(const std::string& path) {
  absl::Status status = absl::AlreadyExistsError(absl::StrCat(
      path, ": the run is finished (summary.json); nothing to do (--overwrite runs it again)"));
  status.SetPayload(kFinishedPayload, absl::Cord("1"));
  return status;
}

bool IsFinishedRun(const absl::Status& status) {
  return status.GetPayload(kFinishedPayload).has_value();
}

std::vector<std::string> ConfigDifferences(const nlohmann::json& before,
                                           const nlohmann::json& now) {
  std::set<std::string> keys;
  for (const auto& j : {before, now}) {
    if (!j.is_object()) continue;
    for (const auto& [key, value] : j.items()) keys.insert(key);
  }
  for (const char* skip : kFlagsOutsideIdentity) keys.erase(skip);
  auto value_of = [](const nlohmann::json& j, const std::string& key) -> std::string {
    if (!j.is_object() || !j.contains(key)) return "(absent)";
    const nlohmann::json& v = j.at(key);
    return v.is_string() ? v.get<std::string>() : v.dump();
  };
  std::vector<std::string> out;
  for (const std::string& key : keys) {
    const std::string a = value_of(before, key), b = value_of(now, key);
    if (a != b) out.push_back(absl::StrCat("--", key, "=", a, " (now ", b, ")"));
  }
  return out;
}

RunDir::RunDir(std::string path, std::shared_ptr<int> lock)
    : path_(std::move(path)),
      lock_(std::move(lock)),
      events_(std::make_shared<std::unique_ptr<EventWriter>>()) {}

namespace {

// metrics.csv as cells; no header and no rows when the file is missing or empty.
absl::StatusOr<report::Csv> ReadMetrics(const std::string& file) {
  std::error_code ec;
  if (!data::FileExists(file) || std::filesystem::file_size(file, ec) == 0) return report::Csv{};
  return report::ReadCsv(file);
}

}  // namespace

absl::Status RunDir::RewriteEvents() {
  events_->reset();
  for (const std::string& old : EventFiles(path_)) std::remove(old.c_str());
  ASSIGN_OR_RETURN(std::unique_ptr<EventWriter> writer, EventWriter::Create(path_));
  if (data::FileExists(File("config.json"))) {
    ASSIGN_OR_RETURN(const nlohmann::json config, ReadJsonFile(File("config.json")));
    std::string table = "| flag | value |\n|---|---|\n";
    for (const auto& [key, value] : config.items()) {
      absl::StrAppend(&table, "| ", key, " | ",
                      value.is_string() ? value.get<std::string>() : value.dump(), " |\n");
    }
    RETURN_IF_ERROR(writer->AddText("config", 0, table));
  }
  ASSIGN_OR_RETURN(const report::Csv metrics, ReadMetrics(File("metrics.csv")));
  for (const std::vector<std::string>& cells : metrics.rows) {
    MetricsRow row;
    for (size_t c = 0; c < cells.size() && c < metrics.header.size(); ++c) {
      double v = NAN;
      if (!absl::SimpleAtod(cells[c], &v)) v = NAN;
      row.emplace_back(metrics.header[c], v);
    }
    RETURN_IF_ERROR(WriteEventRow(*writer, row));
  }
  *events_ = std::move(writer);
  return absl::OkStatus();
}

absl::StatusOr<RunDir> RunDir::Open(const std::string& path, const nlohmann::json& config,
                                    const RunDirOptions& options) {
  RETURN_IF_ERROR(data::MakeDirs(path));
  ASSIGN_OR_RETURN(std::shared_ptr<int> lock, LockRunDir(path));
  RETURN_IF_ERROR(CheckExistingRun(path, config, options));
  RemoveLeftoverTemporaries(path);
  RunDir run(path, std::move(lock));
  RETURN_IF_ERROR(WriteJsonFile(run.File("config.json"), config));
  RETURN_IF_ERROR(run.RewriteEvents());
  return run;
}

absl::StatusOr<RunDir> RunDir::Open(const std::string& path, const nlohmann::json& config,
                                    bool resume) {
  return Open(path, config, RunDirOptions{resume, absl::GetFlag(FLAGS_overwrite)});
}

absl::Status RunDir::AppendMetrics(const MetricsRow& row,
                                   const std::vector<std::string>& may_be_undefined) {
  const std::string file = File("metrics.csv");
  if (row.empty())
    return absl::InvalidArgumentError(absl::StrCat(file, ": a metrics row with no columns"));
  for (const auto& [name, value] : row) {
    if (std::isfinite(value)) continue;
    if (std::find(may_be_undefined.begin(), may_be_undefined.end(), name) != may_be_undefined.end())
      continue;
    return absl::OutOfRangeError(absl::StrCat(name, " is ", value, " at ", row.front().first, " ",
                                              FormatValue(row.front().second), " (not written to ",
                                              file, "): the run diverged or its input holds NaN"));
  }
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
  out.flush();
  if (!out) return absl::DataLossError(absl::StrCat(file, ": write failed"));
  return WriteEventRow(**events_, row);
}

absl::Status RunDir::TruncateMetrics(const std::string& column, double max_value) {
  const std::string file = File("metrics.csv");
  ASSIGN_OR_RETURN(const report::Csv metrics, ReadMetrics(file));
  if (metrics.header.empty()) return absl::OkStatus();
  const auto it = std::find(metrics.header.begin(), metrics.header.end(), column);
  if (it == metrics.header.end()) {
    return absl::FailedPreconditionError(absl::StrCat(file, ": no column '", column, "'"));
  }
  const size_t col = it - metrics.header.begin();
  std::string kept = absl::StrJoin(metrics.header, ",") + "\n";
  for (const std::vector<std::string>& cells : metrics.rows) {
    double v;
    if (cells.size() == metrics.header.size() && absl::SimpleAtod(cells[col], &v) &&
        v <= max_value) {
      kept += absl::StrJoin(cells, ",") + "\n";
    }
  }
  RETURN_IF_ERROR(data::WriteFileAtomically(file, kept));
  return RewriteEvents();
}

absl::Status RunDir::WriteSummary(const nlohmann::json& summary) {
  if (const std::string bad = FirstNonFinite(summary, ""); !bad.empty()) {
    return absl::OutOfRangeError(absl::StrCat("summary ", bad, " (not written to ",
                                              File("summary.json"),
                                              "): the run diverged or its input holds NaN"));
  }
  RETURN_IF_ERROR(WriteJsonFile(File("summary.json"), summary));
  // The run's loss and accuracy curves, when it logged any.
  if (!data::FileExists(File("metrics.csv"))) return absl::OkStatus();
  ASSIGN_OR_RETURN(const std::string text, data::ReadFileBytes(File("metrics.csv")));
  const std::vector<std::string> header = absl::StrSplit(text.substr(0, text.find('\n')), ',');
  const std::vector<std::string> columns = plot::LossAndAccuracyColumns(header);
  if (columns.empty() || text.find('\n') + 1 >= text.size()) return absl::OkStatus();
  return plot::DrawCurves(File("curves.svg"), {.run_dirs = {path_}, .columns = columns});
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
