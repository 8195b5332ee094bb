#include "common/train/progress.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>

#include "absl/strings/str_format.h"
#include "common/util/thread_budget.h"
#include "glog/logging.h"

namespace common::train {
namespace {

constexpr double kTtyInterval = 0.1;  // seconds between redraws on a terminal
constexpr double kLogInterval = 10;   // seconds between plain log lines
std::atomic<bool> printing{true};

}  // namespace

ProgressLine::ProgressLine(std::string label, int64_t total)
    : label_(std::move(label)),
      total_(total),
      tty_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

double ProgressLine::Elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressLine::FormatDuration(double seconds) {
  if (seconds < 60) return absl::StrFormat("%.1f s", seconds);
  const int64_t s = static_cast<int64_t>(seconds);
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
}

std::string ProgressLine::Render(int64_t done, const std::string& status) const {
  const double elapsed = Elapsed();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
  return absl::StrFormat("%s [%d/%d] %s | %.1f it/s | ETA %s", label_, done, total_, status, rate,
                         FormatDuration(eta));
}

void ProgressLine::SetPrinting(bool on) { printing = on; }

void ProgressLine::Update(int64_t done, const std::string& status) {
  util::ApplyThreadBudget();  // a step boundary on the thread that runs the model
  if (!printing) return;
  const double now = Elapsed();
  if (now - last_print_ < (tty_ ? kTtyInterval : kLogInterval) && done < total_) return;
  last_print_ = now;
  if (tty_) {
    std::cerr << "\r\033[K" << Render(done, status) << std::flush;
  } else {
    LOG(INFO) << Render(done, status);
  }
}

void ProgressLine::Finish(const std::string& status) {
  if (!printing) return;
  const std::string line =
      absl::StrFormat("%s done in %s | %s", label_, FormatDuration(Elapsed()), status);
  if (tty_) {
    std::cerr << "\r\033[K" << line << "\n";
  } else {
    LOG(INFO) << line;
  }
}

}  // namespace common::train
