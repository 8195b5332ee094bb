// For tests of data-parallel code: the test binary starts copies of itself as the ranks of a job
// on localhost, with the variables torchrun sets (the parent hosts the store, as torchrun's agent
// does), each running one test of the binary.
//
// Example:
//   TEST(DataParallel, Rank) {  // the body of each rank
//     if (!common::dist::InSpawnedRank()) GTEST_SKIP() << "runs as a rank of TwoRanksMatch";
//     ... train, write weights to $RANK_OUT_DIR ...
//   }
//   TEST(DataParallel, TwoRanksMatch) {
//     const auto ranks = common::dist::SpawnRanks(2, "DataParallel.Rank", {"RANK_OUT_DIR=" + dir});
//     for (const auto& r : ranks) ASSERT_EQ(r.exit_code, 0) << r.output;
//     ... compare with a one-process run ...
//   }
#ifndef COMMON_DIST_TESTING_H_
#define COMMON_DIST_TESTING_H_

#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

namespace common::dist {

struct RankResult {
  int exit_code = -1;  // -1: killed at the timeout; 128 + n: ended by signal n
  std::string output;  // stdout and stderr
};

// Runs this binary `world_size` times with --gtest_filter=`test_filter`, RANK / WORLD_SIZE /
// LOCAL_RANK / MASTER_ADDR / MASTER_PORT / TORCHELASTIC_USE_AGENT_STORE set and `env`
// ("NAME=value") added; waits for all, killing them after `timeout_s`.
std::vector<RankResult> SpawnRanks(int world_size, const std::string& test_filter,
                                   const std::vector<std::string>& env = {},
                                   double timeout_s = 120);

// The same with `args` in place of the test filter (for binaries other than tests).
std::vector<RankResult> SpawnSelf(int world_size, const std::vector<std::string>& args,
                                  const std::vector<std::string>& env = {}, double timeout_s = 120);

// True in a process started by SpawnRanks or SpawnSelf.
bool InSpawnedRank();

// Where two state dicts (e.g. a data-parallel run's and one process's) differ: a line per name
// that only one holds or whose tensors are not allclose(rtol, atol), with the largest |diff|;
// empty when they agree.  EXPECT_EQ(StateDictDifferences(one, two), "");
std::string StateDictDifferences(const std::map<std::string, torch::Tensor>& a,
                                 const std::map<std::string, torch::Tensor>& b, double rtol = 1e-4,
                                 double atol = 1e-5);

}  // namespace common::dist

#endif  // COMMON_DIST_TESTING_H_
