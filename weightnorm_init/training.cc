#include "weightnorm_init/training.h"

#include <glog/logging.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>  // torch::manual_seed

#include <chrono>
#include <cmath>
#include <fstream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/data/augment.h"
#include "common/data/file_bytes.h"
#include "common/dist/gradient_sync.h"
#include "common/dist/process_group.h"
#include "common/dist/run_dir.h"
#include "common/train/checkpoint.h"
#include "common/train/fused_sgd.h"
#include "common/train/lr_schedule.h"
#include "common/train/metrics.h"
#include "common/train/progress.h"
#include "common/train/run_dir.h"
#include "common/util/memory.h"
#include "common/util/status_macros.h"
#include "weightnorm_init/hessian.h"

namespace weightnorm_init {
namespace {

using common::data::InMemoryDataset;

absl::Status Check(bool ok, const std::string& message) {
  return ok ? absl::OkStatus() : absl::InvalidArgumentError(message);
}

int64_t MiniBatch(const TrainConfig& c) {
  return c.mini_batch_size > 0 ? c.mini_batch_size : c.batch_size;
}

// Random crop + flip (+ cutout) for CIFAR, nothing for MNIST-style data.
torch::Tensor Augment(const WnData& data, bool cutout, const torch::Tensor& x,
                      torch::Generator& gen) {
  if (!data.augment) return x;
  torch::Tensor y =
      common::data::RandomCropFlip(x, 4, common::data::PaddingValue(data.mean, data.std), gen);
  return cutout ? common::data::Cutout(y, 16, gen) : y;  // same as reference: 1 hole, 16 px
}

// The reference's sample_batch: the first batch of a shuffled, augmented training loader.
torch::Tensor InitBatch(const TrainConfig& c, const WnData& data) {
  torch::Generator gen = common::data::SeededGenerator(c.seed, /*stream=*/1000);
  const torch::Tensor idx =
      torch::randperm(data.train.size(), gen, torch::kInt64).slice(0, 0, MiniBatch(c));
  return Augment(data, c.cutout, data.train.Get(idx).inputs, gen);
}

struct Eval {
  double loss = 0, acc = 0;
};

// A data-parallel run gives each rank a contiguous share of the batches and sums over the ranks;
// BatchNorm's running statistics are rank 0's.
absl::StatusOr<Eval> Evaluate(NetImpl& net, const InMemoryDataset& set, const torch::Device& device,
                              common::dist::ProcessGroup& world) {
  RETURN_IF_ERROR(world.BroadcastBuffers(net));
  torch::NoGradGuard no_grad;
  net.eval();
  common::train::RunningMean loss, acc;
  const auto batches = set.EpochBatches(1000, /*shuffle=*/false, 0, 0);
  const auto [first, end] = common::dist::ShardRange(static_cast<int64_t>(batches.size()),
                                                     world.rank(), world.world_size());
  for (int64_t k = first; k < end; ++k) {
    const torch::Tensor& idx = batches[k];
    const common::data::Batch b = set.Get(idx);
    const torch::Tensor out = net.forward(b.inputs.to(device)).cpu();
    loss.Add(torch::nn::functional::cross_entropy(out, b.targets).item<double>(), idx.size(0));
    acc.Add(common::train::Accuracy(out, b.targets), idx.size(0));
  }
  net.train();
  RETURN_IF_ERROR(world.SumOverRanks(loss));
  RETURN_IF_ERROR(world.SumOverRanks(acc));
  return Eval{loss.mean(), acc.mean()};
}

absl::StatusOr<TrainResult> RunHessian(const TrainConfig& c, const WnData& data, NetImpl& net) {
  const auto batches = data.train.EpochBatches(MiniBatch(c), /*shuffle=*/true, c.seed, 0);
  const int64_t n = std::max<int64_t>(1, static_cast<int64_t>(c.hessian_fraction * batches.size()));
  torch::Generator aug = common::data::SeededGenerator(c.seed, 3000);
  std::vector<common::data::Batch> fixed;  // augmented once, so every iteration sees the same H
  for (int64_t i = 0; i < n; ++i) {
    common::data::Batch b = data.train.Get(batches[i]);
    fixed.push_back({Augment(data, c.cutout, b.inputs, aug).to(c.device), b.targets.to(c.device)});
  }
  net.train();  // same as reference: train mode
  auto loss = [&](int64_t i) {
    return torch::nn::functional::cross_entropy(net.forward(fixed[i].inputs), fixed[i].targets);
  };
  torch::Generator gen = common::data::SeededGenerator(c.seed, 4000);
  HessianEstimate h = HessianSpectralNorm(net.parameters(), loss, n, c.hessian_iters, gen);
  TrainResult r;
  r.hessian_norm = h.value;
  r.hessian_trace = h.trace;
  if (!c.out_dir.empty()) {
    RETURN_IF_ERROR(common::train::WriteJsonFile(c.out_dir + "/hessian.json",
                                                 {{"estimate", h.value},
                                                  {"log_abs_estimate", std::log(std::abs(h.value))},
                                                  {"trace", h.trace},
                                                  {"batches", n}}));
  }
  return r;
}

// A copy of the module's state (StateDict's tensors share storage with the live parameters).
common::train::TensorMap Snapshot(const torch::nn::Module& module) {
  common::train::TensorMap state = common::train::StateDict(module);
  for (auto& [name, tensor] : state) tensor = tensor.clone();
  return state;
}

}  // namespace

absl::Status Validate(const TrainConfig& c) {
  const bool cifar = c.dataset == "cifar10" || c.dataset == "cifar100";
  RETURN_IF_ERROR(
      Check(cifar || c.dataset == "mnist" || c.dataset == "fashion-mnist",
            absl::StrCat("--dataset must be fashion-mnist, mnist, cifar10 or cifar100, got '",
                         c.dataset, "'")));
  RETURN_IF_ERROR(Check(c.epochs > 0, absl::StrCat("--epochs must be > 0, got ", c.epochs)));
  RETURN_IF_ERROR(
      Check(c.batch_size > 0, absl::StrCat("--batch_size must be > 0, got ", c.batch_size)));
  RETURN_IF_ERROR(Check(
      c.mini_batch_size >= 0 && (c.mini_batch_size == 0 || c.batch_size % c.mini_batch_size == 0),
      absl::StrCat("--mini_batch_size must divide --batch_size=", c.batch_size, ", got ",
                   c.mini_batch_size)));
  RETURN_IF_ERROR(Check(c.lr > 0, absl::StrCat("--lr must be > 0, got ", c.lr)));
  RETURN_IF_ERROR(Check(c.momentum >= 0 && c.momentum < 1,
                        absl::StrCat("--momentum must be in [0, 1), got ", c.momentum)));
  RETURN_IF_ERROR(Check(c.weight_decay >= 0,
                        absl::StrCat("--weight_decay must be >= 0, got ", c.weight_decay)));
  RETURN_IF_ERROR(
      Check(c.lr_annealing_type >= 0 && c.lr_annealing_type <= 5,
            absl::StrCat("--lr_annealing_type must be 0..5, got ", c.lr_annealing_type)));
  RETURN_IF_ERROR(Check(c.warmup_epochs >= 0 && c.warmup_lr >= 0,
                        absl::StrCat("--warmup_epochs and --warmup_lr must be >= 0, got ",
                                     c.warmup_epochs, " and ", c.warmup_lr)));
  RETURN_IF_ERROR(
      Check(c.limit_to >= 0, absl::StrCat("--limit_to must be >= 0, got ", c.limit_to)));
  RETURN_IF_ERROR(Check(c.val_fraction > 0 && c.val_fraction < 1,
                        absl::StrCat("--val_fraction must be in (0, 1), got ", c.val_fraction)));
  RETURN_IF_ERROR(
      Check(!c.cutout || cifar, "--cutout applies to --dataset=cifar10 and cifar100 only"));
  RETURN_IF_ERROR(
      Check(c.hessian_iters > 0 && c.hessian_fraction > 0 && c.hessian_fraction <= 1,
            absl::StrCat("--hessian_iters must be > 0 and --hessian_fraction in (0, 1], got ",
                         c.hessian_iters, " and ", c.hessian_fraction)));
  RETURN_IF_ERROR(
      ParseInitScheme(c.init, c.weight_norm, c.backward_gain, c.init_extra_param).status());
  return Validate(ModelOptions(c.nn, 1, 1, 2)
                      .hidden_size(c.hidden_size)
                      .num_layers(c.num_layers)
                      .num_blocks(c.num_blocks)
                      .wrn_n(c.wrn_n)
                      .wrn_k(c.wrn_k)
                      .batch_norm(c.batch_norm));
}

absl::StatusOr<WnData> LoadWnData(const TrainConfig& c, const std::string& data_dir) {
  RETURN_IF_ERROR(Validate(c));
  ASSIGN_OR_RETURN(common::data::ImageSplits raw,
                   common::data::LoadNamedImageSplits(
                       c.dataset, data_dir, {"fashion-mnist", "mnist", "cifar10", "cifar100"}));
  const bool cifar = c.dataset == "cifar10" || c.dataset == "cifar100";
  WnData d;
  if (cifar) {  // same as reference: CIFAR-10 statistics for CIFAR-100 too
    d.mean = {0.4914, 0.4822, 0.4465}, d.std = {0.2023, 0.1994, 0.2010};
  } else {  // same as reference: Normalize(0.5, 1.0)
    d.mean = {0.5}, d.std = {1.0};
  }
  const torch::Tensor train =
      common::data::NormalizeChannels(common::data::ScaleToUnit(raw.train_images), d.mean, d.std);
  const torch::Tensor test =
      common::data::NormalizeChannels(common::data::ScaleToUnit(raw.test_images), d.mean, d.std);
  InMemoryDataset full(train, raw.train_labels);
  if (c.limit_to > 0 && c.limit_to < full.size()) full = full.Subset(torch::arange(c.limit_to));
  const int64_t n_valid = static_cast<int64_t>(c.val_fraction * static_cast<double>(full.size()));
  const common::data::SplitIndices split = common::data::RandomSplit(full.size(), n_valid, c.seed);
  d.train = full.Subset(split.train);
  d.valid = full.Subset(split.valid);
  d.test = InMemoryDataset(test, raw.test_labels);
  d.channels = train.size(1), d.side = train.size(2), d.classes = raw.num_classes;
  d.augment = cifar;
  return d;
}

double ScheduledLr(int type, double lr, int64_t epoch, int64_t epochs) {
  const double t = static_cast<double>(epoch), e = static_cast<double>(epochs);
  auto steps = [&](std::vector<double> at, double factor) {
    double out = lr;
    for (double a : at) out *= t >= a ? factor : 1.0;
    return out;
  };
  switch (type) {
    case 1:
      return steps({e / 3, 2 * e / 3}, 0.1);
    case 2:
      return steps({e / 2, 3 * e / 4}, 0.1);
    case 3:
      return steps({0.3 * e, 0.6 * e, 0.8 * e}, 0.2);  // WRN: 60, 120, 160 of 200
    case 4:
    case 5:
      return steps({91, 136}, 0.1);  // He et al.: absolute epochs (same as reference)
    default:
      return lr;
  }
}

ModelOptions ModelOptionsFor(const TrainConfig& c, const WnData& data) {
  return ModelOptions(c.nn, data.channels, data.side, data.classes)
      .hidden_size(c.hidden_size)
      .num_layers(c.num_layers)
      .num_blocks(c.num_blocks)
      .wrn_n(c.wrn_n)
      .wrn_k(c.wrn_k)
      .wrn_reduced_memory(c.wrn_reduced_memory)
      .weight_norm(c.weight_norm)
      .batch_norm(c.batch_norm);
}

namespace {

// The epoch loop of Train: SGD with warmup and accumulation, the best-validation state (kept in
// memory and in model_best.pt), per-epoch metrics and status.json.
class Trainer {
 public:
  Trainer(const TrainConfig& c, const WnData& data, NetImpl& net,
          std::optional<common::train::RunDir>& run, common::dist::ProcessGroup& world)
      : c_(c),
        data_(data),
        net_(net),
        run_(run),
        world_(world),
        sync_(world, net.parameters()),
        sgd_(net.parameters(),
             torch::optim::SGDOptions(c.lr).momentum(c.momentum).weight_decay(c.weight_decay)) {}

