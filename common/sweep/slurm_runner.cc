#include "common/sweep/slurm_runner.h"

#include <glog/logging.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/data/file_bytes.h"
#include "common/util/status_macros.h"

extern char** environ;

namespace common::sweep {
namespace {

struct CommandResult {
  int exit_code = 0;
  std::string output;  // stdout and stderr together
};

// Runs argv (looked up in PATH) to completion, capturing its output.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe(fds) != 0) return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int err = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (err != 0) {
    close(fds[0]);
    return absl::NotFoundError(absl::StrCat(argv[0], " not found (", std::strerror(err),
                                            "): --runner=slurm needs Slurm's client tools"));
  }
  CommandResult result;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) != 0;) {
    if (n > 0) result.output.append(buf, static_cast<size_t>(n));
    if (n < 0 && errno != EINTR) break;
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string ShellQuote(const std::string& s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

std::string RunnerDir(const Sweep& sweep) { return sweep.dir + "/.sweep"; }
std::string JobIdPath(const Sweep& sweep) { return RunnerDir(sweep) + "/slurm_job_id"; }

// Each task: the run's command with --threads from its allocation and --resume where the run
// asks for it and was started; output appended to log.txt; the exit status recorded.
constexpr char kScriptHead[] = R"(#!/bin/bash
# Written by common/sweep's Slurm runner: array task i runs the i-th unfinished run of the sweep.
run() {  # run DIR RESUME_WHEN_STARTED PASS_THREADS COMMAND...
  local dir=$1 resume=$2 pass_threads=$3
  shift 3
  local args=("$@")
  mkdir -p "$dir" || exit 1
  rm -f "$dir/exit_status"
  [[ $pass_threads == 1 ]] && args+=("--threads=${SLURM_CPUS_PER_TASK:-1}")
  [[ $resume == 1 && -e $dir/config.json ]] && args+=(--resume)
  "${args[@]}" >>"$dir/log.txt" 2>&1
  local code=$?
  echo "$code" >"$dir/exit_status.tmp" && mv -f "$dir/exit_status.tmp" "$dir/exit_status"
  exit "$code"
}
case ${SLURM_ARRAY_TASK_ID:?not an array task} in
)";

}  // namespace

absl::StatusOr<QueueState> QueryJob(const std::string& job_id) {
  ASSIGN_OR_RETURN(CommandResult r, RunCommand({"squeue", "-h", "-r", "-j", job_id, "-o", "%T"}));
  QueueState q;
  if (r.exit_code != 0) {
    // A job that left the queue long ago is forgotten by slurmctld.
    if (absl::StrContains(r.output, "Invalid job id")) return q;
    return absl::UnavailableError(
        absl::StrCat("squeue -j ", job_id, " failed: ", absl::StripAsciiWhitespace(r.output)));
  }
  for (absl::string_view state : absl::StrSplit(r.output, '\n', absl::SkipWhitespace())) {
    state = absl::StripAsciiWhitespace(state);
    if (state == "PENDING") {
      ++q.pending;
    } else if (state == "RUNNING") {
      ++q.running;
    } else {
      ++q.other;  // CONFIGURING, COMPLETING, SUSPENDED, ...
    }
  }
  return q;
}

std::string LastJobId(const Sweep& sweep) {
  absl::StatusOr<std::string> id = data::ReadFileBytes(JobIdPath(sweep));
  return id.ok() ? std::string(absl::StripAsciiWhitespace(*id)) : "";
}

SlurmRunner::SlurmRunner(SlurmOptions options) : options_(std::move(options)) {
  CHECK_GE(options_.cpus_per_task, 1);
  CHECK_GE(options_.max_parallel, 0);
}

std::string SlurmRunner::JobScript(const std::vector<const Run*>& runs) const {
  std::string script = kScriptHead;
  for (size_t i = 0; i < runs.size(); ++i) {
    const Run& r = *runs[i];
    std::vector<std::string> words = {ShellQuote(r.dir), r.resume_when_started ? "1" : "0",
                                      r.pass_threads ? "1" : "0"};
    for (const std::string& a : r.argv) words.push_back(ShellQuote(a));
    absl::StrAppend(&script, "  ", i, ")  # ", absl::StrReplaceAll(r.name, {{"\n", " "}}),
                    "\n    run ", absl::StrJoin(words, " "), " ;;\n");
  }
  absl::StrAppend(&script,
                  "  *) echo \"no run for array task $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;\n",
                  "esac\n");
  return script;
}

