#include "common/train/checkpoint.h"

#include <signal.h>
#include <torch/torch.h>

#include <vector>

#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "common/train/run_dir.h"
#include "common/util/interrupt.h"
#include "common/util/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::train {
namespace {

using ::testing::HasSubstr;

torch::nn::Sequential MakeModel() {
  return torch::nn::Sequential(torch::nn::Linear(6, 16), torch::nn::ReLU(), torch::nn::Dropout(0.3),
                               torch::nn::Linear(16, 3));
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
  EXPECT_EQ(RunEpochs({5, ckpt, false, 2}, *killed, opt_b, run_b).status().code(),
            absl::StatusCode::kAborted);
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
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr("'0.bias' has shape [16], the model [17]"));
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

  torch::nn::Sequential wider(torch::nn::Linear(6, 17), torch::nn::ReLU(), torch::nn::Dropout(0.3),
                              torch::nn::Linear(17, 3));
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

// 16 flipped bytes anywhere in a checkpoint are refused (inside the tensor data by the CRC, in the
// zip structure by the reader) or, where they hit bytes the reader ignores (the zip's alignment
// padding), load the very same state: never a silently different model.
TEST(Checkpoint, FlippedBytesAreRefused) {
  const std::string dir = data::TestDir("ckpt_flip");
  torch::manual_seed(0);
  auto model = MakeModel();
  torch::optim::Adam opt(model->parameters(), 1e-2);
  ASSERT_TRUE(SaveCheckpoint(dir + "/c.pt", *model, opt, {1, 4}).ok());
  const std::string good = data::ReadFileBytes(dir + "/c.pt").value();
  const TensorMap saved = StateDict(*model);
  int refused = 0, positions = 0;
  for (size_t at = 64; at + 16 < good.size(); at += good.size() / 23) {
    std::string bad = good;
    for (size_t i = at; i < at + 16; ++i) bad[i] = static_cast<char>(~bad[i]);
    ASSERT_TRUE(data::WriteFileAtomically(dir + "/bad.pt", bad).ok());
    ++positions;
    torch::manual_seed(positions);
    auto other = MakeModel();
    torch::optim::Adam other_opt(other->parameters(), 1e-2);
    const auto loaded = LoadCheckpoint(dir + "/bad.pt", *other, other_opt);
    if (!loaded.ok()) {
      EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss) << at;
      ++refused;
      continue;
    }
    EXPECT_EQ(loaded->step, 4) << at;
    for (const auto& [name, t] : StateDict(*other))
      EXPECT_TRUE(torch::equal(t, saved.at(name))) << at << " " << name;
  }
  EXPECT_GE(refused, positions - 3);  // the tensor payload is most of the file
  EXPECT_EQ(LoadCheckpoint(dir + "/c.pt", *model, opt).value().step, 4);
}

// SIGTERM while a callback that does not stop mid-epoch runs: RunEpochs stops after that epoch
// with a checkpoint (even when one is not due), and the resumed run ends as an uninterrupted one.
TEST(RunEpochs, InterruptStopsAfterTheEpochWithACheckpoint) {
  const data::InMemoryDataset d = data::GaussianBlobs(100, 6, 3, 1);
  const std::string ckpt = data::TestDir("ckpt_interrupt") + "/checkpoint.pt";
  torch::manual_seed(0);
  auto straight = MakeModel();
  torch::optim::Adam opt_a(straight->parameters(), 1e-2);
  auto run_a = [&](int64_t e, TrainProgress& p) { return TrainEpoch(straight, opt_a, d, e, p); };
  ASSERT_TRUE(RunEpochs({3, "", false}, *straight, opt_a, run_a).ok());

  torch::manual_seed(0);
  auto model = MakeModel();
  torch::optim::Adam opt(model->parameters(), 1e-2);
  auto run = [&](int64_t e, TrainProgress& p) { return TrainEpoch(model, opt, d, e, p); };
  util::RequestInterrupt(SIGINT);
  const auto stopped = RunEpochs({3, ckpt, false, /*checkpoint_every=*/10}, *model, opt, run);
  util::ClearInterruptForTesting();
  ASSERT_TRUE(util::IsInterrupted(stopped.status())) << stopped.status();
  EXPECT_THAT(std::string(stopped.status().message()),
              HasSubstr("interrupted (SIGINT) after epoch 1 (step 7)"));
  torch::manual_seed(5);
  auto resumed = MakeModel();
  torch::optim::Adam opt_r(resumed->parameters(), 1e-2);
  auto run_r = [&](int64_t e, TrainProgress& p) { return TrainEpoch(resumed, opt_r, d, e, p); };
  ASSERT_EQ(RunEpochs({3, ckpt, true}, *resumed, opt_r, run_r).value().epoch, 3);
  auto pa = straight->parameters(), pr = resumed->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pr[i])) << i;
}

