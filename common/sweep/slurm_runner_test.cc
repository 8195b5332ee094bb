#include "common/sweep/slurm_runner.h"

#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sweep/local_runner.h"
#include "common/sweep/sweep_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::sweep {
namespace {

using testing::CountLines;
using testing::FreshDir;
using ::testing::HasSubstr;
using testing::ProbeSweep;
using testing::ReadAll;

// The "value" field of a probe's summary.json.
std::string ValueOf(const Run& run) {
  const std::string json = ReadAll(run.dir + "/summary.json");
  const size_t at = json.find("\"value\": ");
  return at == std::string::npos ? "" : json.substr(at, json.find(',', at) - at);
}

SlurmOptions FastPolling() {
  SlurmOptions o;
  o.job_name = "sweep_test";
  o.poll_seconds = 0.2;
  return o;
}

// Without Slurm: the job script, run by bash as Slurm would run each array task, gives the local
// runner's results, passes arguments with spaces and quotes intact, and records exit statuses.
TEST(SlurmJobScript, EachTaskRunsItsRunAsTheLocalRunnerDoes) {
  const std::string dir = FreshDir("script");
  Sweep local = ProbeSweep(dir + "/local", 3), script = ProbeSweep(dir + "/script", 3);
  for (Sweep* s : {&local, &script}) s->runs[1].argv.push_back("--hold=" + dir + "/no such 'file'");
  script.runs[2].argv.push_back("--fail");
  ASSERT_TRUE(LocalRunner(1).Execute(local).ok());
  std::vector<const common::sweep::Run*> runs;
  for (const auto& r : script.runs) runs.push_back(&r);
  const std::string path = dir + "/array.sh";
  std::ofstream(path) << SlurmRunner(FastPolling()).JobScript(runs);
  for (int i = 0; i < 3; ++i) {
    const std::string cmd =
        absl::StrCat("SLURM_ARRAY_TASK_ID=", i, " SLURM_CPUS_PER_TASK=2 bash ", path);
    EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), i == 2 ? 3 : 0) << cmd;
  }
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(ValueOf(script.runs[i]), ValueOf(local.runs[i]));
    EXPECT_NE(ValueOf(script.runs[i]), "");
    EXPECT_THAT(ReadAll(script.runs[i].dir + "/summary.json"), HasSubstr("\"threads\": 2"));
  }
  EXPECT_EQ(StateOf(script.runs[2]), RunState::kFailed);
  EXPECT_EQ(ReadAll(ExitStatusPath(script.runs[2])), "3\n");
  EXPECT_NE(std::system(absl::StrCat("SLURM_ARRAY_TASK_ID=7 bash ", path, " 2>/dev/null").c_str()),
            0);
}

// A one-node Slurm cluster (common/sweep/slurm_cluster.sh) for the whole suite; the tests skip
// with the script's reason when Slurm or munge is not installed or this is not root.
class RealSlurm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/slurm.XXXXXX";  // short: slurmd's sockets live under it
    cluster_dir_ = mkdtemp(tmpl);
    const std::string script = testing::ProbePath();
    const std::string start = absl::StrCat(script.substr(0, script.rfind('/')),
                                           "/slurm_cluster.sh start ", cluster_dir_, " 2>&1");
    FILE* out = popen(start.c_str(), "r");
    char buf[512];
    std::string text;
    while (out && fgets(buf, sizeof(buf), out)) text += buf;
    const int rc = out ? pclose(out) : -1;
    if (rc != 0) {
      skip_reason_ = text.empty() ? "slurm_cluster.sh failed" : text;
      return;
    }
    setenv("SLURM_CONF", (cluster_dir_ + "/slurm.conf").c_str(), 1);
  }
  static void TearDownTestSuite() {
    const std::string script = testing::ProbePath();
    std::system(
        absl::StrCat(script.substr(0, script.rfind('/')), "/slurm_cluster.sh stop ", cluster_dir_)
            .c_str());
    std::filesystem::remove_all(cluster_dir_);
  }
  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << "no Slurm cluster: " << skip_reason_;
  }
  static std::string cluster_dir_, skip_reason_;
};
std::string RealSlurm::cluster_dir_, RealSlurm::skip_reason_;

