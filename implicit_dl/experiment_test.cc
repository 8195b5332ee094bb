#include "implicit_dl/experiment.h"

#include <signal.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "absl/strings/str_split.h"
#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "common/dist/testing.h"
#include "common/train/checkpoint.h"
#include "common/util/interrupt.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace implicit_dl {
namespace {

using ::testing::HasSubstr;

TEST(LoadClassificationData, MnistNormalisationIsTheReferences) {
  const std::string dir = common::data::TestDir("idl_mnist");
  ASSERT_TRUE(common::data::WriteTinyMnistDirectory(dir, 12, 6, /*gz=*/true).ok());
  ClassificationData d = LoadClassificationData("fashion-mnist", dir).value();
  EXPECT_EQ(d.train.inputs().sizes(), torch::IntArrayRef({12, 784}));
  // Pixel (image 2, row 1, col 3) = 7*2 + 3 + 3 = 20 -> 20/255 - 0.5 (Normalize(0.5, 1.0)).
  EXPECT_NEAR(d.train.inputs()[2][28 + 3].item<double>(), 20.0 / 255 - 0.5, 1e-7);
  EXPECT_THAT(std::string(LoadClassificationData("cifar10", dir).status().message()),
              HasSubstr("holds idx files"));
}

// The FFNN baseline: an MLP 8-6-4-3 held as an implicit model. After training, every entry
// outside the MLP's blocks is still exactly 0, the parameter count is the MLP's, and the model is
// the MLP: its logits equal relu-chained matrix products of the blocks (an independent forward).
TEST(Train, FfnnBaselineStaysAnMlp) {
  torch::manual_seed(0);
  ClassificationData data{common::data::GaussianBlobs(300, 8, 3, 1),
                          common::data::GaussianBlobs(100, 8, 3, 2), 3};
  TrainConfig c;
  c.model = "ffnn";
  c.ffnn_hidden = {6, 4};
  c.epochs = 3;
  c.bs = 30;
  c.lr = 1e-2;
  c.variant = WellPosedness::kTriu;
  c.out_dir = common::data::TestDir("idl_ffnn") + "/run";
  c = WithDatasetDefaults(c);
  EXPECT_EQ(c.n, 10);
  TrainResult r = Train(c, data, {{"model", "ffnn"}}).value();
  EXPECT_EQ(r.parameters, 8 * 6 + 6 * 4 + 4 * 3);
  EXPECT_LT(r.last_epoch_train_loss, 0.9 * r.first_epoch_train_loss);  // it learns
  ImplicitModel m(ImplicitModelOptions(10, 8, 3).variant(WellPosedness::kTriu));
  ASSERT_TRUE(common::train::LoadStateDict(c.out_dir + "/weights.pt", *m).ok());
  torch::NoGradGuard no_grad;
  // State rows: [h2 (4); h1 (6)]. Blocks: W0 = B[4:10, :], W1 = A[0:4, 4:10], W2 = C[:, 0:4].
  const torch::Tensor w0 = m->B.narrow(0, 4, 6), w1 = m->A.narrow(0, 0, 4).narrow(1, 4, 6),
                      w2 = m->C.narrow(1, 0, 4);
  torch::Tensor rest_a = m->A.clone(), rest_b = m->B.clone(), rest_c = m->C.clone();
  rest_a.narrow(0, 0, 4).narrow(1, 4, 6).zero_();
  rest_b.narrow(0, 4, 6).zero_();
  rest_c.narrow(1, 0, 4).zero_();
  EXPECT_EQ(rest_a.abs().sum().item<double>(), 0);
  EXPECT_EQ(rest_b.abs().sum().item<double>(), 0);
  EXPECT_EQ(rest_c.abs().sum().item<double>(), 0);
  EXPECT_EQ(m->D.abs().sum().item<double>(), 0);
  EXPECT_GT(w1.abs().sum().item<double>(), 0);
  const torch::Tensor x = data.test.inputs();
  const torch::Tensor mlp = torch::relu(torch::relu(x.mm(w0.t())).mm(w1.t())).mm(w2.t());
  EXPECT_TRUE(torch::allclose(m->forward(x), mlp, 1e-5, 1e-6));
}

TEST(Train, RecordsTheLargestInfinityNormOfTheAUsed) {
  torch::manual_seed(0);
  ClassificationData data{common::data::GaussianBlobs(200, 8, 3, 1),
                          common::data::GaussianBlobs(50, 8, 3, 2), 3};
  TrainConfig c;
  c.n = 12;
  c.epochs = 2;
  c.bs = 20;
  c.lr = 0.1;  // large steps push A out of the ball between projections
  c.eval_every = 3;
  c.out_dir = common::data::TestDir("idl_wellposed") + "/run";
  TrainResult r = Train(c, data, {{"n", 12}}).value();
  // The inf variant projects onto ||A||_inf <= 0.95 before every forward; the record sits at the
  // radius (the rows hit the ball) and never above it.
  EXPECT_LE(r.max_infinity_norm_A, 0.95 + 1e-6);
  EXPECT_GT(r.max_infinity_norm_A, 0.9);
  const std::string metrics = common::data::ReadFileBytes(c.out_dir + "/metrics.csv").value();
  EXPECT_THAT(metrics, HasSubstr("max_infinity_norm_A"));
}

TEST(Train, LowersLossAndWritesALoadableRunDirectory) {
  torch::manual_seed(0);
  ClassificationData data{common::data::GaussianBlobs(300, 8, 3, 1),
                          common::data::GaussianBlobs(100, 8, 3, 2), 3};
  TrainConfig c;
  c.n = 12;
  c.epochs = 4;
  c.bs = 30;
  c.lr = 1e-2;
  c.eval_every = 5;
  c.out_dir = common::data::TestDir("idl_train") + "/run";
  TrainResult r = Train(c, data, {{"n", 12}}).value();
  EXPECT_LT(r.last_epoch_train_loss, 0.7 * r.first_epoch_train_loss);
  EXPECT_GT(r.test_accuracy, 0.9);
  EXPECT_EQ(r.steps, 40);
  for (const char* f : {"config.json", "metrics.csv", "summary.json", "checkpoint.pt", "weights.pt",
                        "weights_best.pt"}) {
    EXPECT_TRUE(common::data::FileExists(c.out_dir + "/" + f)) << f;
  }
  // The saved weights reproduce the reported test accuracy.
  ImplicitModel m(ImplicitModelOptions(12, 8, 3));
  ASSERT_TRUE(common::train::LoadStateDict(c.out_dir + "/weights.pt", *m).ok());
  torch::NoGradGuard no_grad;
  const double acc = (m->forward(data.test.inputs()).argmax(1) == data.test.targets())
                         .to(torch::kFloat64)
                         .mean()
                         .item<double>();
  EXPECT_DOUBLE_EQ(acc, r.test_accuracy);
}

// valid_acc per epoch from a run's metrics.csv (end-of-epoch rows only with --eval_every=0).
std::vector<double> ValidAccuracies(const std::string& dir) {
  const std::string text = common::data::ReadFileBytes(dir + "/metrics.csv").value();
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  const std::vector<std::string> names = absl::StrSplit(lines[0], ',');
  const size_t col = std::find(names.begin(), names.end(), "valid_acc") - names.begin();
  std::vector<double> out;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> cells = absl::StrSplit(lines[i], ',');
    out.push_back(std::stod(cells[col]));
  }
  return out;
}

