#include "common/train/checkpoint.h"

#include <torch/torch.h>

#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "common/train/run_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::train {
namespace {

using ::testing::HasSubstr;

torch::nn::Sequential MakeModel() {
  return torch::nn::Sequential(torch::nn::Linear(6, 16), torch::nn::ReLU(),
                               torch::nn::Dropout(0.3), torch::nn::Linear(16, 3));
}

// One epoch of Adam on blobs; dropout draws from the global RNG, so resume must restore it.
absl::Status TrainEpoch(torch::nn::Sequential& model, torch::optim::Optimizer& opt,
                        const data::InMemoryDataset& d, int64_t epoch, TrainProgress& progress) {
  model->train();
  for (const torch::Tensor& idx : d.EpochBatches(16, /*shuffle=*/true, /*seed=*/7, epoch)) {
    data::Batch b = d.Get(idx);
    opt.zero_grad();
    torch::nn::functional::cross_entropy(model->forward(b.inputs), b.targets).backward();
    opt.step();
    ++progress.step;
  }
  return absl::OkStatus();
}

TEST(RunEpochs, TwoEpochsStraightEqualOnePlusResumePlusOne) {
  const data::InMemoryDataset d = data::GaussianBlobs(100, 6, 3, 1);
  const std::string ckpt = data::TestDir("resume") + "/checkpoint.pt";

  torch::manual_seed(0);
  auto straight = MakeModel();
  torch::optim::Adam opt_a(straight->parameters(), 1e-2);
  auto run_a = [&](int64_t e, TrainProgress& p) { return TrainEpoch(straight, opt_a, d, e, p); };
  TrainProgress done_a = RunEpochs({2, "", false}, *straight, opt_a, run_a).value();

  torch::manual_seed(0);
  auto first = MakeModel();
  torch::optim::Adam opt_b(first->parameters(), 1e-2);
  auto run_b = [&](int64_t e, TrainProgress& p) { return TrainEpoch(first, opt_b, d, e, p); };
  ASSERT_TRUE(RunEpochs({1, ckpt, false}, *first, opt_b, run_b).ok());

  torch::manual_seed(123);  // a "new process": different initial weights and RNG state
  auto resumed = MakeModel();
  torch::optim::Adam opt_c(resumed->parameters(), 1e-2);
  auto run_c = [&](int64_t e, TrainProgress& p) { return TrainEpoch(resumed, opt_c, d, e, p); };
  TrainProgress done_c = RunEpochs({2, ckpt, true}, *resumed, opt_c, run_c).value();

  EXPECT_EQ(done_c.epoch, 2);
  EXPECT_EQ(done_c.step, done_a.step);
  auto pa = straight->parameters(), pc = resumed->parameters();
  ASSERT_EQ(pa.size(), pc.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pc[i])) << i;
}

// With checkpoint_every = 2 a run killed in its fourth epoch restarts after the second, and ends
// where an uninterrupted run ends.
TEST(RunEpochs, CheckpointEveryKthEpochResumesFromTheLastOne) {
  const data::InMemoryDataset d = data::GaussianBlobs(100, 6, 3, 1);
  const std::string ckpt = data::TestDir("resume_every") + "/checkpoint.pt";
  torch::manual_seed(0);
  auto straight = MakeModel();
  torch::optim::Adam opt_a(straight->parameters(), 1e-2);
  auto run_a = [&](int64_t e, TrainProgress& p) { return TrainEpoch(straight, opt_a, d, e, p); };
  ASSERT_TRUE(RunEpochs({5, "", false, 2}, *straight, opt_a, run_a).ok());

  torch::manual_seed(0);
  auto killed = MakeModel();
  torch::optim::Adam opt_b(killed->parameters(), 1e-2);
  auto run_b = [&](int64_t e, TrainProgress& p) {
    if (e == 3) return absl::AbortedError("killed");
    return TrainEpoch(killed, opt_b, d, e, p);
  };
  EXPECT_EQ(RunEpochs({5, ckpt, false, 2}, *killed, opt_b, run_b).status().code(), absl::StatusCode::kAborted);
  auto probe = MakeModel();
  torch::optim::Adam opt_p(probe->parameters(), 1e-2);
  EXPECT_EQ(LoadCheckpoint(ckpt, *probe, opt_p).value().epoch, 2);

  torch::manual_seed(123);
  auto resumed = MakeModel();
  torch::optim::Adam opt_c(resumed->parameters(), 1e-2);
  auto run_c = [&](int64_t e, TrainProgress& p) { return TrainEpoch(resumed, opt_c, d, e, p); };
  EXPECT_EQ(RunEpochs({5, ckpt, true, 2}, *resumed, opt_c, run_c).value().epoch, 5);
  EXPECT_EQ(LoadCheckpoint(ckpt, *probe, opt_p).value().epoch, 5);  // the last epoch always saves
  auto pa = straight->parameters(), pc = resumed->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pc[i])) << i;
}

