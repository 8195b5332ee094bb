#include "weightnorm_init/training.h"

#include <signal.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "common/dist/testing.h"
#include "common/train/checkpoint.h"
#include "common/train/run_dir.h"
#include "common/util/interrupt.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace weightnorm_init {
namespace {

using ::testing::HasSubstr;

// Two classes of 1x4x4 images: label 1 when the pixel mean is positive (linearly separable).
WnData Separable(int64_t n) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn({n, 1, 4, 4});
  const torch::Tensor y = (x.mean({1, 2, 3}) > 0).to(torch::kInt64);
  WnData d;
  d.train = common::data::InMemoryDataset(x.slice(0, 0, n / 2), y.slice(0, 0, n / 2));
  d.valid =
      common::data::InMemoryDataset(x.slice(0, n / 2, 3 * n / 4), y.slice(0, n / 2, 3 * n / 4));
  d.test = common::data::InMemoryDataset(x.slice(0, 3 * n / 4), y.slice(0, 3 * n / 4));
  d.channels = 1, d.side = 4, d.classes = 2;
  return d;
}

TrainConfig SmallMlp() {
  TrainConfig c;
  c.nn = "mlp", c.hidden_size = 16, c.num_layers = 3, c.weight_norm = true;
  c.epochs = 3, c.batch_size = 32, c.lr = 0.1, c.momentum = 0.9;
  return c;
}

std::string TempDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

TEST(ScheduledLr, ReferenceSchedules) {
  EXPECT_DOUBLE_EQ(ScheduledLr(0, 0.1, 150, 200), 0.1);
  EXPECT_DOUBLE_EQ(ScheduledLr(1, 0.1, 99, 300), 0.1);
  EXPECT_NEAR(ScheduledLr(1, 0.1, 100, 300), 0.01, 1e-12);   // from E/3
  EXPECT_NEAR(ScheduledLr(1, 0.1, 200, 300), 0.001, 1e-12);  // from 2E/3
  EXPECT_NEAR(ScheduledLr(2, 0.1, 150, 200), 0.001, 1e-12);  // 3E/4
  EXPECT_NEAR(ScheduledLr(3, 0.1, 59, 200), 0.1, 1e-12);
  EXPECT_NEAR(ScheduledLr(3, 0.1, 60, 200), 0.02, 1e-12);
  EXPECT_NEAR(ScheduledLr(3, 0.1, 199, 200), 0.1 * 0.008, 1e-12);
  EXPECT_NEAR(ScheduledLr(4, 0.1, 91, 10), 0.01, 1e-12);  // absolute epochs, whatever E
  EXPECT_NEAR(ScheduledLr(5, 0.1, 136, 164), 0.001, 1e-12);
}

TEST(Validate, NamesTheFlag) {
  TrainConfig c = SmallMlp();
  c.weight_norm = false;
  c.init = "he_proposed";
  EXPECT_THAT(std::string(Validate(c).message()), HasSubstr("needs --weight_norm"));
  c = SmallMlp();
  c.mini_batch_size = 5;
  EXPECT_THAT(std::string(Validate(c).message()), HasSubstr("--mini_batch_size must divide"));
  c = SmallMlp();
  c.cutout = true;
  EXPECT_THAT(std::string(Validate(c).message()), HasSubstr("--cutout"));
  c = SmallMlp();
  c.nn = "vgg";
  EXPECT_THAT(std::string(Validate(c).message()), HasSubstr("--nn must be"));
}

