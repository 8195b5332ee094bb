#include "implicit_dl/experiment.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/data/file_bytes.h"
#include "common/dist/gradient_sync.h"
#include "common/dist/process_group.h"
#include "common/dist/run_dir.h"
#include "common/train/checkpoint.h"
#include "common/train/metrics.h"
#include "common/train/progress.h"
#include "common/train/run_dir.h"
#include "common/util/status_macros.h"
#include "glog/logging.h"
#include "implicit_dl/ffnn_conversion.h"
#include "implicit_dl/sparsity_figure.h"
#include "implicit_dl/well_posedness.h"

namespace implicit_dl {
namespace {

using common::data::InMemoryDataset;
using common::train::MetricsRow;

bool IsCifar(const std::string& dataset) { return dataset == "cifar10"; }

struct Evaluation {
  double loss = 0;
  double accuracy = 0;
  int64_t not_converged = 0;
};

// The reference evaluates in one batch of valid_bs (the stopping rule couples a batch's columns).
// A data-parallel run gives each rank whole batches (a contiguous share of them), so every batch
// is solved as in one process; the sums are then taken over the ranks.
absl::StatusOr<Evaluation> Evaluate(ImplicitModel& model, const InMemoryDataset& data,
                                    int64_t valid_bs, const torch::Device& device,
                                    common::dist::ProcessGroup& world) {
  torch::NoGradGuard no_grad;
  // Every forward projects A in place (inf, triu); a rank without a batch here must too, or
  // its A (saved by rank 0 in weights.pt) would differ from a one-process run's.
  ApplyWellPosedness(model->A, model->options.variant());
  double loss_sum = 0, correct = 0, not_converged = 0;
  const auto batches = data.EpochBatches(valid_bs, /*shuffle=*/false, 0, 0);
  const auto [first, end] = common::dist::ShardRange(static_cast<int64_t>(batches.size()),
                                                     world.rank(), world.world_size());
  for (int64_t k = first; k < end; ++k) {
    const torch::Tensor& idx = batches[k];
    common::data::Batch b = data.Get(idx);
    const torch::Tensor logits = model->forward(b.inputs.to(device));
    const torch::Tensor y = b.targets.to(device);
    loss_sum += torch::nn::functional::cross_entropy(logits, y).item<double>() * idx.size(0);
    correct += static_cast<double>(common::train::CountCorrect(logits, y));
    not_converged += model->last_stats().forward_converged ? 0 : 1;
  }
  ASSIGN_OR_RETURN(const std::vector<double> sums,
                   world.SumDoubles({loss_sum, correct, not_converged}));
  const double n = static_cast<double>(data.size());
  return Evaluation{sums[0] / n, sums[1] / n, static_cast<int64_t>(sums[2])};
}

// What is logged between two evaluations.
struct Window {
  common::train::RunningMean loss, forward_iterations, backward_iterations;
  int64_t not_converged = 0;
  double max_infinity_norm_A = 0;
};

class Trainer {
 public:
  Trainer(const TrainConfig& config, const ClassificationData& data, ImplicitModel model,
          std::optional<common::train::RunDir> run, int64_t parameters,
          common::dist::ProcessGroup& world)
      : config_(config),
        data_(data),
        model_(std::move(model)),
        optimizer_(model_->parameters(), torch::optim::AdamOptions(config.lr)),
        run_(std::move(run)),
        world_(world),
        sync_(world, model_->parameters()) {
    result_.parameters = parameters;
  }

  absl::StatusOr<TrainResult> Run();

 private:
  absl::Status RunEpoch(int64_t epoch, common::train::TrainProgress& progress);
  absl::Status Step(const torch::Tensor& global_batch);
  absl::Status EvaluateAndLog(double epoch, int64_t step);

