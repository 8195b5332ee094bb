#include "common/dist/process_group.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>

#include "common/dist/testing.h"

namespace common::dist {
namespace {

using Env = std::map<std::string, std::string>;

absl::StatusOr<LaunchInfo> FromEnv(const Env& env) {
  return LaunchInfoFromEnvironment([&env](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(LaunchInfo, NoLauncherIsOneProcess) {
  const absl::StatusOr<LaunchInfo> info = FromEnv({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->world_size, 1);  // a batch script's own process is not a rank of a step
  EXPECT_EQ(info->rank, 0);
  EXPECT_EQ(info->launcher, "");
}

TEST(LaunchInfo, Torchrun) {
  const absl::StatusOr<LaunchInfo> info = FromEnv({{"RANK", "3"},
                                                   {"WORLD_SIZE", "4"},
                                                   {"LOCAL_RANK", "1"},
                                                   {"MASTER_ADDR", "node7"},
                                                   {"MASTER_PORT", "29400"},
                                                   {"TORCHELASTIC_RUN_ID", "none"},
                                                   {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                                                   {"TORCHELASTIC_RESTART_COUNT", "2"}});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rank, 3);
  EXPECT_EQ(info->world_size, 4);
  EXPECT_EQ(info->local_rank, 1);
  EXPECT_EQ(info->master_addr, "node7");
  EXPECT_EQ(info->master_port, 29400);
  EXPECT_EQ(info->launcher, "torchrun");
  EXPECT_TRUE(info->agent_store);
  EXPECT_EQ(info->store_prefix, "/worker/attempt_2");
}

TEST(LaunchInfo, Srun) {
  const absl::StatusOr<LaunchInfo> info = FromEnv({{"SLURM_PROCID", "1"},
                                                   {"SLURM_STEP_NUM_TASKS", "2"},
                                                   {"SLURM_LOCALID", "1"},
                                                   {"SLURM_STEP_NODELIST", "gpu[07-09],cpu1"},
                                                   {"SLURM_JOB_ID", "12345"},
                                                   {"SLURM_STEP_ID", "3"}});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rank, 1);
  EXPECT_EQ(info->world_size, 2);
  EXPECT_EQ(info->master_addr, "gpu07");
  EXPECT_EQ(info->master_port, 10000 + (12345 * 16 + 3) % 20000);
  EXPECT_EQ(info->launcher, "srun");
  EXPECT_FALSE(info->agent_store);
}

TEST(LaunchInfo, MalformedVariablesAreOneError) {
  absl::StatusOr<LaunchInfo> info = FromEnv({{"WORLD_SIZE", "2"}, {"RANK", "two"}});
  EXPECT_EQ(info.status().message(), "distributed launch: $RANK='two' is not an integer >= 0");
  info = FromEnv({{"WORLD_SIZE", "2"}, {"RANK", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}});
  EXPECT_EQ(info.status().message(), "distributed launch: rank 2 is not below the world size 2");
  info = FromEnv({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "29500"}});
  EXPECT_EQ(info.status().message(), "distributed launch: $MASTER_ADDR is not set");
  info = FromEnv({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "h"}});
  EXPECT_EQ(info.status().message(), "distributed launch: $MASTER_PORT is not set");
}

TEST(FirstHostOfNodeList, SlurmSyntax) {
  EXPECT_EQ(*FirstHostOfNodeList("node1"), "node1");
  EXPECT_EQ(*FirstHostOfNodeList("node1,node2"), "node1");
  EXPECT_EQ(*FirstHostOfNodeList("node[03-05,9],gpu1"), "node03");
  EXPECT_EQ(*FirstHostOfNodeList("rack[2,4]-n[1-3]"), "rack2-n[1-3]");  // first bracket only
  EXPECT_FALSE(FirstHostOfNodeList("").ok());
  EXPECT_FALSE(FirstHostOfNodeList("[1-2]").ok());
  EXPECT_FALSE(FirstHostOfNodeList("node[1-2").ok());
}

TEST(ShardRange, CoversTheBatchInRankOrder) {
  for (int64_t n : {0, 1, 5, 7, 64}) {
    for (int world : {1, 2, 3, 8}) {
      int64_t next = 0;
      for (int r = 0; r < world; ++r) {
        const auto [begin, end] = ShardRange(n, r, world);
        EXPECT_EQ(begin, next);
        EXPECT_LE(end - begin, n / world + 1);
        EXPECT_GE(end - begin, n / world);
        next = end;
      }
      EXPECT_EQ(next, n);
    }
  }
}

TEST(ProcessGroup, OneProcessChangesNothing) {
  ProcessGroup one;
  std::vector<torch::Tensor> t = {torch::tensor({1.5, 2.0})};
  ASSERT_TRUE(one.AllReduceSum(t).ok());
  EXPECT_TRUE(torch::equal(t[0], torch::tensor({1.5, 2.0})));
  EXPECT_EQ(*one.SumDoubles({3.0}), std::vector<double>{3.0});
  EXPECT_TRUE(torch::equal(one.Shard(torch::arange(5)), torch::arange(5)));
  EXPECT_TRUE(one.CheckSameConfig({{"lr", 1}}).ok());
  EXPECT_EQ(one.Agree(absl::NotFoundError("x")).message(), "x");
}

// The body of each rank of the tests below; the parent test reads the exit code and output.
TEST(ProcessGroupRank, Collectives) {
  if (!InSpawnedRank()) GTEST_SKIP() << "runs as a rank of ProcessGroup.Collectives";
  absl::StatusOr<ProcessGroup*> world = World();
  ASSERT_TRUE(world.ok()) << world.status();
  ProcessGroup& g = **world;
  const int r = g.rank(), w = g.world_size();
  ASSERT_EQ(w, 3);
  // Sum over ranks of (r + 1) * [1, 2]: closed form w (w + 1) / 2 * [1, 2].
  std::vector<torch::Tensor> t = {torch::tensor({1.0f, 2.0f}) * (r + 1), torch::ones({3}) * r};
  ASSERT_TRUE(g.AllReduceSum(t).ok());
  EXPECT_TRUE(torch::equal(t[0], torch::tensor({6.0f, 12.0f}))) << t[0];
  EXPECT_TRUE(torch::equal(t[1], torch::ones({3}) * 3)) << t[1];
  EXPECT_EQ(*g.SumDoubles({0.5 * r, 1.0}), (std::vector<double>{1.5, 3.0}));
  std::vector<torch::Tensor> b = {torch::full({2, 2}, r + 10.0)};
  ASSERT_TRUE(g.Broadcast(b, /*root=*/2).ok());
  EXPECT_TRUE(torch::equal(b[0], torch::full({2, 2}, 12.0)));
  // Modules: rank 0's parameters and buffers everywhere.
  torch::manual_seed(r);
  torch::nn::Sequential net(torch::nn::Linear(3, 4), torch::nn::BatchNorm1d(4));
  net->named_buffers()["1.running_mean"].fill_(r);
  ASSERT_TRUE(g.BroadcastModule(*net).ok());
  torch::manual_seed(0);
  torch::nn::Linear rank0(3, 4);
  EXPECT_TRUE(torch::equal(net->named_parameters()["0.weight"], rank0->weight));
  EXPECT_TRUE(torch::equal(net->named_buffers()["1.running_mean"], torch::zeros({4})));
  // Rows: rank r holds r rows of value r.
  const absl::StatusOr<torch::Tensor> rows = g.AllGatherRows(torch::full({r, 2}, r));
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_TRUE(torch::equal(*rows, torch::tensor({{1, 1}, {2, 2}, {2, 2}}).to(rows->dtype())));
  EXPECT_TRUE(torch::equal(g.Shard(torch::arange(7)),
                           torch::arange(7).slice(0, r * 7 / 3, (r + 1) * 7 / 3)));
  // Agree: rank 1's error reaches the others, with its code.
  const absl::Status agreed = g.Agree(r == 1 ? absl::NotFoundError("no data") : absl::OkStatus());
  EXPECT_EQ(agreed.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(agreed.message(), r == 1 ? "no data" : "rank 1 of 3: no data");
  EXPECT_TRUE(g.Agree(absl::OkStatus()).ok());
}

TEST(ProcessGroup, Collectives) {
  const std::vector<RankResult> ranks = SpawnRanks(3, "ProcessGroupRank.Collectives");
  for (size_t r = 0; r < ranks.size(); ++r) {
    EXPECT_EQ(ranks[r].exit_code, 0) << "rank " << r << ":\n" << ranks[r].output;
    EXPECT_NE(ranks[r].output.find("[  PASSED  ] 1 test"), std::string::npos) << ranks[r].output;
  }
}

TEST(ProcessGroupRank, DifferentConfigs) {
  if (!InSpawnedRank()) GTEST_SKIP() << "runs as a rank of ProcessGroup.DifferentConfigs";
  ProcessGroup& g = **World();
  const nlohmann::json config = {{"lr", g.rank() == 1 ? "0.1" : "0.05"},
                                 {"epochs", "3"},
                                 {"threads", std::to_string(g.rank())}};  // outside the identity
  const absl::Status status = g.CheckSameConfig(config);
  EXPECT_EQ(status.message(),
            "the ranks were started with different flags; rank 1 against rank 0: --lr=0.05 (now "
            "0.1)");
}

TEST(ProcessGroup, DifferentConfigsStopEveryRank) {
  const std::vector<RankResult> ranks = SpawnRanks(2, "ProcessGroupRank.DifferentConfigs");
  for (const RankResult& r : ranks) EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(ProcessGroupRank, OneRankDies) {
  if (!InSpawnedRank()) GTEST_SKIP() << "runs as a rank of ProcessGroup.ADeadRankEndsTheOthers";
  ProcessGroup& g = **World();
  std::vector<torch::Tensor> t = {torch::ones({4})};
  ASSERT_TRUE(g.AllReduceSum(t).ok());
  if (g.rank() == 1) std::_Exit(3);  // as if killed
  const absl::Status status = g.AllReduceSum(t);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("distributed: all-reduce failed on rank 0 of 2 (another rank "
                                  "stopped"),
            std::string::npos)
      << status;
  std::_Exit(status.ok() ? 0 : 7);
}

TEST(ProcessGroup, ADeadRankEndsTheOthers) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<RankResult> ranks = SpawnRanks(2, "ProcessGroupRank.OneRankDies", {}, 60);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(ranks[1].exit_code, 3) << ranks[1].output;
  EXPECT_EQ(ranks[0].exit_code, 7) << ranks[0].output;  // the error, not a hang
  EXPECT_LT(seconds, 30);
}

}  // namespace
}  // namespace common::dist
