#include "common/util/process_pool.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::util {
namespace {

int Lines(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) ++n;
  return n;
}

TEST(ProcessPool, RunsPendingJobsSkipsDoneOnesAndReportsFailures) {
  const std::string dir = ::testing::TempDir() + "/pool";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // Each job appends to `starts` and creates its done file; job "3" fails.
  const std::string script = dir + "/job.sh";
  std::ofstream(script) << "#!/bin/sh\necho $1 >> " << dir
                        << "/starts\n[ $1 = 3 ] && exit 2\ntouch " << dir << "/done_$1\n";
  chmod(script.c_str(), 0755);
  std::vector<ProcessJob> jobs;
  for (int i = 0; i < 5; ++i) {
    const std::string id = std::to_string(i);
    jobs.push_back({{script, id}, dir + "/logs/" + id + ".txt", dir + "/done_" + id});
  }
  std::ofstream(dir + "/done_0").put('x');  // already done
  const absl::Status s = RunProcessPool(jobs, 3);
  EXPECT_THAT(std::string(s.message()),
              ::testing::HasSubstr("1 runs failed; see " + dir + "/logs/3.txt"));
  EXPECT_EQ(Lines(dir + "/starts"), 4);
  EXPECT_FALSE(RunProcessPool(jobs, 2).ok());  // only the failed job runs again
  EXPECT_EQ(Lines(dir + "/starts"), 5);
  EXPECT_FALSE(RunProcessPool({{{"/nonexistent/binary"}, dir + "/x.txt", ""}}, 1).ok());
  EXPECT_FALSE(RunProcessPool(jobs, 0).ok());
}

}  // namespace
}  // namespace common::util
