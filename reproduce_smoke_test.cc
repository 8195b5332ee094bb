// //:reproduce end to end at --scale=smoke on a tiny MNIST-layout dataset: every claim gets a
// verdict from finished runs (none fails to run or to assemble), the report has every claim, and
// a reproduce stopped half-way (SIGTERM) and started again reuses the runs that had finished.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/data/synthetic.h"
#include "common/testing/runfiles.h"
#include "gtest/gtest.h"

namespace {

namespace fs = std::filesystem;

std::string ReproducePath() { return common::testing::RunfilesPath("reproduce"); }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

pid_t Start(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// log.txt of every run directory under `dir` -> its contents.
std::map<std::string, std::string> RunLogs(const std::string& dir) {
  std::map<std::string, std::string> logs;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename() == "log.txt") logs[e.path().string()] = ReadAll(e.path().string());
  }
  return logs;
}

TEST(ReproduceSmoke, EveryClaimGetsAVerdictAndAStoppedRunContinues) {
  const std::string data = common::data::TestDir("reproduce_data");
  ASSERT_TRUE(common::data::WriteTinyMnistDirectory(data, 400, 100, /*gz=*/true).ok());
  const std::string out = common::data::TestDir("reproduce_out") + "/smoke";
  const std::string log = out + ".log";
  const std::vector<std::string> args = {ReproducePath(), "--scale=smoke", "--data_dir=" + data,
                                         "--out_dir=" + out, "--parallel=2"};

  // Stopped once the first runs have finished.
  const pid_t first = Start(args, log);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  auto finished = [&] {
    int n = 0;
    if (!fs::exists(out)) return 0;
    for (const auto& e : fs::recursive_directory_iterator(out)) {
      n += e.path().filename() == "exit_status" && ReadAll(e.path().string()) == "0\n";
    }
    return n;
  };
  while (finished() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GE(finished(), 3) << ReadAll(log);
  kill(first, SIGTERM);
  EXPECT_NE(Wait(first), 0) << "an interrupted reproduce must not exit 0";
  std::map<std::string, std::string> before;
  for (const auto& [path, text] : RunLogs(out)) {
    const std::string dir = fs::path(path).parent_path().string();
    if (ReadAll(dir + "/exit_status") == "0\n") before[path] = text;
  }
  ASSERT_GE(before.size(), 3u);

  // Started again: it finishes, and the runs that had finished were not run again.
  ASSERT_EQ(Wait(Start(args, log)), 0) << ReadAll(log);
  const std::map<std::string, std::string> after = RunLogs(out);
  for (const auto& [path, text] : before) EXPECT_EQ(after.at(path), text) << path << " ran again";

  const std::string report = ReadAll(out + "/report.md");
  for (const char* id :
       {"implicit_dl.ffnn_match", "implicit_dl.well_posedness", "implicit_dl.robustness",
        "implicit_dl.extrapolation", "icnn.init_learnability", "icnn.sigprop", "icnn.mlp_search",
        "icnn.tox21", "weightnorm_init.depth", "weightnorm_init.lr_warmup",
        "weightnorm_init.hessian", "weightnorm_init.batchnorm", "excess_capacity.constraints",
        "excess_capacity.across_tasks", "deep_weight_prior.fewshot",
        "deep_weight_prior.convergence"}) {
    EXPECT_TRUE(absl::StrContains(report, absl::StrCat("### ", id, ": "))) << id;
  }
  EXPECT_FALSE(absl::StrContains(report, "runs unfinished")) << report;
  EXPECT_FALSE(absl::StrContains(report, "assembling the runs failed")) << report;
  EXPECT_TRUE(fs::exists(out + "/index.html"));
}

TEST(ReproduceSmoke, UnknownClaimIsOneLineAndNoRun) {
  const std::string out = common::data::TestDir("reproduce_bad") + "/out";
  const std::string log = out + ".log";
  EXPECT_EQ(Wait(Start({ReproducePath(), "--scale=smoke", "--claims=icnn.nope", "--out_dir=" + out},
                       log)),
            1);
  EXPECT_TRUE(absl::StrContains(ReadAll(log), "--claims: no claim 'icnn.nope'")) << ReadAll(log);
  EXPECT_FALSE(fs::exists(out + "/runs"));
  EXPECT_EQ(Wait(Start({ReproducePath(), "--scale=huge", "--out_dir=" + out}, log)), 1);
  EXPECT_TRUE(absl::StrContains(ReadAll(log), "--scale must be smoke, quick or paper"));
}

}  // namespace
