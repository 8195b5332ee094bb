// The run directory of an experiment: config.json (every flag), metrics.csv (one row per
// logged step or epoch), summary.json (final numbers), checkpoint.pt (see checkpoint.h).
//
// Example:
//   ASSIGN_OR_RETURN(RunDir run, RunDir::Open(rt.ResolveOutDir("mnist"), CommandLineFlagsJson()));
//   RETURN_IF_ERROR(run.AppendMetrics({{"epoch", 1}, {"train_loss", 0.31}, {"test_acc", 0.88}}));
//   RETURN_IF_ERROR(run.WriteSummary({{"test_acc", 0.88}}));
#ifndef COMMON_TRAIN_RUN_DIR_H_
#define COMMON_TRAIN_RUN_DIR_H_

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace common::train {

using MetricsRow = std::vector<std::pair<std::string, double>>;

class RunDir {
 public:
  // Creates `path` (and parents) and writes config.json atomically. Unless `resume`, a
  // metrics.csv left by an earlier run in the same directory is removed.
  static absl::StatusOr<RunDir> Open(const std::string& path, const nlohmann::json& config,
                                     bool resume = false);

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  std::string checkpoint_path() const { return File("checkpoint.pt"); }

  // Appends one row to metrics.csv; the first row of a new file fixes the header, later rows
  // must have the same columns in the same order.
  absl::Status AppendMetrics(const MetricsRow& row);

  // For --resume: drops the rows of metrics.csv whose `column` exceeds `max_value`, i.e. rows
  // logged after the checkpoint that is being resumed.
  absl::Status TruncateMetrics(const std::string& column, double max_value);

  absl::Status WriteSummary(const nlohmann::json& summary);

 private:
  explicit RunDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// metrics.csv of a run that --resume may continue: every row starts with its `key` (epoch or
// step); the first row after a resume first drops the killed run's rows from that value on (the
// epochs after its checkpoint, which the resumed run repeats).
//
//   ResumableMetrics metrics(run, "epoch", resume);
//   RETURN_IF_ERROR(metrics.Append(epoch, {{"test_acc", 0.88}}));
class ResumableMetrics {
 public:
  ResumableMetrics(RunDir& dir, std::string key, bool resume)
      : dir_(dir), key_(std::move(key)), truncate_(resume) {}
  absl::Status Append(double at, const MetricsRow& row);

 private:
  RunDir& dir_;
  std::string key_;
  bool truncate_;
};

// Every command-line flag defined outside Abseil itself, name -> current value (as typed).
nlohmann::json CommandLineFlagsJson();

// Writes `value` as indented JSON to `path`, atomically.
absl::Status WriteJsonFile(const std::string& path, const nlohmann::json& value);

// Reads and parses `path`; NotFound when missing, DataLoss ("<path>: not valid JSON") when corrupt.
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);

}  // namespace common::train

#endif  // COMMON_TRAIN_RUN_DIR_H_
