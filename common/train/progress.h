// A progress line for long loops on stderr: redrawn in place (epoch, step, loss, rate, ETA) when
// stderr is a terminal, and a plain log line every few seconds otherwise.
//
// Example:
//   ProgressLine progress("epoch 3/10", batches.size());
//   for (...) progress.Update(step + 1, absl::StrFormat("loss %.4f", loss));
//   progress.Finish("test_acc 0.8812");
#ifndef COMMON_TRAIN_PROGRESS_H_
#define COMMON_TRAIN_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace common::train {

class ProgressLine {
 public:
  ProgressLine(std::string label, int64_t total);

  // `done` of `total` units finished; `status` is free text such as "loss 0.1234".
  void Update(int64_t done, const std::string& status);
  // Ends the line (terminal) or logs a final line with the elapsed time.
  void Finish(const std::string& status);

  // Off: no line is drawn or logged by any ProgressLine of the process (ranks other than 0 of a
  // data-parallel job); thread budgets still apply at every Update.
  static void SetPrinting(bool on);

  // "1.2 s", "3m04s", "1h02m": for ETAs and elapsed times.
  static std::string FormatDuration(double seconds);

 private:
  std::string Render(int64_t done, const std::string& status) const;
  double Elapsed() const;

  std::string label_;
  int64_t total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  double last_print_ = -1e9;
};

}  // namespace common::train

#endif  // COMMON_TRAIN_PROGRESS_H_
