#include "implicit_dl/experiment.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/data/file_bytes.h"
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
Evaluation Evaluate(ImplicitModel& model, const InMemoryDataset& data, int64_t valid_bs,
                    const torch::Device& device) {
  torch::NoGradGuard no_grad;
  common::train::RunningMean loss;
  int64_t correct = 0, not_converged = 0;
  for (const torch::Tensor& idx : data.EpochBatches(valid_bs, /*shuffle=*/false, 0, 0)) {
    common::data::Batch b = data.Get(idx);
    const torch::Tensor logits = model->forward(b.inputs.to(device));
    const torch::Tensor y = b.targets.to(device);
    loss.Add(torch::nn::functional::cross_entropy(logits, y).item<double>(), idx.size(0));
    correct += common::train::CountCorrect(logits, y);
    not_converged += model->last_stats().forward_converged ? 0 : 1;
  }
  return {loss.mean(), static_cast<double>(correct) / static_cast<double>(data.size()),
          not_converged};
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
          std::optional<common::train::RunDir> run, int64_t parameters)
      : config_(config),
        data_(data),
        model_(std::move(model)),
        optimizer_(model_->parameters(), torch::optim::AdamOptions(config.lr)),
        run_(std::move(run)) {
    result_.parameters = parameters;
  }

  absl::StatusOr<TrainResult> Run();

 private:
  absl::Status RunEpoch(int64_t epoch, common::train::TrainProgress& progress);
  absl::Status Step(const common::data::Batch& batch);
  absl::Status EvaluateAndLog(double epoch, int64_t step);

  const TrainConfig& config_;
  const ClassificationData& data_;
  ImplicitModel model_;
  torch::optim::Adam optimizer_;
  std::optional<common::train::RunDir> run_;
  Window window_;
  common::train::RunningMean epoch_loss_;
  TrainResult result_;
  bool first_epoch_ = true;
};

absl::Status Trainer::Step(const common::data::Batch& batch) {
  const torch::Tensor logits = model_->forward(batch.inputs.to(config_.device));
  // ||A||_inf of the A this forward pass used: projected in place at its start (inf, triu), or
  // scaled to kappa on the fly (infscale).
  double a_used_norm = InfinityNorm(model_->A.detach());
  if (config_.variant == WellPosedness::kInfScale) {
    a_used_norm = std::min(a_used_norm, kInfScaleKappa);
  }
  const torch::Tensor loss =
      torch::nn::functional::cross_entropy(logits, batch.targets.to(config_.device));
  optimizer_.zero_grad();
  loss.backward();
  optimizer_.step();  // same order as reference: backward -> step; the next forward projects
  const double value = loss.item<double>();
  if (!std::isfinite(value)) {
    return absl::InternalError(
        absl::StrCat("training loss is ", value, " at step ", result_.steps + 1, ": lower --lr"));
  }
  const SolveStats s = model_->last_stats();
  window_.max_infinity_norm_A = std::max(window_.max_infinity_norm_A, a_used_norm);
  result_.max_infinity_norm_A = std::max(result_.max_infinity_norm_A, a_used_norm);
  window_.loss.Add(value, batch.inputs.size(0));
  epoch_loss_.Add(value, batch.inputs.size(0));
  window_.forward_iterations.Add(s.forward_iterations);
  window_.backward_iterations.Add(s.backward_iterations);
  window_.not_converged += (s.forward_converged ? 0 : 1) + (s.backward_converged ? 0 : 1);
  ++result_.steps;
  return absl::OkStatus();
}

absl::Status Trainer::EvaluateAndLog(double epoch, int64_t step) {
  const Evaluation e = Evaluate(model_, data_.test, config_.valid_bs, config_.device);
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
    RETURN_IF_ERROR(Step(data_.train.Get(batches[i])));
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
  line.Finish(absl::StrFormat("train loss %.4f", epoch_loss_.mean()));
  if (first_epoch_) result_.first_epoch_train_loss = epoch_loss_.mean();
  result_.last_epoch_train_loss = epoch_loss_.mean();
  first_epoch_ = false;
  return absl::OkStatus();
}

absl::StatusOr<TrainResult> Trainer::Run() {
  const std::string checkpoint = run_ ? run_->checkpoint_path() : "";
  auto epoch_fn = [this](int64_t e, common::train::TrainProgress& p) { return RunEpoch(e, p); };
  common::train::EpochLoopOptions loop{config_.epochs, checkpoint, config_.resume};
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
  const Evaluation test = Evaluate(model_, data_.test, config_.valid_bs, config_.device);
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
  std::optional<common::train::RunDir> run;
  if (!config.out_dir.empty()) {
    ASSIGN_OR_RETURN(run, common::train::RunDir::Open(config.out_dir, flags_json, config.resume));
    LOG(INFO) << "run directory: " << config.out_dir;
  }
  Trainer trainer(config, data, model, std::move(run), parameters);
  return trainer.Run();
}

}  // namespace implicit_dl