  torch::optim::Optimizer& optimizer() { return sgd_; }

  // The augmentation generator's state of a run stopped mid-epoch, kept in its checkpoint.
  common::train::TensorMap SaveExtra() const {
    return aug_state_.defined() ? common::train::TensorMap{{"augment_rng", aug_state_}}
                                : common::train::TensorMap{};
  }
  absl::Status RestoreExtra(const common::train::TensorMap& extra) {
    const auto it = extra.find("augment_rng");
    if (it != extra.end()) aug_state_ = it->second;
    return absl::OkStatus();
  }

  // The best model so far: from the run directory when resuming, else the initial weights.
  absl::Status Start() {
    // status.json is written at every epoch's end: without it the run stopped inside epoch 1 and
    // the best so far is the initial model, which the net still is here (RunEpochs restores later).
    // Every rank of a data-parallel run reads rank 0's files.
    const std::string dir = c_.out_dir;
    if (c_.resume && !dir.empty() && common::data::FileExists(dir + "/checkpoint.pt") &&
        common::data::FileExists(dir + "/status.json")) {
      ASSIGN_OR_RETURN(nlohmann::json status, common::train::ReadJsonFile(dir + "/status.json"));
      r_.best_val_acc = status.value("best_val_acc", 0.0),
      r_.best_epoch = status.value("best_epoch", 0);
      ASSIGN_OR_RETURN(best_, common::train::LoadTensorMap(dir + "/model_best.pt"));
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(const Eval initial, Evaluate(net_, data_.valid, c_.device, world_));
    r_.best_val_acc = initial.acc;
    best_ = Snapshot(net_);
    return run_ ? common::train::SaveTensorMap(run_->File("model_best.pt"), best_)
                : absl::OkStatus();
  }

  absl::Status RunEpoch(int64_t epoch, common::train::TrainProgress& progress) {
    if (first_epoch_ && run_)
      RETURN_IF_ERROR(run_->TruncateMetrics("epoch", static_cast<double>(epoch)));
    first_epoch_ = false;
    const auto start = std::chrono::steady_clock::now();
    EpochStats stats;
    RETURN_IF_ERROR(TrainEpoch(epoch, progress, stats));
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return EndEpoch(epoch, progress, stats);
  }

  // After the loop: a NaN loss ends training cleanly; the best model's test accuracy.
  absl::StatusOr<TrainResult> Finish(const absl::StatusOr<common::train::TrainProgress>& done) {
    if (!done.ok() && !r_.diverged) return done.status();
    if (r_.diverged) LOG(WARNING) << done.status().message() << "; evaluating the best checkpoint";
    if (done.ok()) r_.epochs_done = done->epoch, r_.sgd_steps = done->step;
    RETURN_IF_ERROR(common::train::LoadStateDictInto(best_, net_, "model_best.pt"));
    ASSIGN_OR_RETURN(const Eval test, Evaluate(net_, data_.test, c_.device, world_));
    r_.test_acc = test.acc;
    if (run_) {
      RETURN_IF_ERROR(run_->WriteSummary({{"epochs_done", r_.epochs_done},
                                          {"sgd_steps", r_.sgd_steps},
                                          {"best_val_acc", r_.best_val_acc},
                                          {"best_epoch", r_.best_epoch},
                                          {"test_acc", r_.test_acc},
                                          {"diverged", r_.diverged}}));
    }
    return r_;
  }

 private:
  struct EpochStats {
    common::train::RunningMean loss, acc;
    double lr = 0, seconds = 0;
  };

  absl::Status TrainEpoch(int64_t epoch, common::train::TrainProgress& progress,
                          EpochStats& stats) {
    const double epoch_lr = ScheduledLr(c_.lr_annealing_type, c_.lr, epoch, c_.epochs);
    common::train::SetLearningRate(sgd_, stats.lr = epoch_lr);
    const auto batches = data_.train.EpochBatches(MiniBatch(c_), /*shuffle=*/true, c_.seed, epoch);
    const int nb = static_cast<int>(batches.size());
    const int64_t accumulate = c_.batch_size / MiniBatch(c_);
    torch::Generator aug =
        common::data::SeededGenerator(c_.seed, 2000 + static_cast<uint64_t>(epoch));
    const int start =
        static_cast<int>(common::train::StartBatch(progress));  // > 0: resumed mid-epoch
    if (start > 0) aug.set_state(aug_state_);  // the augmentation draws continue where they stopped
    common::train::ProgressLine line(absl::StrCat("epoch ", epoch + 1, "/", c_.epochs), nb);
    net_.zero_grad(/*set_to_none=*/true);  // backward then stores fresh gradients: no zero + add
    for (int i = start; i < nb; ++i) {
      if (static_cast<double>(epoch) < c_.warmup_epochs) {
        stats.lr = common::train::QuadraticWarmupLr(c_.warmup_lr, epoch_lr, c_.warmup_epochs,
                                                    static_cast<int>(epoch), i, nb);
        common::train::SetLearningRate(sgd_, stats.lr);
      }
      // Data-parallel: every rank augments the whole mini-batch (the same draws as one process)
      // and trains on its rows; its loss is weighted by its share of the mini-batch and the
      // gradients summed over the ranks at the optimizer step.
      const common::data::Batch whole = data_.train.Get(batches[i]);
      const common::data::Batch b{world_.Shard(Augment(data_, c_.cutout, whole.inputs, aug)),
                                  world_.Shard(whole.targets)};
      const int64_t mine = b.targets.size(0);
      const bool stepped = (i + 1) % accumulate == 0 || i + 1 == nb;
      torch::Tensor out, scaled;
      double value = 0;
      if (mine > 0) {
        out = net_.forward(b.inputs.to(c_.device));
        const torch::Tensor loss =
            torch::nn::functional::cross_entropy(out, b.targets.to(c_.device));
        value = loss.item<double>();
        scaled = accumulate > 1 ? loss / static_cast<double>(accumulate) : loss;
        if (world_.distributed()) {
          scaled = scaled * (static_cast<double>(mine) / batches[i].size(0));
        }
      }
      if (std::isnan(value)) {  // same as reference: divergence ends the run
        r_.diverged = true;
        return absl::AbortedError(
            absl::StrCat("loss is NaN at epoch ", epoch + 1, ", batch ", i + 1));
      }
      RETURN_IF_ERROR(sync_.Backward(scaled, 1, 1, /*reduce=*/stepped));
      if (stepped && world_.distributed() && !GradientsFinite()) {
        // Another rank's loss was NaN: the summed gradients say so on every rank.
        r_.diverged = true;
        return absl::AbortedError(absl::StrCat("loss is NaN at epoch ", epoch + 1, ", batch ",
                                               i + 1, " on another rank"));
      }
      if (stepped) {
        sgd_.step();
        net_.zero_grad(/*set_to_none=*/true);
        ++progress.step;
      }
      if (mine > 0) {
        stats.loss.Add(value, mine);
        stats.acc.Add(common::train::Accuracy(out.detach().cpu(), b.targets), mine);
      }
      line.Update(i + 1, absl::StrFormat("loss %.4f lr %.4g", stats.loss.mean(), stats.lr));
      if (stepped && i + 1 < nb) {  // no accumulated gradient pending
        ASSIGN_OR_RETURN(const bool stop, common::train::StopRequested());
        if (stop) {
          aug_state_ = aug.get_state();
          return common::train::InterruptedAt(progress, i + 1);
        }
      }
    }
    RETURN_IF_ERROR(world_.SumOverRanks(stats.loss));
    RETURN_IF_ERROR(world_.SumOverRanks(stats.acc));
    line.Finish(absl::StrFormat("train loss %.4f acc %.4f", stats.loss.mean(), stats.acc.mean()));
    return absl::OkStatus();
  }

  absl::Status EndEpoch(int64_t epoch, const common::train::TrainProgress& progress,
                        const EpochStats& stats) {
    ASSIGN_OR_RETURN(const Eval val, Evaluate(net_, data_.valid, c_.device, world_));
    LOG(INFO) << absl::StrFormat("epoch %d: training %.2f s, val loss %.4f acc %.4f", epoch + 1,
                                 stats.seconds, val.loss, val.acc);
    if (std::isnan(val.loss) || std::isnan(stats.loss.mean())) {
      // Diverged between the last training step and the evaluation (inf logits give a NaN
      // validation loss before any training loss is NaN): the same end as a NaN training loss.
      r_.diverged = true;
      return absl::AbortedError(absl::StrCat("validation loss is NaN at epoch ", epoch + 1));
    }
    if (val.acc > r_.best_val_acc) {
      r_.best_val_acc = val.acc, r_.best_epoch = epoch + 1;
      best_ = Snapshot(net_);
      if (run_) RETURN_IF_ERROR(common::train::SaveTensorMap(run_->File("model_best.pt"), best_));
    }
    r_.epochs_done = epoch + 1, r_.sgd_steps = progress.step;
    if (!run_) return absl::OkStatus();
    RETURN_IF_ERROR(run_->AppendMetrics({{"epoch", epoch + 1},
                                         {"train_loss", stats.loss.mean()},
                                         {"val_loss", val.loss},
                                         {"train_acc", stats.acc.mean()},
                                         {"val_acc", val.acc},
                                         {"lr", stats.lr},
                                         {"train_seconds", stats.seconds}}));
    return common::train::WriteJsonFile(run_->File("status.json"),
                                        {{"num_epochs", epoch + 1},
                                         {"sgd_steps", progress.step},
                                         {"best_val_acc", r_.best_val_acc},
                                         {"best_epoch", r_.best_epoch}});
  }

  bool GradientsFinite() {
    for (const torch::Tensor& p : net_.parameters()) {
      if (p.grad().defined() && !torch::isfinite(p.grad()).all().item<bool>()) return false;
    }
    return true;
  }

  const TrainConfig& c_;
  const WnData& data_;
  NetImpl& net_;
  std::optional<common::train::RunDir>& run_;  // rank 0's only in a data-parallel run
  common::dist::ProcessGroup& world_;          // one process: world size 1
  common::dist::GradientSync sync_;
  common::train::FusedSgd sgd_;  // same update as torch::optim::SGD, one pass per tensor
  TrainResult r_;
  common::train::TensorMap best_;  // the best-validation weights
  torch::Tensor aug_state_;        // see SaveExtra
  bool first_epoch_ = true;
};

}  // namespace

namespace {

// An impossible size is an error before anything is allocated (the kernel killed the process
// after it grew past the RAM).
absl::Status CheckMemory(const TrainConfig& c, const WnData& data) {
  if (c.nn != "mlp") return absl::OkStatus();  // the deep nets of the depth experiments
  const double in = static_cast<double>(data.channels * data.side * data.side),
               h = static_cast<double>(c.hidden_size);
  const double layers = static_cast<double>(c.num_layers);
  const double params = in * h + (layers - 1) * h * h + h * static_cast<double>(data.classes);
  // float32: weights, WN's direction and gradient, momentum; about 10 saved activations of
  // [mini-batch, hidden] per layer for the backward pass.
  const double bytes = 4 * (4 * params + 10 * static_cast<double>(MiniBatch(c)) * h * layers);
  return common::util::CheckFitsInMemory(
      bytes, absl::StrCat("--nn=mlp --num_layers=", c.num_layers, " --hidden_size=", c.hidden_size,
                          " --batch_size=", MiniBatch(c)));
}

}  // namespace

absl::StatusOr<TrainResult> Train(const TrainConfig& c, const WnData& data,
                                  const nlohmann::json& flags_json) {
  RETURN_IF_ERROR(Validate(c));
  RETURN_IF_ERROR(CheckMemory(c, data));
  torch::manual_seed(c.seed);  // the init draws from the global generator: same seed, same net
  ASSIGN_OR_RETURN(InitScheme scheme,
                   ParseInitScheme(c.init, c.weight_norm, c.backward_gain, c.init_extra_param));
  ASSIGN_OR_RETURN(std::shared_ptr<NetImpl> net,
                   BuildModel(ModelOptionsFor(c, data), scheme, InitBatch(c, data)));
  net->to(c.device);
  // Data-parallel with torchrun / srun: every rank trains on its share of each mini-batch;
  // rank 0 alone writes the run directory. One process: world size 1, the plain path.
  ASSIGN_OR_RETURN(common::dist::ProcessGroup * world, common::dist::World());
  ASSIGN_OR_RETURN(std::optional<common::train::RunDir> run,
                   common::dist::OpenRunDirOnRankZero(*world, c.out_dir, flags_json, c.resume));
  if (c.hessian) {  // not data-parallel: every rank computes it, rank 0 writes it
    TrainConfig one = c;
    if (!world->is_main()) one.out_dir.clear();
    return RunHessian(one, data, *net);
  }
  Trainer trainer(c, data, *net, run, *world);
  RETURN_IF_ERROR(trainer.Start());
  common::train::EpochLoopOptions loop{
      c.epochs, c.out_dir.empty() ? "" : c.out_dir + "/checkpoint.pt", c.resume};
  loop.write_checkpoints = world->is_main();
  loop.agree_interrupt = world->InterruptAgreement();  // all ranks stop at one step
  loop.on_start = [&] { return world->BroadcastModule(*net); };
  loop.save_extra = [&trainer] { return trainer.SaveExtra(); };
  loop.restore_extra = [&trainer](const common::train::TensorMap& extra) {
    return trainer.RestoreExtra(extra);
  };
  const auto done = common::train::RunEpochs(
      loop, *net, trainer.optimizer(), [&](int64_t epoch, common::train::TrainProgress& progress) {
        return trainer.RunEpoch(epoch, progress);
      });
  return trainer.Finish(done);
}

}  // namespace weightnorm_init