// Reproducer 8 of the reliability issue: --num_layers=100000 grew past 12 GB until the kernel
// killed it. A size that cannot fit is refused before the model is built.
TEST(Train, ImpossibleSizesAreRefusedBeforeAllocation) {
  TrainConfig c = SmallMlp();
  c.num_layers = 100000000, c.hidden_size = 32;  // 400 GB of weights alone
  const auto r = Train(c, Separable(40), {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("--nn=mlp --num_layers=100000000 --hidden_size=32 --batch_size=32 needs"));
}

TEST(Train, LearnsASeparableProblemAndReportsTheBestCheckpoint) {
  const WnData data = Separable(800);
  TrainConfig c = SmallMlp();
  c.out_dir = TempDir("learn");
  const auto r = Train(c, data, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->diverged);
  EXPECT_EQ(r->epochs_done, 3);
  EXPECT_EQ(r->sgd_steps, 3 * 13);  // ceil(400 / 32) per epoch
  EXPECT_GT(r->best_val_acc, 0.9);
  EXPECT_GT(r->test_acc, 0.85);
  EXPECT_TRUE(std::filesystem::exists(c.out_dir + "/model_best.pt"));
}

TEST(Train, NanLossEndsTheRunAndEvaluatesTheBestCheckpoint) {
  const WnData data = Separable(800);
  TrainConfig c = SmallMlp();
  c.lr = 1e30;  // the first steps blow the weights up
  c.epochs = 2;
  const auto r = Train(c, data, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->diverged);
  EXPECT_EQ(r->best_epoch, 0);  // the initial weights
  // Oracle: the same initial network (Train seeds the init with config.seed) on the test set.
  torch::manual_seed(c.seed);
  auto init =
      BuildModel(ModelOptionsFor(c, data), ParseInitScheme(c.init, true).value(), {}).value();
  torch::NoGradGuard no_grad;
  const torch::Tensor pred = init->forward(data.test.inputs()).argmax(1);
  EXPECT_DOUBLE_EQ(r->test_acc,
                   pred.eq(data.test.targets()).to(torch::kDouble).mean().item<double>());
}

// One step per epoch at an absurd learning rate: the first training loss is finite (the initial
// weights) but the step leaves weights whose validation logits give a NaN loss. That is a
// divergence like a NaN training loss (diverged, the best checkpoint evaluated, summary.json
// written), not an error that leaves the run without a summary.
TEST(Train, NanValidationLossEndsTheRunAsDiverged) {
  const WnData data = Separable(800);
  TrainConfig c = SmallMlp();
  c.lr = 1e30;
  c.batch_size = 1000;  // the whole training split: one step per epoch
  c.epochs = 3;
  c.out_dir = TempDir("wn_nan_val");
  const auto r = Train(c, data, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->diverged);
  EXPECT_EQ(r->epochs_done, 0);  // ended in epoch 1's evaluation, before any metrics row
  EXPECT_EQ(r->best_epoch, 0);
  EXPECT_TRUE(std::filesystem::exists(c.out_dir + "/summary.json"));
}

// The parameters in the checkpoint.pt of the run directory `dir` of config `c`.
common::train::TensorMap CheckpointWeights(const TrainConfig& c, const WnData& data,
                                           const std::string& dir) {
  auto net =
      BuildModel(ModelOptionsFor(c, data), ParseInitScheme(c.init, true).value(), {}).value();
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(c.lr).momentum(c.momentum));
  EXPECT_TRUE(common::train::LoadCheckpoint(dir + "/checkpoint.pt", *net, sgd).ok());
  return common::train::StateDict(*net);
}

TEST(Train, ResumeRestoresMomentumAndGivesTheUninterruptedResult) {
  const WnData data = Separable(400);
  TrainConfig c = SmallMlp();
  c.epochs = 2;
  c.out_dir = TempDir("straight");
  ASSERT_TRUE(Train(c, data, {}).ok());
  TrainConfig first = c;
  first.out_dir = TempDir("split"), first.epochs = 1;
  ASSERT_TRUE(Train(first, data, {}).ok());
  std::remove(
      (first.out_dir + "/summary.json").c_str());  // as if killed after epoch 1's checkpoint
  TrainConfig second = c;
  second.out_dir = first.out_dir, second.resume = true;
  const auto r = Train(second, data, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->epochs_done, 2);
  // Final parameters of both runs (momentum lost on resume would change the second epoch).
  const common::train::TensorMap a = CheckpointWeights(c, data, c.out_dir);
  const common::train::TensorMap b = CheckpointWeights(c, data, first.out_dir);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(t, b.at(name))) << name;
}

