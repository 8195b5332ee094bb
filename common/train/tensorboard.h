// TensorBoard event files: scalars, histograms and text in the record format TensorBoard reads
// (events.out.tfevents.*). Each record is the length (uint64, little-endian), its masked CRC-32C,
// the serialized tensorboard.Event (tensorboard_event.proto) and the data's masked CRC-32C. The
// CRC is Boost.CRC's CRC-32C (Castagnoli); TensorBoard's mask is rotate-right-15 + 0xa282ead8.
//
// RunDir (run_dir.h) keeps one such file in every run directory in step with metrics.csv; use an
// EventWriter directly for what metrics.csv does not hold (per-step histograms).
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<EventWriter> tb, EventWriter::Create(run.path()));
//   RETURN_IF_ERROR(tb->AddScalars(step, {{"train_loss", 0.31}}));
//   RETURN_IF_ERROR(tb->AddHistogram("margins", step, margins));
#ifndef COMMON_TRAIN_TENSORBOARD_H_
#define COMMON_TRAIN_TENSORBOARD_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace common::train {

// CRC-32C of `data`, masked as TensorBoard's record format expects.
uint32_t MaskedCrc32c(const std::string& data);

// One record of the format around `payload`.
std::string EventRecord(const std::string& payload);

class EventWriter {
 public:
  // Creates <dir>/events.out.tfevents.<unix seconds>.<host>.<pid> and writes the file-version
  // event. Every Add* writes one event and flushes it, so TensorBoard shows a running job.
  static absl::StatusOr<std::unique_ptr<EventWriter>> Create(const std::string& dir);
  ~EventWriter();

  const std::string& path() const { return path_; }

  // One event at `step` holding a scalar per (tag, value).
  absl::Status AddScalars(int64_t step, const std::vector<std::pair<std::string, double>>& values);
  // The finite `values` in `bins` equal-width buckets between their min and max (non-finite ones
  // are left out; nothing is written when none is finite).
  absl::Status AddHistogram(const std::string& tag, int64_t step, const std::vector<double>& values,
                            int bins = 30);
  // Markdown shown by TensorBoard's text plugin.
  absl::Status AddText(const std::string& tag, int64_t step, const std::string& markdown);

 private:
  EventWriter(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  absl::Status Write(const std::string& event_bytes);

  std::string path_;
  std::FILE* file_;
};

// The event files of `dir` (events.out.tfevents.*), sorted.
std::vector<std::string> EventFiles(const std::string& dir);

}  // namespace common::train

#endif  // COMMON_TRAIN_TENSORBOARD_H_