// A data-parallel loop asks its agreement at every StopIfInterrupted and after every epoch but
// the last, and stops on the agreed answer: here another rank's SIGTERM, learnt at the 5th call
// (batch 2 of epoch 2), with no signal in this process.
TEST(RunEpochs, StopsWhereTheAgreementSaysAnotherRankWasSignalled) {
  const data::InMemoryDataset d = data::GaussianBlobs(64, 6, 3, 1);  // 4 batches of 16
  torch::manual_seed(0);
  auto model = MakeModel();
  torch::optim::Adam opt(model->parameters(), 1e-2);
  auto run = [&](int64_t epoch, TrainProgress& p) -> absl::Status {
    const auto batches = d.EpochBatches(16, /*shuffle=*/true, 7, epoch);
    for (int64_t i = StartBatch(p); i < static_cast<int64_t>(batches.size()); ++i) {
      ++p.step;
      if (i + 1 < static_cast<int64_t>(batches.size())) {
        RETURN_IF_ERROR(StopIfInterrupted(p, i + 1));
      }
    }
    return absl::OkStatus();
  };
  std::vector<int> asked;  // this rank's signal at each call
  EpochLoopOptions loop{3, ""};
  loop.agree_interrupt = [&](int mine) -> absl::StatusOr<int> {
    asked.push_back(mine);
    return asked.size() == 5 ? SIGTERM : 0;
  };
  const auto stopped = RunEpochs(loop, *model, opt, run);
  // Calls: epoch 1 batches 1-3, end of epoch 1, epoch 2 batch 1 (the 5th).
  EXPECT_EQ(asked, std::vector<int>(5, 0));
  ASSERT_TRUE(util::IsInterrupted(stopped.status())) << stopped.status();
  EXPECT_EQ(stopped.status().message(),
            "interrupted (SIGTERM) at step 5 (epoch 2, batch 1); --resume continues");
  EXPECT_EQ(util::InterruptSignal(), SIGTERM);
  util::ClearInterruptForTesting();
  // Outside the loop StopIfInterrupted asks no agreement.
  TrainProgress p;
  EXPECT_TRUE(StopIfInterrupted(p, 1).ok());
  EXPECT_EQ(asked.size(), 5u);
}

// Extra state (e.g. the best value so far) travels with the checkpoint through RunEpochs.
TEST(RunEpochs, ExtraStateIsSavedAndRestored) {
  const data::InMemoryDataset d = data::GaussianBlobs(60, 6, 3, 1);
  const std::string ckpt = data::TestDir("ckpt_extra") + "/checkpoint.pt";
  auto model = MakeModel();
  torch::optim::Adam opt(model->parameters(), 1e-2);
  double best = 0;
  EpochLoopOptions loop{2, ckpt, false};
  loop.save_extra = [&] { return TensorMap{{"best", torch::tensor(best, torch::kFloat64)}}; };
  loop.restore_extra = [&](const TensorMap& extra) {
    best = extra.at("best").item<double>();
    return absl::OkStatus();
  };
  auto run = [&](int64_t e, TrainProgress& p) {
    best = 0.25 * static_cast<double>(e + 1);
    return TrainEpoch(model, opt, d, e, p);
  };
  ASSERT_TRUE(RunEpochs(loop, *model, opt, run).ok());
  best = -1;
  loop.resume = true;
  loop.epochs = 2;  // nothing left to do: only the restore runs
  ASSERT_TRUE(RunEpochs(loop, *model, opt, run).ok());
  EXPECT_DOUBLE_EQ(best, 0.5);
}

}  // namespace
}  // namespace common::train
