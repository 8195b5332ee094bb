#include "common/util/thread_budget.h"

#include <ATen/Parallel.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace common::util {
namespace {

TEST(ThreadsFor, IdleCoresRoundedAndClamped) {
  EXPECT_EQ(ThreadsFor(0.0, 2, 2), 2);
  EXPECT_EQ(ThreadsFor(0.3, 2, 2), 2);
  EXPECT_EQ(ThreadsFor(0.7, 2, 2), 1);
  EXPECT_EQ(ThreadsFor(2.0, 2, 2), 1);  // never below one
  EXPECT_EQ(ThreadsFor(5.0, 2, 2), 1);
  EXPECT_EQ(ThreadsFor(1.0, 16, 4), 4);  // never above the maximum
  EXPECT_EQ(ThreadsFor(13.2, 16, 8), 3);
}

// With a busy process on every core the budget drops to one thread, and ApplyThreadBudget hands
// it to LibTorch (other tests running beside this one only add load: the expectation holds).
TEST(AdaptiveThreads, BusyCoresLowerTheBudgetToOne) {
  const int cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<pid_t> children;
  for (int i = 0; i < cores; ++i) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      volatile unsigned long x = 0;
      while (true) x = x + 1;
    }
    children.push_back(pid);
  }
  StartAdaptiveThreads(cores);
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  const int budget = ThreadBudget();
  ApplyThreadBudget();
  const int torch_threads = at::get_num_threads();
  for (pid_t pid : children) kill(pid, SIGKILL);
  for (pid_t pid : children) waitpid(pid, nullptr, 0);
  EXPECT_EQ(budget, 1);
  EXPECT_EQ(torch_threads, 1);
}

}  // namespace
}  // namespace common::util
