#include "common/dist/independent_runs.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "common/dist/testing.h"
#include "common/train/checkpoint.h"

namespace common::dist {
namespace {

// Run k's result in closed form: (k % 3) + 1 values 10 k, 10 k + 1, ... (rows of unequal length).
torch::Tensor Expected(int64_t k) {
  return torch::arange(k % 3 + 1, torch::kFloat64) + 10.0 * static_cast<double>(k);
}

// The runs of a job: records which runs this process computed in `calls`, fails run `fail`.
struct Job {
  int64_t fail = -1;
  std::vector<int64_t> calls;
  absl::StatusOr<torch::Tensor> operator()(int64_t k) {
    calls.push_back(k);
    if (k == fail) return absl::InternalError(absl::StrCat("run ", k, " failed"));
    return Expected(k);
  }
};

TEST(RunIndependently, OneProcessRecordsAndResumes) {
  ProcessGroup one;
  const std::string path = data::TestDir("one") + "/runs.pt";
  Job job;
  IndependentRunsOptions o{5, path, false};
  std::vector<int64_t> recorded;
  o.on_recorded = [&](int64_t k, const torch::Tensor& row) {
    recorded.push_back(k);
    EXPECT_TRUE(torch::equal(row, Expected(k)));
  };
  absl::StatusOr<std::vector<torch::Tensor>> rows =
      RunIndependently(one, o, [&](int64_t k) { return job(k); });
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 5u);
  for (int64_t k = 0; k < 5; ++k) EXPECT_TRUE(torch::equal((*rows)[k], Expected(k))) << k;
  EXPECT_EQ(recorded, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(train::LoadTensorMap(path)->size(), 5u);

  // Resumed with every run recorded: nothing runs, the rows come from the file.
  o.resume = true;
  Job again;
  rows = RunIndependently(one, o, [&](int64_t k) { return again(k); });
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_TRUE(again.calls.empty());
  ASSERT_EQ(rows->size(), 5u);
  EXPECT_TRUE(torch::equal((*rows)[4], Expected(4)));

  // A record that is not runs 0..d-1 of this job is refused, not continued.
  ASSERT_TRUE(train::SaveTensorMap(path, {{"run_0", Expected(0)}, {"run_2", Expected(2)}}).ok());
  rows = RunIndependently(one, o, [&](int64_t k) { return again(k); });
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(rows.status().message().find("another job's record"), std::string::npos)
      << rows.status();
  EXPECT_TRUE(again.calls.empty());
}

TEST(RunIndependently, ARunsErrorStopsTheJobAndIsReturned) {
  ProcessGroup one;
  Job job;
  job.fail = 2;
  const absl::StatusOr<std::vector<torch::Tensor>> rows =
      RunIndependently(one, {4, "", false}, [&](int64_t k) { return job(k); });
  EXPECT_EQ(rows.status().message(), "run 2 failed");
  EXPECT_EQ(job.calls, (std::vector<int64_t>{0, 1, 2}));
}

// The body of each rank of the test below: 7 runs, RUNS_FAIL fails, RUNS_RESUME resumes; writes
// the runs it computed to calls_<rank> and the outcome to stdout.
TEST(IndependentRunsRank, Job) {
  if (!InSpawnedRank()) GTEST_SKIP() << "runs as a rank of RunIndependently.*";
  ProcessGroup& world = **World();
  const std::string dir = std::getenv("RUNS_DIR");
  Job job;
  job.fail = std::atoi(std::getenv("RUNS_FAIL"));
  const IndependentRunsOptions o{7, dir + "/runs.pt", std::getenv("RUNS_RESUME")[0] == '1'};
  const absl::StatusOr<std::vector<torch::Tensor>> rows =
      RunIndependently(world, o, [&](int64_t k) { return job(k); });
  std::string calls;
  for (int64_t k : job.calls) absl::StrAppend(&calls, k, " ");
  ASSERT_TRUE(data::WriteFileAtomically(absl::StrCat(dir, "/calls_", world.rank()), calls).ok());
  std::printf("outcome: %s\n", rows.ok() ? "ok" : std::string(rows.status().message()).c_str());
  if (!rows.ok()) return;
  ASSERT_EQ(rows->size(), world.is_main() ? 7u : 0u);
  for (size_t k = 0; k < rows->size(); ++k) {
    EXPECT_TRUE(torch::equal((*rows)[k], Expected(static_cast<int64_t>(k)))) << k;
  }
}

std::string Calls(const std::string& dir, int rank) {
  return data::ReadFileBytes(absl::StrCat(dir, "/calls_", rank)).value_or("missing");
}

TEST(RunIndependently, ThreeRanksFailInARoundThenTwoRanksResume) {
  const std::string dir = data::TestDir("ranks");
  // Rounds of 3: runs 0 1 2, then 3 4 5 (rank 1's run 4 fails: the round is not recorded).
  std::vector<RankResult> ranks =
      SpawnRanks(3, "IndependentRunsRank.Job", {"RUNS_DIR=" + dir, "RUNS_FAIL=4", "RUNS_RESUME=0"});
  for (const RankResult& r : ranks) ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(ranks[1].output.find("outcome: run 4 failed"), std::string::npos) << ranks[1].output;
  EXPECT_NE(ranks[0].output.find("outcome: rank 1 of 3: run 4 failed"), std::string::npos)
      << ranks[0].output;
  EXPECT_EQ(Calls(dir, 0), "0 3 ");
  EXPECT_EQ(Calls(dir, 1), "1 4 ");
  EXPECT_EQ(Calls(dir, 2), "2 5 ");
  const train::TensorMap first = *train::LoadTensorMap(dir + "/runs.pt");
  ASSERT_EQ(first.size(), 3u);
  for (int64_t k = 0; k < 3; ++k)
    EXPECT_TRUE(torch::equal(first.at(absl::StrCat("run_", k)), Expected(k)));

  // Resumed by two ranks: runs 3..6 only, in rounds 3 4 and 5 6.
  ranks = SpawnRanks(2, "IndependentRunsRank.Job",
                     {"RUNS_DIR=" + dir, "RUNS_FAIL=-1", "RUNS_RESUME=1"});
  for (const RankResult& r : ranks) {
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("outcome: ok"), std::string::npos) << r.output;
  }
  EXPECT_EQ(Calls(dir, 0), "3 5 ");
  EXPECT_EQ(Calls(dir, 1), "4 6 ");
  EXPECT_EQ(train::LoadTensorMap(dir + "/runs.pt")->size(), 7u);
}

}  // namespace
}  // namespace common::dist
