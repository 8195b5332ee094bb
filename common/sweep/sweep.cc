#include "common/sweep/sweep.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/data/file_bytes.h"

namespace common::sweep {

const char* RunStateName(RunState state) {
  switch (state) {
    case RunState::kFinished:
      return "finished";
    case RunState::kFailed:
      return "failed";
    case RunState::kInterrupted:
      return "killed or still running";
    case RunState::kNotStarted:
      return "not started";
  }
  return "?";
}

std::string LogPath(const Run& run) { return run.dir + "/log.txt"; }
std::string ExitStatusPath(const Run& run) { return run.dir + "/exit_status"; }

RunState StateOf(const Run& run) {
  if (data::FileExists(run.dir + "/" + run.done_file)) return RunState::kFinished;
  if (data::FileExists(ExitStatusPath(run))) return RunState::kFailed;
  if (data::FileExists(LogPath(run))) return RunState::kInterrupted;
  return RunState::kNotStarted;
}

std::string ArgumentsPath(const Run& run) { return run.dir + "/arguments"; }

namespace {

// argv[1..], one per line (the executable's path may differ between invocations).
std::string ArgumentLines(const Run& run) {
  std::string out;
  for (size_t i = 1; i < run.argv.size(); ++i) absl::StrAppend(&out, run.argv[i], "\n");
  return out;
}

}  // namespace

absl::Status RecordArguments(const Run& run) {
  return data::WriteFileAtomically(ArgumentsPath(run), ArgumentLines(run));
}

absl::Status CheckArguments(const Sweep& sweep) {
  std::vector<std::string> changed;
  std::string first;
  for (const Run& r : sweep.runs) {
    if (StateOf(r) != RunState::kFinished) continue;  // an unfinished run starts again
    const absl::StatusOr<std::string> recorded = data::ReadFileBytes(ArgumentsPath(r));
    if (!recorded.ok() || *recorded == ArgumentLines(r)) continue;
    changed.push_back(r.name);
    if (!first.empty()) continue;
    const std::vector<std::string> before = absl::StrSplit(*recorded, '\n', absl::SkipEmpty());
    const std::vector<std::string> now(r.argv.begin() + 1, r.argv.end());
    size_t i = 0;
    while (i < before.size() && i < now.size() && before[i] == now[i]) ++i;
    first = absl::StrCat(r.name, " had ", i < before.size() ? before[i] : "(nothing)", ", now ",
                         i < now.size() ? now[i] : "(nothing)");
  }
  if (changed.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(changed.size(), " of ", sweep.runs.size(), " runs in ", sweep.dir,
                   " finished with other arguments (", first,
                   "): give the options they had, or another --out_dir"));
}

std::vector<const Run*> Unfinished(const Sweep& sweep) {
  std::vector<const Run*> out;
  for (const Run& r : sweep.runs) {
    if (StateOf(r) != RunState::kFinished) out.push_back(&r);
  }
  return out;
}

absl::Status CheckFinished(const Sweep& sweep) {
  std::vector<std::string> lines;
  for (const Run* r : Unfinished(sweep)) {
    std::string line = absl::StrCat(r->name, " (", RunStateName(StateOf(*r)));
    if (absl::StatusOr<std::string> code = data::ReadFileBytes(ExitStatusPath(*r)); code.ok()) {
      absl::StrAppend(&line, ", exit status ", absl::StripAsciiWhitespace(*code));
    }
    absl::StrAppend(&line, "): ", LogPath(*r));
    lines.push_back(std::move(line));
  }
  if (lines.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(lines.size(), " of ", sweep.runs.size(),
                   " runs did not finish: ", absl::StrJoin(lines, "; ")));
}

absl::Status Validate(const Sweep& sweep) {
  if (sweep.dir.empty()) return absl::InvalidArgumentError("a sweep needs a directory");
  std::set<std::string> names, dirs;
  for (const Run& r : sweep.runs) {
    if (r.name.empty() || r.argv.empty() || r.argv[0].empty() || r.dir.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("run '", r.name, "' needs a name, a command and a directory"));
    }
    if (!names.insert(r.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("two runs are named '", r.name, "'"));
    }
    if (!dirs.insert(r.dir).second) {
      return absl::InvalidArgumentError(absl::StrCat("two runs write to ", r.dir));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> CommandOf(const Run& run, int threads) {
  std::vector<std::string> argv = run.argv;
  if (run.pass_threads) argv.push_back(absl::StrCat("--threads=", threads));
  if (run.resume_when_started && data::FileExists(run.dir + "/config.json")) {
    argv.push_back("--resume");
  }
  return argv;
}

}  // namespace common::sweep