// Data-parallel: ranks started by the test (Gloo on localhost) train on shards of the same global
// batches as one process. The Picard stopping rule looks at all columns of a batch, so a shard
// stops at another iteration than the whole batch, and Adam magnifies such differences in
// near-zero gradients (measured: weights off by up to 4e-4 after 20 steps with the default tol
// 3e-6). With tol 1e-30 every solve runs exactly mitr maps, each column on its own, and the runs
// agree to float32 summation order: that checks the data-parallel machinery itself.
ClassificationData BlobData() {
  return {common::data::GaussianBlobs(290, 8, 3, 1), common::data::GaussianBlobs(100, 8, 3, 2), 3};
}

TrainConfig DataParallelConfig(const std::string& out_dir, int64_t epochs) {
  TrainConfig c;
  c.n = 12, c.epochs = epochs, c.bs = 30, c.lr = 1e-2, c.eval_every = 4;  // last batch: 20
  c.solver.tol = c.solver.grad_tol = 1e-30;  // never met: every solve runs mitr maps
  c.solver.mitr = c.solver.grad_mitr = 40;
  c.out_dir = out_dir;
  return c;
}

TEST(DataParallelRank, Train) {
  if (!common::dist::InSpawnedRank()) GTEST_SKIP() << "runs as a rank of DataParallel.*";
  const TrainConfig c =
      DataParallelConfig(std::getenv("RUN_DIR"), std::atoi(std::getenv("EPOCHS")));
  // SIGTERM reaching one rank only (before its first step): every rank stops after step 1.
  const char* signalled = std::getenv("SIGNALLED_RANK");
  if (signalled != nullptr && std::atoi(signalled) == std::atoi(std::getenv("RANK"))) {
    common::util::RequestInterrupt(SIGTERM);
  }
  const absl::StatusOr<TrainResult> r = Train(c, BlobData(), {});
  if (signalled == nullptr) {
    ASSERT_TRUE(r.ok()) << r.status();
    return;
  }
  ASSERT_TRUE(common::util::IsInterrupted(r.status())) << r.status();
  EXPECT_EQ(r.status().message(),
            "interrupted (SIGTERM) at step 1 (epoch 1, batch 1); --resume continues");
}

