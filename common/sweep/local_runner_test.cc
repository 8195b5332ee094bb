#include "common/sweep/local_runner.h"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/sweep/sweep_testing.h"
#include "common/util/interrupt.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::sweep {
namespace {

using testing::CountLines;
using testing::FreshDir;
using ::testing::HasSubstr;
using testing::ProbeSweep;
using testing::ReadAll;

TEST(LocalRunner, RunsUnfinishedRunsAndRerunsOnlyTheFailedOne) {
  const std::string dir = FreshDir("local");
  Sweep sweep = ProbeSweep(dir, 5);
  sweep.runs[3].argv.push_back("--fail");
  std::filesystem::create_directories(dir + "/seed0");
  std::ofstream(dir + "/seed0/summary.json") << "{}";  // finished before
  LocalRunner runner(2);
  const absl::Status s = runner.Execute(sweep);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("1 of 5 runs did not finish: seed3 (failed, exit status 3): " + dir +
                        "/seed3/log.txt"));
  EXPECT_EQ(CountLines(dir + "/seed0/attempts"), 0);
  for (int i : {1, 2, 3, 4})
    EXPECT_EQ(CountLines(dir + "/seed" + std::to_string(i) + "/attempts"), 1);
  EXPECT_THAT(ReadAll(dir + "/seed3/log.txt"), HasSubstr("probe seed 3"));
  EXPECT_EQ(StateOf(sweep.runs[3]), RunState::kFailed);
  // Each of two workers gets cores / 2 threads.
  EXPECT_THAT(ReadAll(dir + "/seed1/summary.json"),
              HasSubstr("\"threads\": " + std::to_string(WorkerThreads(2))));

  sweep.runs[3].argv.pop_back();  // the fix
  EXPECT_TRUE(runner.Execute(sweep).ok());
  EXPECT_EQ(CountLines(dir + "/seed3/attempts"), 2);
  EXPECT_EQ(CountLines(dir + "/seed1/attempts"), 1);
  EXPECT_EQ(StateOf(sweep.runs[3]), RunState::kFinished);
}

// SIGINT while a sweep runs: the running run gets the signal, no other run starts, and the
// sweep ends interrupted; run again, it does the rest.
TEST(LocalRunner, AnInterruptStopsTheSweepAndReachesTheRunningRuns) {
  const std::string dir = FreshDir("interrupt");
  const std::string hold = dir + "/hold";
  std::ofstream(hold) << "x";
  Sweep sweep = ProbeSweep(dir + "/sweep", 3);
  sweep.runs[0].argv.push_back("--hold=" + hold);
  absl::Status first;
  std::thread execute([&] { first = LocalRunner(1).Execute(sweep); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (CountLines(sweep.runs[0].dir + "/attempts") == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  util::RequestInterrupt(SIGINT);
  execute.join();
  util::ClearInterruptForTesting();
  EXPECT_TRUE(util::IsInterrupted(first)) << first;
  EXPECT_THAT(std::string(first.message()), HasSubstr("with 3 of 3 runs of " + sweep.dir));
  EXPECT_EQ(ReadAll(ExitStatusPath(sweep.runs[0])), "130\n");  // ended by the SIGINT
  EXPECT_EQ(StateOf(sweep.runs[1]), RunState::kNotStarted);

  std::filesystem::remove(hold);
  ASSERT_TRUE(LocalRunner(1).Execute(sweep).ok());
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(CountLines(sweep.runs[i].dir + "/attempts"), i == 0 ? 2 : 1);
}

// The same directory with other options: refused before anything runs, naming the difference.
TEST(LocalRunner, ARunStartedWithOtherArgumentsIsRefused) {
  const std::string dir = FreshDir("arguments");
  Sweep sweep = ProbeSweep(dir, 3);
  ASSERT_TRUE(LocalRunner(1).Execute(sweep).ok());
  sweep.runs[1].argv[1] = "--seed=7";
  sweep.runs.push_back(ProbeSweep(dir, 4).runs[3]);  // a new run is fine
  const absl::Status s = LocalRunner(1).Execute(sweep);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("1 of 4 runs in " + dir +
                        " finished with other arguments (seed1 had --seed=1, now --seed=7)"));
  EXPECT_EQ(StateOf(sweep.runs[3]), RunState::kNotStarted);
  sweep.runs[1].argv[0] = "/elsewhere/sweep_probe";  // the executable's path is not compared
  sweep.runs[1].argv[1] = "--seed=1";
  EXPECT_TRUE(LocalRunner(1).Execute(sweep).ok());
  EXPECT_EQ(CountLines(sweep.runs[1].dir + "/attempts"), 1);
}

TEST(LocalRunner, ResumesARunThatWasStarted) {
  const std::string dir = FreshDir("resume");
  Sweep sweep = ProbeSweep(dir, 2);
  for (auto& r : sweep.runs) r.resume_when_started = true;
  std::filesystem::create_directories(dir + "/seed1");
  std::ofstream(dir + "/seed1/config.json") << "{}";
  ASSERT_TRUE(LocalRunner(1).Execute(sweep).ok());
  EXPECT_THAT(ReadAll(dir + "/seed0/summary.json"), HasSubstr("\"resumed\": false"));
  EXPECT_THAT(ReadAll(dir + "/seed1/summary.json"), HasSubstr("\"resumed\": true"));
}

TEST(LocalRunner, AMissingBinaryFailsItsRunOnly) {
  const std::string dir = FreshDir("missing");
  Sweep sweep = ProbeSweep(dir, 2);
  sweep.runs[0].argv[0] = dir + "/no_such_binary";
  const absl::Status s = LocalRunner(2).Execute(sweep);
  EXPECT_THAT(std::string(s.message()), HasSubstr("seed0 (failed, exit status 127)"));
  EXPECT_EQ(StateOf(sweep.runs[1]), RunState::kFinished);
}

TEST(Sweep, ValidateRefusesDuplicateNamesAndDirectories) {
  Sweep sweep = ProbeSweep(FreshDir("validate"), 2);
  sweep.runs[1].name = "seed0";
  EXPECT_THAT(std::string(Validate(sweep).message()), HasSubstr("two runs are named 'seed0'"));
  sweep.runs[1].name = "other";
  sweep.runs[1].dir = sweep.runs[0].dir;
  EXPECT_THAT(std::string(Validate(sweep).message()), HasSubstr("two runs write to"));
  EXPECT_FALSE(LocalRunner(1).Execute(sweep).ok());
}

TEST(Sweep, CommandAppendsThreadsAndResume) {
  const std::string dir = FreshDir("command");
  common::sweep::Run run{"r", {"/bin/x", "--a=1"}, dir};
  EXPECT_THAT(CommandOf(run, 3), ::testing::ElementsAre("/bin/x", "--a=1", "--threads=3"));
  run.resume_when_started = true;
  std::ofstream(dir + "/config.json") << "{}";
  EXPECT_THAT(CommandOf(run, 3),
              ::testing::ElementsAre("/bin/x", "--a=1", "--threads=3", "--resume"));
  run.pass_threads = false;
  EXPECT_THAT(CommandOf(run, 3), ::testing::ElementsAre("/bin/x", "--a=1", "--resume"));
}

}  // namespace
}  // namespace common::sweep
