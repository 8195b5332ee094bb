#include "weightnorm_init/depth_sweep_experiment.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/sweep/local_runner.h"
#include "common/sweep/sweep_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace weightnorm_init {
namespace {

using ::common::sweep::testing::CountLines;
using ::common::sweep::testing::FreshDir;
using ::common::sweep::testing::ReadAll;
using ::testing::HasSubstr;

// A stand-in for the train binary: writes summary.json with test_acc = depth / 100 + seed / 1000
// into its --out_dir, appends its arguments to <dir>/starts, and fails for --init=broken.
std::string FakeTrain(const std::string& dir) {
  const std::string path = dir + "/fake_train.sh";
  std::ofstream(path)
      << "#!/bin/sh\n"
         "echo \"$@\" >> "
      << dir
      << "/starts\n"
         "for a in \"$@\"; do case $a in\n"
         "  --out_dir=*) out=${a#--out_dir=};; --num_layers=*) d=${a#--num_layers=};;\n"
         "  --seed=*) s=${a#--seed=};; --init=broken) echo broken >&2; exit 3;; esac; done\n"
         "mkdir -p $out && echo '{}' > $out/config.json\n"
         "printf '{\"test_acc\": %s.%s, \"diverged\": false}' $((d / 100)) "
         "$(printf %02d%d $((d % 100)) $s) > $out/summary.json\n";
  chmod(path.c_str(), 0755);
  return path;
}

TEST(DepthSweep, RunsEveryConfigurationOnceAndCollectsTheResults) {
  const std::string dir = FreshDir("sweep");
  DepthSweepOptions o;
  o.train_binary = FakeTrain(dir), o.dir = dir + "/out", o.depths = {2, 50}, o.inits = {"a", "b"};
  o.seeds = 2, o.train_args = {"--epochs=1"};
  const common::sweep::Sweep sweep = PlanDepthSweep(o);
  ASSERT_EQ(sweep.runs.size(), 8u);
  EXPECT_EQ(sweep.runs[3].name, "a_depth50_seed1");
  EXPECT_THAT(sweep.runs[3].argv, ::testing::Contains("--num_layers=50"));
  common::sweep::LocalRunner runner(3);
  const auto results = RunDepthSweep(o, runner);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(CountLines(dir + "/starts"), 8);
  ASSERT_EQ(results->size(), 8u);
  for (const DepthResult& r : *results) {
    EXPECT_DOUBLE_EQ(r.test_acc, r.run.depth / 100.0 + r.run.seed / 1000.0) << r.run.dir;
  }
  EXPECT_EQ((*results)[5].run.init, "b");
  EXPECT_EQ((*results)[5].run.depth, 2);
  EXPECT_EQ((*results)[5].run.seed, 1);
  EXPECT_EQ(CountLines(o.dir + "/depth_sweep.csv"), 9);
  // Every run got the train flags and the runner's thread count.
  std::ifstream starts(dir + "/starts");
  for (std::string line; std::getline(starts, line);) {
    EXPECT_THAT(line, HasSubstr("--weight_norm"));
    EXPECT_THAT(line, HasSubstr("--epochs=1"));
    EXPECT_THAT(line, HasSubstr(absl::StrCat("--threads=", common::sweep::WorkerThreads(3))));
  }
  ASSERT_TRUE(RunDepthSweep(o, runner).ok());  // everything done: nothing restarts
  EXPECT_EQ(CountLines(dir + "/starts"), 8);
}

TEST(DepthSweep, AFailingRunIsReportedWithItsLogAndResumedNextTime) {
  const std::string dir = FreshDir("sweep_fail");
  DepthSweepOptions o;
  o.train_binary = FakeTrain(dir), o.dir = dir + "/out", o.depths = {3}, o.inits = {"broken", "ok"};
  common::sweep::LocalRunner runner(1);
  const auto s = RunDepthSweep(o, runner);
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("1 of 2 runs did not finish: broken_depth3_seed0 (failed, exit status 3)"));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("broken_depth3_seed0/log.txt"));
  // The failed run had started (the fake wrote no config.json before failing: a fresh start);
  // a run with a config.json and no summary is continued with --resume.
  std::filesystem::create_directories(o.dir + "/broken_depth3_seed0");
  std::ofstream(o.dir + "/broken_depth3_seed0/config.json") << "{}";
  EXPECT_FALSE(RunDepthSweep(o, runner).ok());
  std::ifstream starts(dir + "/starts");
  std::string line, last;
  while (std::getline(starts, line)) last = line;
  EXPECT_THAT(last, HasSubstr("--init=broken"));
  EXPECT_THAT(last, HasSubstr("--resume"));
  EXPECT_EQ(CountLines(dir + "/starts"), 3);  // "ok" ran once
}

TEST(DepthSweep, OptionErrorsNameTheFlag) {
  DepthSweepOptions o;
  o.nn = "rnn";
  EXPECT_THAT(std::string(Validate(o).message()), HasSubstr("--nn must be mlp or cnn"));
  o.nn = "mlp", o.depths = {2, 0};
  EXPECT_THAT(std::string(Validate(o).message()), HasSubstr("--depths: 0"));
  o.depths = {2}, o.seeds = 0;
  EXPECT_THAT(std::string(Validate(o).message()), HasSubstr("--seeds"));
}

}  // namespace
}  // namespace weightnorm_init