  const TrainConfig& config_;
  const ClassificationData& data_;
  ImplicitModel model_;
  torch::optim::Adam optimizer_;
  std::optional<common::train::RunDir> run_;
  common::dist::ProcessGroup& world_;  // one process: world size 1
  common::dist::GradientSync sync_;
  Window window_;
  common::train::RunningMean epoch_loss_;
  TrainResult result_;
  bool first_epoch_ = true;
};

// Data-parallel: this rank's share of the global batch (each share solved on its own, so the
// Picard stopping rule sees fewer columns than in one process).
absl::Status Trainer::Step(const torch::Tensor& global_batch) {
  const torch::Tensor mine = world_.Shard(global_batch);
  // ||A||_inf of the A this forward pass used: projected in place at its start (inf, triu), or
  // scaled to kappa on the fly (infscale).
  torch::Tensor loss;
  if (mine.numel() == 0) {
    torch::NoGradGuard no_grad;
    ApplyWellPosedness(model_->A, model_->options.variant());  // what the forward would do
  } else {
    const common::data::Batch batch = data_.train.Get(mine);
    const torch::Tensor logits = model_->forward(batch.inputs.to(config_.device));
    loss = torch::nn::functional::cross_entropy(logits, batch.targets.to(config_.device));
  }
  double a_used_norm = InfinityNorm(model_->A.detach());
  if (config_.variant == WellPosedness::kInfScale) {
    a_used_norm = std::min(a_used_norm, kInfScaleKappa);
  }
  optimizer_.zero_grad();
  RETURN_IF_ERROR(sync_.Backward(loss, mine.size(0), global_batch.size(0)));
  optimizer_.step();  // same order as reference: backward -> step; the next forward projects
  ++result_.steps;
  window_.max_infinity_norm_A = std::max(window_.max_infinity_norm_A, a_used_norm);
  result_.max_infinity_norm_A = std::max(result_.max_infinity_norm_A, a_used_norm);
  if (mine.numel() == 0) return absl::OkStatus();
  const double value = loss.item<double>();
  if (!std::isfinite(value)) {
    return absl::InternalError(
        absl::StrCat("training loss is ", value, " at step ", result_.steps, ": lower --lr"));
  }
  const SolveStats s = model_->last_stats();
  window_.loss.Add(value, static_cast<double>(mine.size(0)));
  epoch_loss_.Add(value, static_cast<double>(mine.size(0)));
  window_.forward_iterations.Add(s.forward_iterations);
  window_.backward_iterations.Add(s.backward_iterations);
  window_.not_converged += (s.forward_converged ? 0 : 1) + (s.backward_converged ? 0 : 1);
  return absl::OkStatus();
}

absl::Status Trainer::EvaluateAndLog(double epoch, int64_t step) {
  ASSIGN_OR_RETURN(const Evaluation e,
                   Evaluate(model_, data_.test, config_.valid_bs, config_.device, world_));
  if (world_.distributed()) {  // the window over every rank's steps
    RETURN_IF_ERROR(world_.SumOverRanks(window_.loss));
    RETURN_IF_ERROR(world_.SumOverRanks(window_.forward_iterations));
    RETURN_IF_ERROR(world_.SumOverRanks(window_.backward_iterations));
    ASSIGN_OR_RETURN(const std::vector<double> nc,
                     world_.SumDoubles({static_cast<double>(window_.not_converged)}));
    window_.not_converged = static_cast<int64_t>(nc[0]);
  }
  result_.not_converged += window_.not_converged;
  const bool best = e.accuracy > result_.best_valid_accuracy;
  result_.best_valid_accuracy = std::max(result_.best_valid_accuracy, e.accuracy);
  LOG(INFO) << absl::StrFormat(
      "epoch %.2f step %d | loss %.4f | valid loss %.4f acc %.4f | iters fwd %.1f bwd %.1f | "
      "not converged %d | sparsity(A) %.1f%%",
      epoch, step, window_.loss.mean(), e.loss, e.accuracy, window_.forward_iterations.mean(),
      window_.backward_iterations.mean(), window_.not_converged, model_->SparsityOfA());
  if (run_) {
    RETURN_IF_ERROR(run_->AppendMetrics(MetricsRow{
        {"epoch", epoch},
        {"step", static_cast<double>(step)},
        {"loss", window_.loss.mean()},
        {"valid_loss", e.loss},
        {"valid_acc", e.accuracy},
        {"forward_iterations", window_.forward_iterations.mean()},
        {"backward_iterations", window_.backward_iterations.mean()},
        {"not_converged", static_cast<double>(window_.not_converged)},
        {"sparsity_A", model_->SparsityOfA()},
        {"max_infinity_norm_A", window_.max_infinity_norm_A},
    }));
    if (best) RETURN_IF_ERROR(common::train::SaveStateDict(run_->File("weights_best.pt"), *model_));
  }
  window_ = Window();
  return absl::OkStatus();
}

absl::Status Trainer::RunEpoch(int64_t epoch, common::train::TrainProgress& progress) {
  model_->train();
  const auto batches = data_.train.EpochBatches(config_.bs, /*shuffle=*/true, config_.seed, epoch);
  const size_t start =
      static_cast<size_t>(common::train::StartBatch(progress));  // > 0: resumed mid-epoch
  if (first_epoch_ &&
      run_) {  // rows up to the checkpoint stay (the 1e-6: rows are written with 9 digits)
    const double at = epoch + static_cast<double>(start) / static_cast<double>(batches.size());
    RETURN_IF_ERROR(run_->TruncateMetrics("epoch", at + 1e-6));
  }
  common::train::ProgressLine line(absl::StrCat("epoch ", epoch + 1, "/", config_.epochs),
                                   static_cast<int64_t>(batches.size()));
  epoch_loss_ = common::train::RunningMean();
  for (size_t i = start; i < batches.size(); ++i) {
    RETURN_IF_ERROR(Step(batches[i]));
    ++progress.step;
    line.Update(static_cast<int64_t>(i + 1), absl::StrFormat("loss %.4f", window_.loss.mean()));
    const bool last = i + 1 == batches.size();
    if (last || (config_.eval_every > 0 && progress.step % config_.eval_every == 0)) {
      const double at = epoch + static_cast<double>(i + 1) / static_cast<double>(batches.size());
      RETURN_IF_ERROR(EvaluateAndLog(at, progress.step));
    }
    if (!last)
      RETURN_IF_ERROR(common::train::StopIfInterrupted(progress, static_cast<int64_t>(i + 1)));
  }
  RETURN_IF_ERROR(world_.SumOverRanks(epoch_loss_));
  line.Finish(absl::StrFormat("train loss %.4f", epoch_loss_.mean()));
  if (first_epoch_) result_.first_epoch_train_loss = epoch_loss_.mean();
  result_.last_epoch_train_loss = epoch_loss_.mean();
  first_epoch_ = false;
  return absl::OkStatus();
}

absl::StatusOr<TrainResult> Trainer::Run() {
  // Every rank reads the checkpoint on --resume; rank 0 alone writes it.
  const std::string checkpoint = config_.out_dir.empty() ? "" : config_.out_dir + "/checkpoint.pt";
  auto epoch_fn = [this](int64_t e, common::train::TrainProgress& p) { return RunEpoch(e, p); };
  common::train::EpochLoopOptions loop{config_.epochs, checkpoint, config_.resume};
  loop.write_checkpoints = world_.is_main();
  loop.agree_interrupt = world_.InterruptAgreement();  // all ranks stop at one step
  loop.on_start = [this] { return world_.BroadcastModule(*model_); };
  // The best validation accuracy so far is part of the checkpoint: a resumed run keeps the
  // weights_best.pt of an epoch before the kill unless it finds a better one.
  loop.save_extra = [this] {
    return common::train::TensorMap{
        {"best_valid_acc", torch::tensor(result_.best_valid_accuracy, torch::kFloat64)}};
  };
  loop.restore_extra = [this](const common::train::TensorMap& extra) {
    const auto it = extra.find("best_valid_acc");
    if (it != extra.end()) result_.best_valid_accuracy = it->second.item<double>();
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(common::train::RunEpochs(loop, *model_, optimizer_, epoch_fn).status());
  ASSIGN_OR_RETURN(const Evaluation test,
                   Evaluate(model_, data_.test, config_.valid_bs, config_.device, world_));
  result_.test_accuracy = test.accuracy;
  result_.test_loss = test.loss;
  if (run_) {
    RETURN_IF_ERROR(common::train::SaveStateDict(run_->File("weights.pt"), *model_));
    RETURN_IF_ERROR(WriteSparsityFigure(*model_, run_->File("sparsity.svg")));
    RETURN_IF_ERROR(run_->WriteSummary({{"test_acc", test.accuracy},
                                        {"test_loss", test.loss},
                                        {"best_valid_acc", result_.best_valid_accuracy},
                                        {"steps_this_run", result_.steps},
                                        {"not_converged", result_.not_converged},
                                        {"sparsity_A", model_->SparsityOfA()},
                                        {"infinity_norm_A", InfinityNorm(model_->A.detach())},
                                        {"max_infinity_norm_A", result_.max_infinity_norm_A},
                                        {"model", config_.model},
                                        {"parameters", result_.parameters}}));
  }
  return result_;
}

struct FfnnModel {
  ImplicitModel model{nullptr};
  int64_t parameters = 0;
};

// The MLP p-h_1-...-h_k-q with PyTorch's default Linear init, as an implicit model whose
// structural zeros get no gradient (so Adam never moves them: its update of an entry whose
// gradient is always 0 is 0).
absl::StatusOr<FfnnModel> MakeFfnn(const TrainConfig& config, int64_t p, int64_t q) {
  std::vector<int64_t> widths = {p};
  widths.insert(widths.end(), config.ffnn_hidden.begin(), config.ffnn_hidden.end());
  widths.push_back(q);
  std::vector<torch::nn::Linear> layers, ones;
  for (size_t k = 0; k + 1 < widths.size(); ++k) {
    auto options = torch::nn::LinearOptions(widths[k], widths[k + 1]).bias(config.bias);
    layers.emplace_back(options);
    ones.emplace_back(options);
    torch::NoGradGuard no_grad;
    for (torch::Tensor t : ones.back()->parameters()) t.fill_(1);
  }
  ASSIGN_OR_RETURN(ImplicitModel model, ImplicitFromMlp(layers, config.activation));
  ASSIGN_OR_RETURN(const ImplicitModel structure, ImplicitFromMlp(ones, config.activation));
  model->options.solver(config.solver);
  FfnnModel out;
  const std::vector<torch::Tensor> params = {model->A, model->B, model->C, model->D};
  const std::vector<torch::Tensor> masks = {structure->A, structure->B, structure->C, structure->D};
  for (size_t i = 0; i < params.size(); ++i) {
    const torch::Tensor mask = (masks[i] != 0).to(params[i].dtype()).to(config.device);
    out.parameters += mask.sum().item<int64_t>();
    torch::Tensor param = params[i];
    param.register_hook([mask](const torch::Tensor& grad) { return grad * mask; });
  }
  out.model = model;
  return out;
}

}  // namespace

TrainConfig WithDatasetDefaults(TrainConfig config) {
  if (config.model == "ffnn") {
    config.n = 0;
    for (int64_t h : config.ffnn_hidden) config.n += h;
  }
  if (config.n == 0) config.n = IsCifar(config.dataset) ? 300 : 100;
  if (config.lr == 0) config.lr = IsCifar(config.dataset) ? 5e-4 : 5e-3;
  return config;
}

absl::Status Validate(const TrainConfig& c) {
  if (c.dataset != "fashion-mnist" && c.dataset != "mnist" && c.dataset != "cifar10") {
    return absl::InvalidArgumentError(
        absl::StrCat("--dataset must be fashion-mnist, mnist or cifar10, got '", c.dataset, "'"));
  }
  if (c.model != "implicit" && c.model != "ffnn") {
    return absl::InvalidArgumentError(
        absl::StrCat("--model must be implicit or ffnn, got '", c.model, "'"));
  }
  if (c.model == "ffnn") {
    if (c.ffnn_hidden.empty()) return absl::InvalidArgumentError("--ffnn_hidden is empty");
    for (int64_t h : c.ffnn_hidden) {
      if (h <= 0) return absl::InvalidArgumentError(absl::StrCat("--ffnn_hidden: ", h, " <= 0"));
    }
  }
  const std::pair<const char*, int64_t> positive[] = {
      {"--epochs", c.epochs}, {"--bs", c.bs}, {"--valid_bs", c.valid_bs}, {"--n", c.n}};
  for (const auto& [name, v] : positive) {
    if (v <= 0) return absl::InvalidArgumentError(absl::StrCat(name, " must be > 0, got ", v));
  }
  if (!(c.lr > 0)) return absl::InvalidArgumentError(absl::StrCat("--lr must be > 0, got ", c.lr));
  if (c.eval_every < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--eval_every must be >= 0, got ", c.eval_every));
  }
  return Validate(ImplicitModelOptions(c.n, 1, 1).solver(c.solver));
}

absl::StatusOr<ClassificationData> LoadClassificationData(const std::string& dataset,
                                                          const std::string& data_dir) {
  ASSIGN_OR_RETURN(
      common::data::ImageSplits raw,
      common::data::LoadNamedImageSplits(dataset, data_dir, {"fashion-mnist", "mnist", "cifar10"}));
  const bool cifar = IsCifar(dataset);
  auto prepare = [cifar](const torch::Tensor& images) {
    torch::Tensor x = common::data::ScaleToUnit(images);
    x = cifar ? common::data::NormalizeChannels(x, {0.5, 0.5, 0.5}, {0.5, 0.5, 0.5})
              : common::data::NormalizeChannels(x, {0.5}, {1.0});  // same as reference: std 1
    return common::data::FlattenFeatures(x).contiguous();
  };
  return ClassificationData{InMemoryDataset(prepare(raw.train_images), raw.train_labels),
                            InMemoryDataset(prepare(raw.test_images), raw.test_labels),
                            raw.num_classes};
}

absl::StatusOr<TrainResult> Train(const TrainConfig& config, const ClassificationData& data,
                                  const nlohmann::json& flags_json) {
  RETURN_IF_ERROR(Validate(config));
  torch::manual_seed(
      config.seed);  // the init draws from the global generator: same seed, same model
  const int64_t p = data.train.inputs().size(1);
  ImplicitModel model(nullptr);
  int64_t parameters = 0;
  if (config.model == "ffnn") {
    ASSIGN_OR_RETURN(FfnnModel ffnn, MakeFfnn(config, p, data.num_classes));
    model = ffnn.model;
    parameters = ffnn.parameters;
  } else {
    ImplicitModelOptions options(config.n, p, data.num_classes);
    options.variant(config.variant).activation(config.activation).solver(config.solver);
    options.bias(config.bias);
    model = ImplicitModel(options);
    for (const torch::Tensor& t : model->parameters()) parameters += t.numel();
  }
  model->to(config.device);
  // Data-parallel with torchrun / srun: every rank trains on its share of each global batch;
  // rank 0 alone writes the run directory. One process: world size 1, the plain path.
  ASSIGN_OR_RETURN(common::dist::ProcessGroup * world, common::dist::World());
  ASSIGN_OR_RETURN(
      std::optional<common::train::RunDir> run,
      common::dist::OpenRunDirOnRankZero(*world, config.out_dir, flags_json, config.resume));
  if (run) LOG(INFO) << "run directory: " << config.out_dir;
  Trainer trainer(config, data, model, std::move(run), parameters, *world);
  return trainer.Run();
}

}  // namespace implicit_dl