void ExpectSameWeights(const std::string& a_dir, const std::string& b_dir) {
  const common::train::TensorMap a = common::train::LoadTensorMap(a_dir + "/weights.pt").value();
  const common::train::TensorMap b = common::train::LoadTensorMap(b_dir + "/weights.pt").value();
  EXPECT_EQ(common::dist::StateDictDifferences(a, b, 1e-4, 1e-5), "");
}

TEST(DataParallel, TwoRanksTrainLikeOneProcess) {
  const std::string dir = common::data::TestDir("idl_dp");
  const TrainResult one = Train(DataParallelConfig(dir + "/one", 2), BlobData(), {}).value();
  const auto ranks = common::dist::SpawnRanks(2, "DataParallelRank.Train",
                                              {"RUN_DIR=" + dir + "/two", "EPOCHS=2"});
  for (const auto& r : ranks) ASSERT_EQ(r.exit_code, 0) << r.output;
  ExpectSameWeights(dir + "/one", dir + "/two");
  const nlohmann::json summary =
      nlohmann::json::parse(common::data::ReadFileBytes(dir + "/two/summary.json").value());
  EXPECT_NEAR(summary["test_loss"].get<double>(), one.test_loss, 1e-5);
  EXPECT_EQ(ValidAccuracies(dir + "/two").size(), ValidAccuracies(dir + "/one").size());
}

// A job killed after epoch 1 resumes from rank 0's checkpoint with another world size: 3 ranks
// run epoch 1, one process epoch 2, and the result is the straight one-process run's.
TEST(DataParallel, ResumesWithAnotherWorldSize) {
  const std::string dir = common::data::TestDir("idl_dp_resume");
  ASSERT_TRUE(Train(DataParallelConfig(dir + "/one", 2), BlobData(), {}).ok());
  const auto ranks = common::dist::SpawnRanks(3, "DataParallelRank.Train",
                                              {"RUN_DIR=" + dir + "/killed", "EPOCHS=1"});
  for (const auto& r : ranks) ASSERT_EQ(r.exit_code, 0) << r.output;
  std::remove((dir + "/killed/summary.json").c_str());  // as if killed after the checkpoint
  TrainConfig resumed = DataParallelConfig(dir + "/killed", 2);
  resumed.resume = true;
  ASSERT_TRUE(Train(resumed, BlobData(), {}).ok());
  ExpectSameWeights(dir + "/one", dir + "/killed");
}

// SIGTERM that reaches rank 1 only: rank 0 learns it in the same step's agreement, both stop
// after step 1, rank 0 checkpoints, and a resumed one-process run ends as the straight run.
TEST(DataParallel, ASignalToOneRankStopsAllAtTheSameStep) {
  const std::string dir = common::data::TestDir("idl_dp_signal");
  ASSERT_TRUE(Train(DataParallelConfig(dir + "/one", 2), BlobData(), {}).ok());
  const auto ranks = common::dist::SpawnRanks(
      2, "DataParallelRank.Train", {"RUN_DIR=" + dir + "/stopped", "EPOCHS=2", "SIGNALLED_RANK=1"});
  for (const auto& r : ranks) {
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("[  PASSED  ] 1 test"), std::string::npos) << r.output;
  }
  ASSERT_TRUE(common::data::FileExists(dir + "/stopped/checkpoint.pt"));
  TrainConfig resumed = DataParallelConfig(dir + "/stopped", 2);
  resumed.resume = true;
  ASSERT_TRUE(Train(resumed, BlobData(), {}).ok());
  ExpectSameWeights(dir + "/one", dir + "/stopped");
}

