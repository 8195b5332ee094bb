#include "common/train/run_dir.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <limits>

#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::train {
namespace {

using ::testing::HasSubstr;

std::string Read(const std::string& path) { return data::ReadFileBytes(path).value(); }

TEST(RunDir, ConfigMetricsSummaryAndTruncation) {
  const std::string dir = data::TestDir("run_dir") + "/nested/run";
  RunDir run = RunDir::Open(dir, {{"lr", 0.1}}).value();
  ASSERT_TRUE(run.AppendMetrics({{"epoch", 1}, {"loss", 0.5}}).ok());
  ASSERT_TRUE(run.AppendMetrics({{"epoch", 2}, {"loss", 0.25}}).ok());
  EXPECT_THAT(std::string(run.AppendMetrics({{"loss", 1}}).message()), HasSubstr("differ"));
  ASSERT_TRUE(run.TruncateMetrics("epoch", 1).ok());
  EXPECT_EQ(Read(run.File("metrics.csv")), "epoch,loss\n1,0.5\n");
  ASSERT_TRUE(run.WriteSummary({{"acc", 0.875}}).ok());
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(Read(run.File("summary.json")))["acc"].get<double>(),
                   0.875);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(Read(run.File("config.json")))["lr"].get<double>(), 0.1);
}

// Reproducer 1 of the reliability issue: a fresh run into a directory that holds another one
// must not mix with it (it later resumed the old run's checkpoint).
TEST(RunDir, FreshStartIntoAnotherRunIsAnErrorUnlessOverwrite) {
  const std::string dir = data::TestDir("run_dir_fresh");
  {
    RunDir old = RunDir::Open(dir, {{"seed", "0"}}).value();
    ASSERT_TRUE(old.AppendMetrics({{"epoch", 1}, {"loss", 0.5}}).ok());
    ASSERT_TRUE(data::WriteFileAtomically(old.checkpoint_path(), "old checkpoint").ok());
  }
  const auto again = RunDir::Open(dir, {{"seed", "5"}}, RunDirOptions{});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.status().message()), HasSubstr(dir + " holds another run"));
  EXPECT_THAT(std::string(again.status().message()), HasSubstr("--overwrite"));
  EXPECT_EQ(nlohmann::json::parse(Read(dir + "/config.json"))["seed"], "0");  // untouched
  ASSERT_TRUE(RunDir::Open(dir, {{"seed", "5"}}, RunDirOptions{false, /*overwrite=*/true}).ok());
  EXPECT_FALSE(data::FileExists(dir + "/checkpoint.pt"));
  EXPECT_FALSE(data::FileExists(dir + "/metrics.csv"));
  EXPECT_EQ(nlohmann::json::parse(Read(dir + "/config.json"))["seed"], "5");
}

// Reproducer 2: --resume with other flags is refused, each differing flag named with both values;
// threads and the output flags are not part of a run's identity.
TEST(RunDir, ResumeWithOtherFlagsListsEachDifference) {
  const std::string dir = data::TestDir("run_dir_diff");
  ASSERT_TRUE(
      RunDir::Open(dir, {{"bs", "100"}, {"momentum", "0"}, {"threads", "2"}, {"lr", "0.1"}}).ok());
  const auto resumed =
      RunDir::Open(dir, {{"bs", "50"}, {"momentum", "0.9"}, {"threads", "1"}, {"lr", "0.1"}},
                   RunDirOptions{/*resume=*/true});
  EXPECT_EQ(resumed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(resumed.status().message()),
              HasSubstr("other flags: --bs=100 (now 50), --momentum=0 (now 0.9);"));
  EXPECT_EQ(nlohmann::json::parse(Read(dir + "/config.json"))["bs"], "100");  // untouched
  EXPECT_TRUE(RunDir::Open(dir, {{"bs", "100"}, {"momentum", "0"}, {"threads", "1"}, {"lr", "0.1"}},
                           RunDirOptions{/*resume=*/true})
                  .ok());
  EXPECT_EQ(ConfigDifferences({{"a", "1"}}, {{"a", "1"}, {"b", "2"}}),
            std::vector<std::string>{"--b=(absent) (now 2)"});
}

// Reproducer 4: --resume of a finished run changes nothing and reports it (RunMain exits 0).
TEST(RunDir, ResumeOfAFinishedRunChangesNothing) {
  const std::string dir = data::TestDir("run_dir_finished");
  {
    RunDir run = RunDir::Open(dir, {{"seed", "0"}}).value();
    ASSERT_TRUE(run.WriteSummary({{"best_valid_acc", 0.87}}).ok());
  }
  const std::string summary = Read(dir + "/summary.json");
  const auto resumed = RunDir::Open(dir, {{"seed", "0"}}, RunDirOptions{/*resume=*/true});
  EXPECT_TRUE(IsFinishedRun(resumed.status()));
  EXPECT_THAT(std::string(resumed.status().message()), HasSubstr("the run is finished"));
  EXPECT_EQ(Read(dir + "/summary.json"), summary);
  EXPECT_FALSE(IsFinishedRun(absl::AlreadyExistsError("other")));
}

