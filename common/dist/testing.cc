#include "common/dist/testing.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace common::dist {
namespace {
constexpr char kSpawnedVariable[] = "COMMON_DIST_SPAWNED_RANK";
}  // namespace

bool InSpawnedRank() { return std::getenv(kSpawnedVariable) != nullptr; }

std::vector<RankResult> SpawnRanks(int world_size, const std::string& test_filter,
                                   const std::vector<std::string>& env, double timeout_s) {
  return SpawnSelf(world_size, {"--gtest_filter=" + test_filter}, env, timeout_s);
}

std::vector<RankResult> SpawnSelf(int world_size, const std::vector<std::string>& args,
                                  const std::vector<std::string>& env, double timeout_s) {
  // The store, hosted here on a free port, as torchrun's agent hosts it.
  c10d::TCPStoreOptions options;
  options.port = 0;
  options.isServer = true;
  options.waitWorkers = false;
  options.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  c10d::TCPStore store("127.0.0.1", options);

  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp ? tmp : "/tmp";
  std::vector<pid_t> pids;
  std::vector<std::string> logs;
  for (int rank = 0; rank < world_size; ++rank) {
    std::vector<std::string> vars;
    for (char** e = environ; *e != nullptr; ++e) {
      // Bazel's per-test files belong to the parent test.
      const std::string var = *e;
      bool skip = false;
      for (const char* own : {"XML_OUTPUT_FILE=", "TEST_PREMATURE_EXIT_FILE=", "GTEST_OUTPUT=",
                              "TEST_SHARD_STATUS_FILE=", "TEST_WARNINGS_OUTPUT_FILE="}) {
        skip = skip || var.rfind(own, 0) == 0;
      }
      if (!skip) vars.push_back(var);
    }
    for (const std::string& v :
         {absl::StrCat("RANK=", rank), absl::StrCat("WORLD_SIZE=", world_size),
          absl::StrCat("LOCAL_RANK=", rank), std::string("MASTER_ADDR=127.0.0.1"),
          absl::StrCat("MASTER_PORT=", store.getPort()),
          std::string("TORCHELASTIC_USE_AGENT_STORE=True"),
          std::string("TORCHELASTIC_RESTART_COUNT=0"), absl::StrCat(kSpawnedVariable, "=1")}) {
      vars.push_back(v);
    }
    vars.insert(vars.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (std::string& v : vars) envp.push_back(v.data());
    envp.push_back(nullptr);
    std::string exe = "/proc/self/exe";
    std::vector<std::string> arg_strings = args;
    std::vector<char*> argv = {exe.data()};
    for (std::string& a : arg_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    logs.push_back(absl::StrCat(dir, "/rank_", rank, "_", getpid(), ".log"));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, logs.back().c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = -1;
    if (posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), envp.data()) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    pids.push_back(pid);
  }
  std::vector<RankResult> results(world_size);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  int running = 0;
  for (pid_t pid : pids) running += pid > 0;
  while (running > 0) {
    for (int rank = 0; rank < world_size; ++rank) {
      if (pids[rank] <= 0) continue;
      int status = 0;
      if (waitpid(pids[rank], &status, WNOHANG) == pids[rank]) {
        results[rank].exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        pids[rank] = 0;
        --running;
      }
    }
    if (running > 0 && std::chrono::steady_clock::now() > deadline) {
      for (pid_t pid : pids) {
        if (pid > 0) {
          kill(pid, SIGKILL);
          waitpid(pid, nullptr, 0);
        }
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (int rank = 0; rank < world_size; ++rank) {
    std::ifstream in(logs[rank]);
    std::stringstream text;
    text << in.rdbuf();
    results[rank].output = text.str();
  }
  return results;
}

std::string StateDictDifferences(const std::map<std::string, torch::Tensor>& a,
                                 const std::map<std::string, torch::Tensor>& b, double rtol,
                                 double atol) {
  std::string out;
  for (const auto& [name, t] : a) {
    const auto it = b.find(name);
    if (it == b.end()) {
      absl::StrAppend(&out, name, ": only in the first\n");
    } else if (it->second.sizes() != t.sizes()) {
      absl::StrAppend(&out, name, ": shapes differ\n");
    } else if (!torch::allclose(it->second, t, rtol, atol)) {
      absl::StrAppend(&out, name, ": max |diff| ", (it->second - t).abs().max().item<double>(),
                      "\n");
    }
  }
  for (const auto& [name, t] : b) {
    if (a.count(name) == 0) absl::StrAppend(&out, name, ": only in the second\n");
  }
  return out;
}

}  // namespace common::dist