// Reproducer 5 of the reliability issue: after a kill and --resume, the best validation accuracy
// and weights_best.pt must be those of an uninterrupted run, also when the best epoch came
// before the kill (the resumed run forgot it and saved a worse epoch as the best).
TEST(Train, ResumeAfterTheBestEpochKeepsTheBest) {
  auto noisy = [](int64_t n, uint64_t seed) {  // overlapping classes: validation accuracy wobbles
    const common::data::InMemoryDataset d = common::data::GaussianBlobs(n, 8, 3, seed);
    torch::Generator gen = common::data::SeededGenerator(seed, /*stream=*/5);
    return common::data::InMemoryDataset(d.inputs() + 1.5 * torch::randn(d.inputs().sizes(), gen),
                                         d.targets());
  };
  ClassificationData data{noisy(300, 1), noisy(150, 2), 3};
  TrainConfig c;
  c.n = 12, c.epochs = 6, c.bs = 30, c.lr = 0.05, c.eval_every = 0;
  const std::string dir = common::data::TestDir("idl_best");
  c.out_dir = dir + "/straight";
  const TrainResult straight = Train(c, data, {}).value();
  const std::vector<double> acc = ValidAccuracies(c.out_dir);
  ASSERT_EQ(acc.size(), 6u);
  const int64_t best = std::max_element(acc.begin(), acc.end() - 1) - acc.begin() + 1;  // 1-based
  // The test needs a best epoch followed by one that is not better (which the forgetful resume
  // saved as the best); the data and lr above give it.
  ASSERT_LE(acc[best], acc[best - 1]) << "epoch " << best + 1 << " is better than epoch " << best;
  ASSERT_DOUBLE_EQ(straight.best_valid_accuracy, *std::max_element(acc.begin(), acc.end()));

  TrainConfig killed = c;
  killed.out_dir = dir + "/killed";
  killed.epochs = best;  // killed right after the best epoch's checkpoint
  ASSERT_TRUE(Train(killed, data, {}).ok());
  std::remove((killed.out_dir + "/summary.json").c_str());
  TrainConfig resumed = c;
  resumed.out_dir = killed.out_dir, resumed.resume = true;
  const TrainResult r = Train(resumed, data, {}).value();
  EXPECT_DOUBLE_EQ(r.best_valid_accuracy, straight.best_valid_accuracy);
  EXPECT_DOUBLE_EQ(r.test_accuracy, straight.test_accuracy);
  for (const char* f : {"weights_best.pt", "weights.pt"}) {
    const common::train::TensorMap a = common::train::LoadTensorMap(c.out_dir + "/" + f).value();
    const common::train::TensorMap b =
        common::train::LoadTensorMap(killed.out_dir + "/" + f).value();
    for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(t, b.at(name))) << f << " " << name;
  }
}

// SIGTERM mid-epoch: the step finishes, a checkpoint holds the position inside the epoch, and the
// resumed run ends bit-identical to an uninterrupted one. (The signal handler only sets the flag
// RequestInterrupt sets; cli_errors_test sends a real SIGTERM to the binary.)
TEST(Train, InterruptMidEpochResumesBitIdentically) {
  torch::manual_seed(0);
  ClassificationData data{common::data::GaussianBlobs(300, 8, 3, 1),
                          common::data::GaussianBlobs(90, 8, 3, 2), 3};
  TrainConfig c;
  c.n = 12, c.epochs = 3, c.bs = 30, c.lr = 1e-2, c.eval_every = 4;
  const std::string dir = common::data::TestDir("idl_interrupt");
  c.out_dir = dir + "/straight";
  const TrainResult straight = Train(c, data, {}).value();

  TrainConfig first = c;
  first.out_dir = dir + "/interrupted", first.epochs = 1;
  ASSERT_TRUE(Train(first, data, {}).ok());
  std::remove((first.out_dir + "/summary.json").c_str());  // as if the run had 3 epochs
  TrainConfig resumed = c;
  resumed.out_dir = first.out_dir, resumed.resume = true;
  common::util::RequestInterrupt(SIGTERM);  // arrives during the first step of epoch 2
  const auto stopped = Train(resumed, data, {});
  common::util::ClearInterruptForTesting();
  ASSERT_TRUE(common::util::IsInterrupted(stopped.status())) << stopped.status();
  EXPECT_THAT(std::string(stopped.status().message()),
              HasSubstr("interrupted (SIGTERM) at step 11 (epoch 2, batch 1); --resume continues"));
  EXPECT_FALSE(common::data::FileExists(first.out_dir + "/summary.json"));
  const TrainResult r = Train(resumed, data, {}).value();
  EXPECT_DOUBLE_EQ(r.test_accuracy, straight.test_accuracy);
  const common::train::TensorMap a =
      common::train::LoadTensorMap(c.out_dir + "/weights.pt").value();
  const common::train::TensorMap b =
      common::train::LoadTensorMap(first.out_dir + "/weights.pt").value();
  for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(t, b.at(name))) << name;
  // metrics.csv: the straight run's rows, each once.
  EXPECT_EQ(ValidAccuracies(first.out_dir), ValidAccuracies(c.out_dir));
}

TEST(TrainConfig, ValidationNamesTheFlag) {
  TrainConfig c = WithDatasetDefaults(TrainConfig());
  EXPECT_EQ(c.n, 100);
  EXPECT_DOUBLE_EQ(c.lr, 5e-3);
  c.bs = 0;
  EXPECT_THAT(std::string(Validate(c).message()), HasSubstr("--bs must be > 0, got 0"));
  TrainConfig cifar;
  cifar.dataset = "cifar10";
  cifar = WithDatasetDefaults(cifar);
  EXPECT_EQ(cifar.n, 300);
  EXPECT_DOUBLE_EQ(cifar.lr, 5e-4);
  cifar.dataset = "svhn";
  EXPECT_THAT(std::string(Validate(cifar).message()), HasSubstr("--dataset must be"));
}

}  // namespace
}  // namespace implicit_dl