TEST(RunDir, ResumeWithNothingToResumeIsAnError) {
  const std::string dir = data::TestDir("run_dir_empty") + "/never_started";
  const auto resumed = RunDir::Open(dir, {}, RunDirOptions{/*resume=*/true});
  EXPECT_EQ(resumed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(resumed.status().message()), HasSubstr("holds no run"));
}

// Reproducer 3: two runs into one directory at once. The second fails at once, naming the pid
// of the first; after the first ends the directory is free again.
TEST(RunDir, SecondWriterFailsNamingTheHoldersPid) {
  const std::string dir = data::TestDir("run_dir_lock");
  int ready[2], release[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // the first writer: holds the run until told to end
    auto run = RunDir::Open(dir, {{"seed", "0"}}, RunDirOptions{});
    const char c = run.ok() ? 'y' : 'n';
    (void)!write(ready[1], &c, 1);
    char x;
    (void)!read(release[0], &x, 1);
    _exit(run.ok() ? 0 : 1);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  const auto second = RunDir::Open(dir, {{"seed", "1"}}, RunDirOptions{false, /*overwrite=*/true});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr(absl::StrCat("in use by another run (pid ", child, ")")));
  EXPECT_EQ(nlohmann::json::parse(Read(dir + "/config.json"))["seed"], "0");
  ASSERT_EQ(write(release[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(RunDir::Open(dir, {{"seed", "0"}}, RunDirOptions{/*resume=*/true}).ok());
}

// Reproducer 9: NaN never reaches metrics.csv or summary.json.
TEST(RunDir, NonFiniteMetricsAndSummariesAreErrors) {
  const std::string dir = data::TestDir("run_dir_nan");
  RunDir run = RunDir::Open(dir, {}, RunDirOptions{}).value();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const absl::Status row = run.AppendMetrics({{"step", 7}, {"loss", nan}});
  EXPECT_EQ(row.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(row.message()), HasSubstr("loss is nan at step 7"));
  EXPECT_FALSE(data::FileExists(run.File("metrics.csv")));
  EXPECT_TRUE(run.AppendMetrics({{"run", 0}, {"auc0", nan}}, /*may_be_undefined=*/{"auc0"}).ok());
  const absl::Status summary = run.WriteSummary({{"test", {{"kl", INFINITY}}}});
  EXPECT_THAT(std::string(summary.message()), HasSubstr("summary test.kl: inf"));
  EXPECT_FALSE(data::FileExists(run.File("summary.json")));
}

// Reproducer 12: temporaries of a failed write do not outlive the run that left them.
TEST(RunDir, LeftoverTemporariesAreRemoved) {
  const std::string dir = data::TestDir("run_dir_tmp");
  ASSERT_TRUE(data::MakeDirs(dir).ok());
  ASSERT_TRUE(data::WriteFileAtomically(dir + "/figure.svg.tmp", "half a figure").ok());
  ASSERT_TRUE(RunDir::Open(dir, {}, RunDirOptions{}).ok());
  EXPECT_FALSE(data::FileExists(dir + "/figure.svg.tmp"));
}

// The first row after a resume drops the killed run's rows from its key on; later rows append.
TEST(ResumableMetrics, FirstRowAfterResumeReplacesTheRepeatedEpochs) {
  const std::string dir = data::TestDir("resumable_metrics");
  {
    auto run = RunDir::Open(dir, {}).value();
    ResumableMetrics first(run, "epoch", /*resume=*/false);
    for (int e = 1; e <= 4; ++e) ASSERT_TRUE(first.Append(e, {{"loss", 1.0 / e}}).ok());
  }
  auto resumed_run = RunDir::Open(dir, {}, /*resume=*/true).value();
  ResumableMetrics resumed(resumed_run, "epoch", /*resume=*/true);  // checkpoint after epoch 2
  ASSERT_TRUE(resumed.Append(3, {{"loss", 0.3}}).ok());
  ASSERT_TRUE(resumed.Append(4, {{"loss", 0.2}}).ok());
  EXPECT_EQ(Read(dir + "/metrics.csv"), "epoch,loss\n1,1\n2,0.5\n3,0.3\n4,0.2\n");
}

}  // namespace
}  // namespace common::train
