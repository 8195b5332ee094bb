// The run directory of an experiment: config.json (every flag), metrics.csv (one row per
// logged step or epoch), summary.json (final numbers; its presence marks the run finished),
// checkpoint.pt (see checkpoint.h), curves.svg (loss and accuracy, drawn by WriteSummary), and a
// TensorBoard event file (events.out.tfevents.*) that
// mirrors metrics.csv: the config as a text table at step 0, then every row's columns as scalars
// at the row's first value (its step or epoch). Open and TruncateMetrics rewrite it from
// metrics.csv, so after a --resume it holds exactly the rows metrics.csv holds (events a trainer
// adds itself through events(), e.g. histograms, are kept only from the last start on).
//
// A directory holds one run, identified by its config (every flag except those in
// kFlagsOutsideIdentity). Open enforces it: a fresh start into a directory holding a run is an
// error unless `overwrite`; `resume` needs a run with the same config (the error lists each
// differing flag) and, when that run is finished, returns FinishedRunError, which RunMain
// reports and exits 0 on. One writer at a time: Open takes an advisory lock (flock) on
// <dir>/.lock, held until the last copy of the RunDir is gone; a second writer fails at once
// naming the holder's pid.
//
// Example:
//   ASSIGN_OR_RETURN(RunDir run, RunDir::Open(rt.ResolveOutDir("mnist"), CommandLineFlagsJson(),
//                                             {.resume = resume}));
//   RETURN_IF_ERROR(run.AppendMetrics({{"epoch", 1}, {"train_loss", 0.31}, {"test_acc", 0.88}}));
//   RETURN_IF_ERROR(run.WriteSummary({{"test_acc", 0.88}}));
#ifndef COMMON_TRAIN_RUN_DIR_H_
#define COMMON_TRAIN_RUN_DIR_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/train/run_identity.h"  // kFlagsOutsideIdentity

// --overwrite: replace the run an --out_dir holds (default of RunDirOptions::overwrite).
ABSL_DECLARE_FLAG(bool, overwrite);

namespace common::train {

class EventWriter;  // tensorboard.h

using MetricsRow = std::vector<std::pair<std::string, double>>;

struct RunDirOptions {
  bool resume = false;     // continue the run the directory holds (same config)
  bool overwrite = false;  // replace the run the directory holds
};

class RunDir {
 public:
  // Creates `path` (and parents), takes its lock, checks the run it holds against `config` as
  // described above, removes leftover *.tmp files and writes config.json atomically.
  static absl::StatusOr<RunDir> Open(const std::string& path, const nlohmann::json& config,
                                     const RunDirOptions& options);
  // The same with `overwrite` from --overwrite.
  static absl::StatusOr<RunDir> Open(const std::string& path, const nlohmann::json& config,
                                     bool resume = false);

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  std::string checkpoint_path() const { return File("checkpoint.pt"); }

  // Appends one row to metrics.csv; the first row of a new file fixes the header, later rows
  // must have the same columns in the same order. A NaN or infinite value is an error naming the
  // column and the row's first value (its step or epoch), and nothing is written, except in the
  // columns `may_be_undefined` (NaN there means "not defined here", e.g. the AUC of a task whose
  // labels have one class).
  absl::Status AppendMetrics(const MetricsRow& row,
                             const std::vector<std::string>& may_be_undefined = {});

  // For --resume: drops the rows of metrics.csv whose `column` exceeds `max_value`, i.e. rows
  // logged after the checkpoint that is being resumed.
  absl::Status TruncateMetrics(const std::string& column, double max_value);

  // Writes summary.json, which marks the run finished, and draws curves.svg: the metrics.csv
  // columns named *loss* or *acc* against its first column (common/plot/curves.h). Non-finite
  // numbers are an error naming the key (nothing is written).
  absl::Status WriteSummary(const nlohmann::json& summary);

  // The run's TensorBoard event file (for histograms and other events beside metrics.csv's).
  EventWriter& events() { return **events_; }

 private:
  RunDir(std::string path, std::shared_ptr<int> lock);
  // Replaces the event files of the directory by one holding config.json and metrics.csv.
  absl::Status RewriteEvents();

  std::string path_;
  std::shared_ptr<int>
      lock_;  // the locked file descriptor of <path>/.lock; closed with the last copy
  std::shared_ptr<std::unique_ptr<EventWriter>> events_;  // shared by the copies
};

// What Open returns for `resume` of a finished run: AlreadyExists, recognised by IsFinishedRun.
absl::Status FinishedRunError(const std::string& path);
bool IsFinishedRun(const absl::Status& status);

// The flags whose values differ between two configs, "--name=old (now new)", in name order;
// flags in kFlagsOutsideIdentity are ignored.
std::vector<std::string> ConfigDifferences(const nlohmann::json& before, const nlohmann::json& now);

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