// SIGTERM mid-epoch with augmentation and gradient accumulation: the run stops at an optimizer
// step, its checkpoint holds the batch and the augmentation generator's state, and the resumed run
// ends with the uninterrupted run's weights.
TEST(Train, InterruptMidEpochResumesBitIdentically) {
  WnData data = Separable(400);
  data.augment = true, data.mean = {0.0}, data.std = {1.0};  // random crop + flip draws per batch
  TrainConfig c = SmallMlp();
  c.epochs = 2, c.batch_size = 32, c.mini_batch_size = 16;
  c.out_dir = TempDir("interrupt_straight");
  const TrainResult straight = Train(c, data, {}).value();
  TrainConfig resumed = c;
  resumed.out_dir = TempDir("interrupt_split");
  common::util::RequestInterrupt(SIGTERM);  // stops after the first optimizer step (2 batches)
  const auto stopped = Train(resumed, data, {});
  common::util::ClearInterruptForTesting();
  ASSERT_TRUE(common::util::IsInterrupted(stopped.status())) << stopped.status();
  EXPECT_THAT(std::string(stopped.status().message()), HasSubstr("at step 1 (epoch 1, batch 2)"));
  resumed.resume = true;
  const auto r = Train(resumed, data, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(r->test_acc, straight.test_acc);
  const common::train::TensorMap a = CheckpointWeights(c, data, c.out_dir);
  const common::train::TensorMap b = CheckpointWeights(c, data, resumed.out_dir);
  for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(t, b.at(name))) << name;
}

// Data-parallel: 2 ranks started by the test (Gloo on localhost) with augmentation and gradient
// accumulation end with one process's weights. 201 training images in mini-batches of 16: the
// last (9) splits 4 / 5.
TrainConfig DataParallelConfig(const std::string& out_dir) {
  TrainConfig c = SmallMlp();
  c.epochs = 2, c.batch_size = 32, c.mini_batch_size = 16;
  c.out_dir = out_dir;
  return c;
}

WnData AugmentedData() {
  WnData data = Separable(402);
  data.augment = true, data.mean = {0.0}, data.std = {1.0};
  return data;
}

TEST(DataParallelRank, Train) {
  if (!common::dist::InSpawnedRank()) GTEST_SKIP() << "runs as a rank of DataParallel.*";
  const auto r = Train(DataParallelConfig(std::getenv("RUN_DIR")), AugmentedData(), {});
  ASSERT_TRUE(r.ok()) << r.status();
}

TEST(DataParallel, TwoRanksTrainLikeOneProcess) {
  const TrainConfig one = DataParallelConfig(TempDir("dp_one"));
  const TrainResult expected = Train(one, AugmentedData(), {}).value();
  const std::string two = TempDir("dp_two");
  const auto ranks = common::dist::SpawnRanks(2, "DataParallelRank.Train", {"RUN_DIR=" + two});
  for (const auto& r : ranks) ASSERT_EQ(r.exit_code, 0) << r.output;
  const common::train::TensorMap a = CheckpointWeights(one, AugmentedData(), one.out_dir);
  const common::train::TensorMap b = CheckpointWeights(one, AugmentedData(), two);
  EXPECT_EQ(common::dist::StateDictDifferences(a, b, 1e-4, 1e-5), "");
  const nlohmann::json summary = common::train::ReadJsonFile(two + "/summary.json").value();
  EXPECT_DOUBLE_EQ(summary["test_acc"].get<double>(), expected.test_acc);
  EXPECT_EQ(summary["sgd_steps"].get<int64_t>(), expected.sgd_steps);
}

}  // namespace
}  // namespace weightnorm_init
