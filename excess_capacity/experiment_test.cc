#include "excess_capacity/experiment.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "common/dist/testing.h"
#include "common/train/checkpoint.h"
#include "excess_capacity/optimizers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace excess_capacity {
namespace {

using ::testing::HasSubstr;

TEST(Margins, ReferenceTestCase) {
  // The reference's test_misc: compute_margins([[1,4,2],[2,3,1]], [1,2]) == [[-2],[2]] (negative
  // margins); ours are z_y - max_{i != y} z_i.
  const torch::Tensor m = Margins(torch::tensor({{1.0, 4.0, 2.0}, {2.0, 3.0, 1.0}}),
                                  torch::tensor({1, 2}, torch::kInt64));
  EXPECT_TRUE(torch::equal(m, torch::tensor({2.0f, -2.0f})));
}

TEST(Lars, OneStepMatchesTheTrustRatioFormula) {
  torch::Tensor p = torch::tensor({3.0, 4.0}, torch::requires_grad());  // ||p|| = 5
  Lars lars({p}, torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(0.01), /*eta=*/1e-3);
  p.mutable_grad() = torch::tensor({0.6, 0.8});  // ||g|| = 1
  lars.step();
  const double trust = 1e-3 * 5.0 / (1.0 + 0.01 * 5.0 + 1e-8);
  const torch::Tensor d = (torch::tensor({0.6, 0.8}) + 0.01 * torch::tensor({3.0, 4.0})) * trust;
  EXPECT_TRUE(torch::allclose(p.detach(), torch::tensor({3.0, 4.0}) - 0.1 * d, 1e-6, 1e-9));
}

TEST(Lamb, FirstStepMovesByLrTimesWeightNorm) {
  // Step 1: m_hat = g, v_hat = g^2 -> r = sign(g) (+ wd p); with wd = 0 the update has norm
  // lr * ||p|| (trust ratio ||p|| / ||r||).
  torch::Tensor p = torch::tensor({3.0, -4.0}, torch::requires_grad());
  Lamb lamb({p}, torch::optim::AdamOptions(0.01).eps(1e-12));
  p.mutable_grad() = torch::tensor({0.5, 2.0});
  lamb.step();
  const torch::Tensor moved = torch::tensor({3.0, -4.0}) - p.detach();
  EXPECT_NEAR(moved.norm().item<double>(), 0.01 * 5.0, 1e-6);
  EXPECT_TRUE(
      torch::allclose(moved / moved.norm(), torch::tensor({1.0, 1.0}) / std::sqrt(2.0), 1e-5));
}

ImageData TinyImages(int64_t n) {
  torch::manual_seed(0);
  // Two classes told apart by the sign of the mean intensity of the left half.
  torch::Tensor x = torch::randn({n, 1, 32, 32}) * 0.3;
  const torch::Tensor y = torch::arange(n).remainder(2);
  x.narrow(3, 0, 16).add_((y.to(torch::kFloat32) * 2 - 1).view({n, 1, 1, 1}));
  return {common::data::InMemoryDataset(x, y), common::data::InMemoryDataset(x.clone(), y.clone()),
          2, 1};
}

TEST(Train, SmallConstrainedRunLearnsAndEndsWithinConstraints) {
  TrainConfig c;
  c.arch = "simple_convnet6";
  c.n_channels = 8;
  c.epochs = 3;
  c.bs = 16;
  c.optimizer = "adam";
  c.lr = 3e-3;
  c.lip = {2.0, 1.0, -1, 1.0};
  c.dist = {5, 5, -1, 0};
  c.proj_freq = 2;
  c.out_dir = common::data::TestDir("ec_train") + "/run";
  TrainResult r = Train(c, TinyImages(96), {{"arch", c.arch}}).value();
  EXPECT_GT(r.train_accuracy, 0.9);
  EXPECT_TRUE(r.violations.empty());
  EXPECT_EQ(r.steps, 18);
  for (const char* f : {"config.json", "metrics.csv", "summary.json", "checkpoint.pt", "weights.pt",
                        "margins.csv", "margins.svg"}) {
    EXPECT_TRUE(common::data::FileExists(c.out_dir + "/" + f)) << f;
  }
  const std::string metrics = common::data::ReadFileBytes(c.out_dir + "/metrics.csv").value();
  EXPECT_THAT(metrics, HasSubstr("lip_conv1"));
  EXPECT_THAT(metrics, HasSubstr("dist_conv5"));
  const std::string summary = common::data::ReadFileBytes(c.out_dir + "/summary.json").value();
  EXPECT_THAT(summary, HasSubstr("thm35_first_paper"));
}

// Without constraints the network's constraint bound is infinite: the summary says null instead
// of refusing to be written (a regression: unconstrained runs ended without summary.json).
TEST(Train, UnconstrainedRunWritesItsSummary) {
  TrainConfig c;
  c.arch = "simple_convnet6";
  c.n_channels = 8;
  c.epochs = 1;
  c.bs = 16;
  c.out_dir = common::data::TestDir("ec_free") + "/run";
  ASSERT_TRUE(Train(c, TinyImages(32), {{"arch", c.arch}}).ok());
  const std::string summary = common::data::ReadFileBytes(c.out_dir + "/summary.json").value();
  EXPECT_THAT(summary, HasSubstr("\"lip_constraint\": null"));
  EXPECT_THAT(summary, HasSubstr("\"lip_network\""));
}

// Data-parallel: 2 ranks (processes started by the test, Gloo on localhost) train on shards of
// the same global batches as one process and end with the same weights. 41 images in batches of
// 12: the last batch (5) splits 2 / 3, so the weighting by shard size matters.
TrainConfig DataParallelConfig(const std::string& out_dir) {
  TrainConfig c;
  c.arch = "simple_convnet6";
  c.n_channels = 8;
  c.epochs = 2;
  c.bs = 12;
  c.lr = 0.05;  // SGD with momentum: optimizer state on every rank
  c.lip = {2.0, 1.0, -1, 1.0};
  c.dist = {5, 5, -1, -1};
  c.proj_freq = 2;
  c.out_dir = out_dir;
  return c;
}

TEST(DataParallelRank, Train) {
  if (!common::dist::InSpawnedRank()) GTEST_SKIP() << "runs as a rank of DataParallel.*";
  const TrainConfig c = DataParallelConfig(std::getenv("RUN_DIR"));
  const absl::StatusOr<TrainResult> r = Train(c, TinyImages(41), {{"arch", c.arch}});
  ASSERT_TRUE(r.ok()) << r.status();
}

TEST(DataParallel, TwoRanksTrainLikeOneProcess) {
  const std::string dir = common::data::TestDir("ec_dp");
  const TrainConfig one = DataParallelConfig(dir + "/one");
  const TrainResult expected = Train(one, TinyImages(41), {{"arch", one.arch}}).value();
  const std::vector<common::dist::RankResult> ranks =
      common::dist::SpawnRanks(2, "DataParallelRank.Train", {"RUN_DIR=" + dir + "/two"});
  for (const auto& r : ranks) ASSERT_EQ(r.exit_code, 0) << r.output;
  const common::train::TensorMap a = common::train::LoadTensorMap(dir + "/one/weights.pt").value();
  const common::train::TensorMap b = common::train::LoadTensorMap(dir + "/two/weights.pt").value();
  // float32 gradients summed in another order, through 8 steps with projections: 1e-5.
  EXPECT_EQ(common::dist::StateDictDifferences(a, b, 1e-4, 1e-5), "");
  const nlohmann::json summary =
      nlohmann::json::parse(common::data::ReadFileBytes(dir + "/two/summary.json").value());
  EXPECT_NEAR(summary["train_loss"].get<double>(), expected.train_loss, 1e-5);
  EXPECT_NEAR(summary["test_acc"].get<double>(), expected.test_accuracy, 1.0 / 41);
  // Rank 0 alone wrote the run: one metrics row per epoch.
  const std::string metrics = common::data::ReadFileBytes(dir + "/two/metrics.csv").value();
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 1 + one.epochs);
}

TEST(TrainConfig, ReferenceCrashesAreClearErrors) {
  TrainConfig c;
  c.lip = {1, 1, 1};
  EXPECT_THAT(std::string(Validate(c).message()), HasSubstr("take 4 values each"));
  c = TrainConfig();
  c.proj_freq = 0;
  EXPECT_THAT(std::string(Validate(c).message()), HasSubstr("--proj_freq must be >= 1"));
  c = TrainConfig();
  c.dataset = "tiny-imagenet-200";
  EXPECT_EQ(LoadImageData(c, "/nonexistent").status().code(), absl::StatusCode::kNotFound);
  c.dataset = "svhn";
  EXPECT_THAT(std::string(LoadImageData(c, "/nonexistent").status().message()),
              HasSubstr("--dataset must be"));
}

}  // namespace
}  // namespace excess_capacity