absl::StatusOr<std::string> SlurmRunner::Submit(const Sweep& sweep,
                                                const std::vector<const Run*>& runs) {
  const std::string dir = RunnerDir(sweep);
  RETURN_IF_ERROR(data::MakeDirs(dir));
  for (const Run* r : runs) {
    RETURN_IF_ERROR(data::MakeDirs(r->dir));
    RETURN_IF_ERROR(RecordArguments(*r));
  }
  const std::string script = absl::StrCat(dir, "/slurm_array.sh");
  RETURN_IF_ERROR(data::WriteFileAtomically(script, JobScript(runs)));
  std::string array = absl::StrCat("--array=0-", runs.size() - 1);
  if (options_.max_parallel > 0) absl::StrAppend(&array, "%", options_.max_parallel);
  std::vector<std::string> argv = {"sbatch",
                                   "--parsable",
                                   array,
                                   "--job-name=" + options_.job_name,
                                   absl::StrCat("--cpus-per-task=", options_.cpus_per_task),
                                   "--output=" + dir + "/slurm-%A_%a.out",
                                   "--chdir=" + std::filesystem::current_path().string()};
  argv.insert(argv.end(), options_.sbatch_args.begin(), options_.sbatch_args.end());
  argv.push_back(script);
  ASSIGN_OR_RETURN(CommandResult r, RunCommand(argv));
  const std::string out(absl::StripAsciiWhitespace(r.output));
  // --parsable prints "<job id>" or "<job id>;<cluster>".
  const std::string job_id(absl::StripAsciiWhitespace(out.substr(0, out.find(';'))));
  if (r.exit_code != 0 || job_id.empty() ||
      job_id.find_first_not_of("0123456789") != std::string::npos) {
    return absl::UnavailableError(absl::StrCat("sbatch failed (exit status ", r.exit_code,
                                               "): ", absl::StrReplaceAll(out, {{"\n", " "}})));
  }
  RETURN_IF_ERROR(data::WriteFileAtomically(JobIdPath(sweep), job_id + "\n"));
  return job_id;
}

absl::Status SlurmRunner::Wait(const Sweep& sweep, const std::string& job_id) const {
  std::string last;
  while (true) {
    ASSIGN_OR_RETURN(const QueueState q, QueryJob(job_id));
    if (q.Empty()) return absl::OkStatus();
    const std::string line = absl::StrCat(
        "slurm job ", job_id, ": ", q.pending, " pending, ", q.running, " running; ",
        sweep.runs.size() - Unfinished(sweep).size(), " of ", sweep.runs.size(), " runs finished");
    if (line != last) LOG(INFO) << line;
    last = line;
    std::this_thread::sleep_for(std::chrono::duration<double>(options_.poll_seconds));
  }
}

absl::Status SlurmRunner::Execute(const Sweep& sweep) {
  RETURN_IF_ERROR(Validate(sweep));
  RETURN_IF_ERROR(CheckArguments(sweep));
  if (const std::string earlier = LastJobId(sweep); !earlier.empty()) {
    ASSIGN_OR_RETURN(const QueueState q, QueryJob(earlier));
    if (!q.Empty()) {
      if (!options_.wait) {
        return absl::UnavailableError(absl::StrCat(
            "not finished yet: slurm job ", earlier, " of this sweep is still queued (", q.pending,
            " pending, ", q.running,
            " running); the same command again, once it has left the queue, collects the results"));
      }
      LOG(INFO) << "slurm job " << earlier << " of this sweep is still queued; waiting for it";
      RETURN_IF_ERROR(Wait(sweep, earlier));
    }
  }
  const std::vector<const Run*> todo = Unfinished(sweep);
  LOG(INFO) << sweep.runs.size() - todo.size() << " of " << sweep.runs.size()
            << " runs already finished; " << todo.size() << " to submit";
  if (todo.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(const std::string job_id, Submit(sweep, todo));
  LOG(INFO) << "submitted slurm job " << job_id << " (" << todo.size() << " array tasks, script "
            << RunnerDir(sweep) << "/slurm_array.sh); Ctrl-C leaves it running, and the same "
            << "command again waits for it";
  if (!options_.wait) {
    return absl::UnavailableError(absl::StrCat(
        "not finished yet: submitted slurm job ", job_id, " (", todo.size(),
        " array tasks); the same command again, once it has finished, collects the results"));
  }
  RETURN_IF_ERROR(Wait(sweep, job_id));
  return CheckFinished(sweep);
}

}  // namespace common::sweep