TEST_F(RealSlurm, JobArrayGivesTheLocalRunnersResults) {
  const std::string dir = FreshDir("slurm_equal");
  Sweep local = ProbeSweep(dir + "/local", 4), slurm = ProbeSweep(dir + "/slurm", 4);
  ASSERT_TRUE(LocalRunner(2).Execute(local).ok());
  // Submitted without waiting, then collected by a waiting call that does not submit again.
  SlurmOptions no_wait = FastPolling();
  no_wait.wait = false;
  const absl::Status submitted = SlurmRunner(no_wait).Execute(slurm);
  EXPECT_EQ(submitted.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(submitted.message()), HasSubstr("not finished yet: submitted slurm job"));
  const std::string job = LastJobId(slurm);
  SlurmRunner runner(FastPolling());
  const absl::Status s = runner.Execute(slurm);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(LastJobId(slurm), job);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(ValueOf(slurm.runs[i]), ValueOf(local.runs[i])) << i;
    EXPECT_THAT(ReadAll(slurm.runs[i].dir + "/summary.json"), HasSubstr("\"threads\": 1"));
    EXPECT_EQ(CountLines(slurm.runs[i].dir + "/attempts"), 1);
  }
  EXPECT_FALSE(job.empty());
  EXPECT_TRUE(runner.Execute(slurm).ok());  // all finished: nothing submitted
  for (const auto& r : slurm.runs) EXPECT_EQ(CountLines(r.dir + "/attempts"), 1);
}

TEST_F(RealSlurm, ResubmissionRerunsOnlyTheKilledTask) {
  const std::string dir = FreshDir("slurm_kill");
  const std::string hold = dir + "/hold";
  std::ofstream(hold) << "x";
  Sweep sweep = ProbeSweep(dir + "/sweep", 4);
  sweep.runs[2].argv.push_back("--hold=" + hold);
  SlurmRunner runner(FastPolling());
  absl::Status first;
  std::thread submit([&] { first = runner.Execute(sweep); });
  // Task 2 is the third unfinished run; kill it once it has started.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (CountLines(sweep.runs[2].dir + "/attempts") == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(CountLines(sweep.runs[2].dir + "/attempts"), 1);
  const std::string job = LastJobId(sweep);
  EXPECT_EQ(std::system(absl::StrCat("scancel ", job, "_2").c_str()), 0);
  submit.join();
  // Killed with its wrapper ("killed or still running") or after it ("failed, exit status 143").
  EXPECT_THAT(std::string(first.message()), HasSubstr("1 of 4 runs did not finish: seed2 ("));
  EXPECT_THAT(std::string(first.message()), HasSubstr(sweep.runs[2].dir + "/log.txt"));

  std::filesystem::remove(hold);
  const absl::Status second = runner.Execute(sweep);
  ASSERT_TRUE(second.ok()) << second;
  EXPECT_NE(LastJobId(sweep), job);
  const std::string script = ReadAll(sweep.dir + "/.sweep/slurm_array.sh");
  EXPECT_THAT(script, HasSubstr("  0)  # seed2\n"));
  EXPECT_THAT(script, ::testing::Not(HasSubstr("  1)  #")));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(CountLines(sweep.runs[i].dir + "/attempts"), i == 2 ? 2 : 1) << i;
  }
}

TEST_F(RealSlurm, SbatchRefusalIsOneLine) {
  SlurmOptions o = FastPolling();
  o.sbatch_args = {"--partition=no_such_partition"};
  const absl::Status s = SlurmRunner(o).Execute(ProbeSweep(FreshDir("slurm_refused"), 1));
  EXPECT_THAT(std::string(s.message()), HasSubstr("sbatch failed"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("no_such_partition"));
  EXPECT_EQ(std::string(s.message()).find('\n'), std::string::npos);
}

}  // namespace
}  // namespace common::sweep