// Resuming with other sizes is an error, not a silent switch to the checkpoint's model.
TEST(LoadCheckpoint, ShapeMismatchIsAnError) {
  const std::string ckpt = data::TestDir("ckpt_shapes") + "/checkpoint.pt";
  auto model = MakeModel();
  torch::optim::Adam opt(model->parameters(), 1e-2);
  ASSERT_TRUE(SaveCheckpoint(ckpt, *model, opt, {1, 4}).ok());
  torch::nn::Sequential wider(torch::nn::Linear(6, 17), torch::nn::ReLU(), torch::nn::Dropout(0.3),
                              torch::nn::Linear(17, 3));
  torch::optim::Adam opt_w(wider->parameters(), 1e-2);
  const auto loaded = LoadCheckpoint(ckpt, *wider, opt_w);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("'0.bias' has shape [16], the model [17]"));
  auto same = MakeModel();
  torch::optim::Adam opt_s(same->parameters(), 1e-2);
  EXPECT_EQ(LoadCheckpoint(ckpt, *same, opt_s).value().step, 4);
}

TEST(StateDict, RoundTripAndMismatchErrors) {
  const std::string dir = data::TestDir("state_dict");
  torch::manual_seed(0);
  auto model = MakeModel();
  ASSERT_TRUE(SaveStateDict(dir + "/w.pt", *model).ok());
  torch::manual_seed(1);
  auto other = MakeModel();
  ASSERT_TRUE(LoadStateDict(dir + "/w.pt", *other).ok());
  EXPECT_TRUE(torch::equal(other->parameters()[0], model->parameters()[0]));
  EXPECT_EQ(StateDict(*model).count("3.bias"), 1u);

  torch::nn::Sequential wider(torch::nn::Linear(6, 17), torch::nn::ReLU(),
                              torch::nn::Dropout(0.3), torch::nn::Linear(17, 3));
  EXPECT_THAT(std::string(LoadStateDict(dir + "/w.pt", *wider).message()),
              HasSubstr("0.bias shape [17] != [16] in"));
  torch::nn::Sequential shorter(torch::nn::Linear(6, 16));
  EXPECT_THAT(std::string(LoadStateDict(dir + "/w.pt", *shorter).message()),
              HasSubstr("unexpected key '3.bias'"));
  ASSERT_TRUE(data::WriteFileAtomically(dir + "/bad.pt", "garbage").ok());
  EXPECT_EQ(LoadStateDict(dir + "/bad.pt", *model).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(LoadStateDict(dir + "/none.pt", *model).code(), absl::StatusCode::kNotFound);
}

TEST(Checkpoint, CorruptFileIsDataLoss) {
  const std::string dir = data::TestDir("ckpt_bad");
  ASSERT_TRUE(data::WriteFileAtomically(dir + "/c.pt", "not a checkpoint").ok());
  auto model = MakeModel();
  torch::optim::SGD opt(model->parameters(), 0.1);
  absl::Status s = LoadCheckpoint(dir + "/c.pt", *model, opt).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("c.pt"));
}

