#include "weightnorm_init/sweep_runner.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace weightnorm_init {
namespace {

// A stand-in for the train binary: writes summary.json with test_acc = depth into its
// --out_dir, counts its starts in <dir>/starts, and fails for --init=broken.
std::string FakeTrain(const std::string& dir) {
  const std::string path = dir + "/fake_train.sh";
  std::ofstream(path)
      << "#!/bin/sh\n"
         "for a in \"$@\"; do case $a in\n"
         "  --out_dir=*) out=${a#--out_dir=};; --num_layers=*) d=${a#--num_layers=};;\n"
         "  --init=broken) echo broken >&2; exit 3;; esac; done\n"
         "echo x >> "
      << dir
      << "/starts\n"
         "printf '{\"test_acc\": %s, \"diverged\": false}' $d > $out/summary.json\n";
  chmod(path.c_str(), 0755);
  return path;
}

int Lines(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) ++n;
  return n;
}

TEST(DepthSweep, RunsEveryConfigurationOnceAndCollectsTheResults) {
  const std::string dir = ::testing::TempDir() + "/sweep";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  SweepOptions o;
  o.train_binary = FakeTrain(dir), o.dir = dir, o.depths = {2, 50}, o.inits = {"a", "b"},
  o.seeds = 2, o.jobs = 3;
  const std::vector<SweepRun> runs = PlanSweep(o);
  ASSERT_EQ(runs.size(), 8u);
  EXPECT_THAT(runs[0].argv, ::testing::Contains("--num_layers=2"));
  ASSERT_TRUE(ExecuteSweep(o, runs).ok());
  EXPECT_EQ(Lines(dir + "/starts"), 8);
  ASSERT_TRUE(ExecuteSweep(o, runs).ok());  // everything done: nothing restarts
  EXPECT_EQ(Lines(dir + "/starts"), 8);
  const auto results = CollectSweep(runs);
  ASSERT_TRUE(results.ok()) << results.status();
  for (const SweepResult& r : *results)
    EXPECT_DOUBLE_EQ(r.test_acc, static_cast<double>(r.run.depth));
  ASSERT_TRUE(WriteSweepReport(o, *results).ok());
  EXPECT_EQ(Lines(dir + "/depth_sweep.csv"), 9);
}

TEST(DepthSweep, AFailingRunIsReportedWithItsLog) {
  const std::string dir = ::testing::TempDir() + "/sweep_fail";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  SweepOptions o;
  o.train_binary = FakeTrain(dir), o.dir = dir, o.depths = {3}, o.inits = {"broken", "ok"};
  const std::vector<SweepRun> runs = PlanSweep(o);
  const absl::Status s = ExecuteSweep(o, runs);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("1 runs failed"));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("broken_depth3_seed0/log.txt"));
  EXPECT_FALSE(CollectSweep(runs).ok());  // the broken run has no summary
}

}  // namespace
}  // namespace weightnorm_init
