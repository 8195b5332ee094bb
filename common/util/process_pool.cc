#include "common/util/process_pool.h"

#include <fcntl.h>
#include <glog/logging.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <map>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace common::util {
namespace {

bool Exists(const std::string& path) { return !path.empty() && access(path.c_str(), F_OK) == 0; }

absl::Status MakeParent(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return absl::OkStatus();
  const std::string dir = path.substr(0, slash);
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      const std::string prefix = dir.substr(0, i);
      if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
        return absl::PermissionDeniedError(
            absl::StrCat("cannot create ", prefix, ": ", std::strerror(errno)));
      }
    }
  }
  return absl::OkStatus();
}

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

}  // namespace

absl::Status RunProcessPool(const std::vector<ProcessJob>& jobs, int parallel) {
  if (parallel < 1)
    return absl::InvalidArgumentError(absl::StrCat("parallel must be >= 1, got ", parallel));
  std::deque<const ProcessJob*> todo;
  for (const ProcessJob& j : jobs) {
    if (j.argv.empty()) return absl::InvalidArgumentError("a job without a command");
    if (!Exists(j.done_path)) todo.push_back(&j);
  }
  LOG(INFO) << jobs.size() - todo.size() << " of " << jobs.size() << " runs already done; "
            << todo.size() << " to go, " << parallel << " at a time";
  std::map<pid_t, const ProcessJob*> running;
  std::vector<std::string> failed;
  while (!todo.empty() || !running.empty()) {
    while (!todo.empty() && static_cast<int>(running.size()) < parallel) {
      const ProcessJob* j = todo.front();
      todo.pop_front();
      if (absl::Status s = MakeParent(j->log_path); !s.ok()) return s;
      absl::StatusOr<pid_t> pid = Spawn(j->argv, j->log_path);
      if (!pid.ok()) return pid.status();
      running[*pid] = j;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) return absl::InternalError("waitpid failed");
    const ProcessJob* j = running.at(pid);
    running.erase(pid);
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    LOG(INFO) << (ok ? "done: " : "FAILED: ") << j->log_path;
    if (!ok) failed.push_back(j->log_path);
  }
  if (failed.empty()) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(failed.size(), " runs failed; see ", absl::StrJoin(failed, ", ")));
}

int WorkerThreads(int parallel) {
  const int cores = std::max(1u, std::thread::hardware_concurrency());
  return std::max(1, cores / std::max(1, parallel));
}

std::string SelfDirectory() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "./";
  const std::string self(buf, n);
  return self.substr(0, self.rfind('/') + 1);
}

}  // namespace common::util