TEST(RunDir, ConfigMetricsSummaryAndTruncation) {
  const std::string dir = data::TestDir("run_dir") + "/nested/run";
  RunDir run = RunDir::Open(dir, {{"lr", 0.1}}).value();
  ASSERT_TRUE(run.AppendMetrics({{"epoch", 1}, {"loss", 0.5}}).ok());
  ASSERT_TRUE(run.AppendMetrics({{"epoch", 2}, {"loss", 0.25}}).ok());
  EXPECT_THAT(std::string(run.AppendMetrics({{"loss", 1}}).message()), HasSubstr("differ"));
  ASSERT_TRUE(run.TruncateMetrics("epoch", 1).ok());
  EXPECT_EQ(data::ReadFileBytes(run.File("metrics.csv")).value(), "epoch,loss\n1,0.5\n");
  ASSERT_TRUE(run.WriteSummary({{"acc", 0.875}}).ok());
  auto summary = nlohmann::json::parse(data::ReadFileBytes(run.File("summary.json")).value());
  EXPECT_DOUBLE_EQ(summary["acc"].get<double>(), 0.875);
  auto config = nlohmann::json::parse(data::ReadFileBytes(run.File("config.json")).value());
  EXPECT_DOUBLE_EQ(config["lr"].get<double>(), 0.1);
  // Reopening for a resume keeps the rows; a new run starts metrics.csv afresh.
  ASSERT_TRUE(RunDir::Open(dir, {}, /*resume=*/true).ok());
  EXPECT_TRUE(data::FileExists(run.File("metrics.csv")));
  ASSERT_TRUE(RunDir::Open(dir, {}, /*resume=*/false).ok());
  EXPECT_FALSE(data::FileExists(run.File("metrics.csv")));
}

TEST(JsonFile, RoundTripAndErrors) {
  const std::string dir = data::TestDir("json_file");
  ASSERT_TRUE(WriteJsonFile(dir + "/a.json", {{"x", 2.5}, {"name", "n"}}).ok());
  const nlohmann::json j = ReadJsonFile(dir + "/a.json").value();
  EXPECT_DOUBLE_EQ(j["x"].get<double>(), 2.5);
  EXPECT_EQ(j["name"].get<std::string>(), "n");
  ASSERT_TRUE(data::WriteFileAtomically(dir + "/bad.json", "{\"x\": ").ok());
  const auto bad = ReadJsonFile(dir + "/bad.json");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("bad.json: not valid JSON"));
  EXPECT_FALSE(ReadJsonFile(dir + "/missing.json").ok());
}

// The first row after a resume drops the killed run's rows from its key on; later rows append.
TEST(ResumableMetrics, FirstRowAfterResumeReplacesTheRepeatedEpochs) {
  const std::string dir = data::TestDir("resumable_metrics");
  auto run = RunDir::Open(dir, {}).value();
  ResumableMetrics first(run, "epoch", /*resume=*/false);
  for (int e = 1; e <= 4; ++e) ASSERT_TRUE(first.Append(e, {{"loss", 1.0 / e}}).ok());
  auto resumed_run = RunDir::Open(dir, {}, /*resume=*/true).value();
  ResumableMetrics resumed(resumed_run, "epoch", /*resume=*/true);  // checkpoint after epoch 2
  ASSERT_TRUE(resumed.Append(3, {{"loss", 0.3}}).ok());
  ASSERT_TRUE(resumed.Append(4, {{"loss", 0.2}}).ok());
  EXPECT_EQ(data::ReadFileBytes(run.File("metrics.csv")).value(), "epoch,loss\n1,1\n2,0.5\n3,0.3\n4,0.2\n");
}

}  // namespace
}  // namespace common::train
