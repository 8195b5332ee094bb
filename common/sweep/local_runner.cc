#include "common/sweep/local_runner.h"

#include <fcntl.h>
#include <glog/logging.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/data/file_bytes.h"
#include "common/train/progress.h"
#include "common/util/interrupt.h"
#include "common/util/status_macros.h"

extern char** environ;

namespace common::sweep {
namespace {

// Starts argv with stdout and stderr appended to `log`.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int err = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0)
    return absl::NotFoundError(absl::StrCat("cannot start ", argv[0], ": ", std::strerror(err)));
  return pid;
}

// The shell's convention: the exit code, or 128 + the signal that ended the process.
int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

absl::StatusOr<pid_t> Start(const Run& run, int threads) {
  RETURN_IF_ERROR(data::MakeDirs(run.dir));
  RETURN_IF_ERROR(RecordArguments(run));
  std::remove(ExitStatusPath(run).c_str());
  return Spawn(CommandOf(run, threads), LogPath(run));
}

}  // namespace

LocalRunner::LocalRunner(int workers) : workers_(workers) { CHECK_GE(workers, 1); }

absl::Status LocalRunner::Execute(const Sweep& sweep) {
  RETURN_IF_ERROR(Validate(sweep));
  RETURN_IF_ERROR(CheckArguments(sweep));
  const std::vector<const Run*> unfinished = Unfinished(sweep);
  std::deque<const Run*> todo(unfinished.begin(), unfinished.end());
  LOG(INFO) << sweep.runs.size() - todo.size() << " of " << sweep.runs.size()
            << " runs already finished; " << todo.size() << " to go, " << workers_ << " at a time";
  const int threads = WorkerThreads(workers_);
  // SIGINT / SIGTERM: no new runs; the signal goes on to the running ones (which checkpoint and
  // exit where they can), and the sweep ends once they have. A second signal ends it at once.
  util::ScopedInterruptHandlers handlers;
  bool forwarded = false;
  const auto start = std::chrono::steady_clock::now();
  const size_t total = todo.size();
  size_t ended = 0;
  std::map<pid_t, const Run*> running;
  while (!todo.empty() || !running.empty()) {
    while (!util::InterruptRequested() && !todo.empty() &&
           static_cast<int>(running.size()) < workers_) {
      const Run* run = todo.front();
      todo.pop_front();
      absl::StatusOr<pid_t> pid = Start(*run, threads);
      if (pid.ok()) {
        running[*pid] = run;
        continue;
      }
      // Recorded like a run that failed at once, so the others still run.
      LOG(ERROR) << run->name << ": " << pid.status().message();
      RETURN_IF_ERROR(data::WriteFileAtomically(ExitStatusPath(*run), "127\n"));
    }
    if (running.empty()) break;
    if (util::InterruptRequested() && !forwarded) {
      for (const auto& [pid, run] : running) kill(pid, util::InterruptSignal());
      forwarded = true;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid < 0) return absl::InternalError(absl::StrCat("waitpid: ", std::strerror(errno)));
    if (pid == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const Run* run = running.at(pid);
    running.erase(pid);
    const int code = ExitCode(status);
    RETURN_IF_ERROR(data::WriteFileAtomically(ExitStatusPath(*run), absl::StrCat(code, "\n")));
    // Progress: runs ended of this call's total, and the time left at the pace so far.
    ++ended;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double left = elapsed / ended * static_cast<double>(total - ended);
    LOG(INFO) << (code == 0 ? "done " : "FAILED ") << ended << "/" << total << " ["
              << train::ProgressLine::FormatDuration(elapsed) << " elapsed, about "
              << train::ProgressLine::FormatDuration(left) << " left]: " << run->name
              << (code == 0 ? "" : absl::StrCat(" (exit status ", code, ")")) << " ("
              << LogPath(*run) << ")";
  }
  if (util::InterruptRequested()) {
    return util::InterruptedError(
        absl::StrCat("with ", Unfinished(sweep).size(), " of ", sweep.runs.size(), " runs of ",
                     sweep.dir, " unfinished"),
        "the same command continues the sweep (add --resume where the binary takes it)");
  }
  return CheckFinished(sweep);
}

int WorkerThreads(int workers) {
  const int cores = std::max(1u, std::thread::hardware_concurrency());
  return std::max(1, cores / std::max(1, workers));
}

std::string SelfDirectory() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "./";
  const std::string self(buf, n);
  return self.substr(0, self.rfind('/') + 1);
}

}  // namespace common::sweep
