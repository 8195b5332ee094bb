#include "excess_capacity/experiment.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/data/file_bytes.h"
#include "common/dist/gradient_sync.h"
#include "common/dist/process_group.h"
#include "common/dist/run_dir.h"
#include "common/plot/plot.h"
#include "common/train/checkpoint.h"
#include "common/train/lr_schedule.h"
#include "common/train/metrics.h"
#include "common/train/progress.h"
#include "common/train/run_dir.h"
#include "common/train/tensorboard.h"
#include "common/util/status_macros.h"
#include "excess_capacity/models.h"
#include "excess_capacity/optimizers.h"
#include "glog/logging.h"

namespace excess_capacity {
namespace {

using common::data::InMemoryDataset;

struct Evaluation {
  double loss = 0, accuracy = 0;
  torch::Tensor margins;  // [N]
};

// Each rank evaluates its contiguous share of `data`; loss, accuracy and the margins (in data
// order) are those of the whole set on every rank.
absl::StatusOr<Evaluation> Evaluate(ConstrainedNetwork& net, const InMemoryDataset& data,
                                    const TrainConfig& c, common::dist::ProcessGroup& world) {
  RETURN_IF_ERROR(world.BroadcastBuffers(net));  // --bn: rank 0's running statistics
  torch::NoGradGuard no_grad;
  net.eval();
  double loss_sum = 0, correct = 0;
  std::vector<torch::Tensor> margins;
  const auto [begin, end] = common::dist::ShardRange(data.size(), world.rank(), world.world_size());
  for (int64_t i = begin; i < end; i += c.test_bs) {
    const common::data::Batch b = data.Get(torch::arange(i, std::min(end, i + c.test_bs)));
    const torch::Tensor y = b.targets.to(c.device);
    const torch::Tensor logits = net.forward(b.inputs.to(c.device));
    loss_sum += torch::nn::functional::cross_entropy(logits, y).item<double>() * y.size(0);
    correct += static_cast<double>(common::train::CountCorrect(logits, y));
    margins.push_back(Margins(logits, y).cpu());
  }
  net.train();
  ASSIGN_OR_RETURN(const std::vector<double> sums, world.SumDoubles({loss_sum, correct}));
  ASSIGN_OR_RETURN(torch::Tensor all_margins,
                   world.AllGatherRows(margins.empty() ? torch::zeros({0}) : torch::cat(margins)));
  const double n = static_cast<double>(data.size());
  return Evaluation{sums[0] / n, sums[1] / n, all_margins};
}

absl::StatusOr<std::shared_ptr<ConstrainedNetwork>> BuildNetwork(const TrainConfig& c,
                                                                 const ImageData& data) {
  const ProjMode mode = c.proj_mode == "radial" ? ProjMode::kRadial : ProjMode::kOrthogonal;
  ASSIGN_OR_RETURN(NetworkConstraints constraints, ParseConstraints(c.lip, c.dist, mode));
  if (constraints.simplex()) {
    const int64_t width = c.arch == "no_stride_preactresnet18" ? 512 : c.n_channels;
    if (width < data.classes - 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("the simplex classifier (--dist ... 0) needs at least ", data.classes - 1,
                       " features for ", data.classes, " classes; --n_channels=", width));
    }
  }
  std::shared_ptr<ConstrainedNetwork> net;
  if (c.arch == "no_stride_preactresnet18") {
    net = MakeNoStridePreActResNet18(data.classes, data.channels, constraints, c.bn);
  } else {
    net = MakeSimpleConvnet(c.arch == "simple_convnet6" ? 1 : 2, data.classes, data.channels,
                            c.n_channels, constraints);
  }
  if (c.arch != "no_stride_preactresnet18" && data.side != 32) {
    return absl::InvalidArgumentError(absl::StrCat("--arch=", c.arch, " expects 32x32 inputs; ",
                                                   c.dataset, " images are ", data.side, "x",
                                                   data.side));
  }
  net->Init(data.channels, data.side, data.side);  // before the optimizer and any checkpoint
  net->to(c.device);
  return net;
}

std::unique_ptr<torch::optim::Optimizer> MakeOptimizer(const TrainConfig& c,
                                                       std::vector<torch::Tensor> params) {
  if (c.optimizer == "adam") {
    return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(c.lr));
  }
  if (c.optimizer == "lamb") {
    return std::make_unique<Lamb>(params,
                                  torch::optim::AdamOptions(c.lr).eps(1e-6).weight_decay(c.wd));
  }
  auto sgd = torch::optim::SGDOptions(c.lr).momentum(c.momentum).weight_decay(c.wd);
  if (c.optimizer == "lars") return std::make_unique<Lars>(params, sgd);
  return std::make_unique<torch::optim::SGD>(params, sgd);
}

// Cosine annealing over the run for the simple convnets, x0.2 at 60/120/160 for the ResNet
// (same as reference), stepped once per epoch.
double ScheduledLr(const TrainConfig& c, int64_t epoch) {
  if (c.arch == "no_stride_preactresnet18") {
    return common::train::MultiStepLr(c.lr, {60, 120, 160}, 0.2, static_cast<int>(epoch));
  }
  return common::train::CosineLr(c.lr, 0.0, static_cast<double>(c.epochs),
                                 static_cast<double>(epoch));
}

void AddLayerColumns(ConstrainedNetwork& net, common::train::MetricsRow& row) {
  for (const auto& [name, v] : net.LayerLips()) row.push_back({"lip_" + name, v});
  for (const auto& [name, v] : net.LayerDists()) row.push_back({"dist_" + name, v});
}

std::vector<double> Values(const torch::Tensor& t) {
  const torch::Tensor d = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

// TensorBoard histograms of the margins, as the reference logs them (Margins/{Train,Test}).
absl::Status AddMarginHistograms(common::train::EventWriter& events, int64_t epoch,
                                 const Evaluation& train, const Evaluation& test) {
  RETURN_IF_ERROR(events.AddHistogram("margins/train", epoch, Values(train.margins)));
  return events.AddHistogram("margins/test", epoch, Values(test.margins));
}

// margins.csv, the histogram of the normalized training margins (margins.svg) and the same
// histogram in TensorBoard at the last epoch.
absl::Status WriteMargins(common::train::RunDir& run, int64_t epoch, const Evaluation& train,
                          const Evaluation& test, double complexity) {
  const std::string& dir = run.path();
  std::string csv = "split,margin,normalized_margin\n";
  for (const auto& [split, e] : {std::pair{"train", &train}, std::pair{"test", &test}}) {
    const auto m = e->margins.accessor<float, 1>();
    for (int64_t i = 0; i < m.size(0); ++i) {
      absl::StrAppend(&csv, split, ",", m[i], ",", m[i] / complexity, "\n");
    }
  }
  RETURN_IF_ERROR(common::data::WriteFileAtomically(dir + "/margins.csv", csv));
  const std::vector<double> values = Values(train.margins.to(torch::kFloat64) / complexity);
  RETURN_IF_ERROR(common::plot::Histogram(
      dir + "/margins.svg",
      {"training margins / spectral complexity", "normalized margin", "", false, false}, values,
      50));
  return run.events().AddHistogram("margins_normalized/train", epoch, values);
}

// Thm 3.5 (both forms, paper and code variants) and the Bartlett-style bound at margin gamma,
// from the network's layer capacities and the training data norm ||X||_F over n samples.
nlohmann::json BoundsAt(const std::vector<LayerCapacity>& capacities, double data_norm, double n,
                        double gamma) {
  if (!(gamma > 0)) return nullptr;
  const BoundInputs in{capacities, data_norm, n, gamma};
  return {{"margin", gamma},
          {"thm35_first_paper", FirstBound(in, true)},
          {"thm35_first_code", FirstBound(in, false)},
          {"thm35_second_paper", SecondBound(in, true)},
          {"thm35_second_code", SecondBound(in, false)},
          {"bartlett", BartlettBound(in)}};
}

}  // namespace

torch::Tensor Margins(const torch::Tensor& logits, const torch::Tensor& labels) {
  const torch::Tensor y = labels.view({-1, 1});
  const torch::Tensor other = logits.scatter(1, y, -INFINITY).amax(1);
  return logits.gather(1, y).squeeze(1) - other;
}

absl::Status Validate(const TrainConfig& c) {
  const std::pair<const char*, int64_t> positive[] = {{"--bs", c.bs},
                                                      {"--epochs", c.epochs},
                                                      {"--n_channels", c.n_channels},
                                                      {"--test_bs", c.test_bs}};
  for (const auto& [name, v] : positive) {
    if (v <= 0) return absl::InvalidArgumentError(absl::StrCat(name, " must be > 0, got ", v));
  }
  if (c.n_proj < 0)
    return absl::InvalidArgumentError(absl::StrCat("--n_proj must be >= 0, got ", c.n_proj));
  if (c.n_proj > 0 && c.proj_freq < 1) {  // the reference crashes for proj_freq < 5
    return absl::InvalidArgumentError(absl::StrCat("--proj_freq must be >= 1, got ", c.proj_freq));
  }
  if (!(c.lr > 0)) return absl::InvalidArgumentError(absl::StrCat("--lr must be > 0, got ", c.lr));
  if (!(c.momentum >= 0 && c.momentum < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--momentum must be in [0, 1), got ", c.momentum));
  }
  if (c.bn && c.arch != "no_stride_preactresnet18") {
    return absl::InvalidArgumentError(
        "--bn applies to --arch=no_stride_preactresnet18 only, got --arch=" + c.arch);
  }
  const std::vector<std::string> optimizers = {"sgd", "adam", "lars", "lamb"};
  if (std::find(optimizers.begin(), optimizers.end(), c.optimizer) == optimizers.end()) {
    return absl::InvalidArgumentError("--optimizer must be sgd, adam, lars or lamb, got '" +
                                      c.optimizer + "'");
  }
  const std::vector<std::string> archs = {"no_stride_preactresnet18", "simple_convnet6",
                                          "simple_convnet11"};
  if (std::find(archs.begin(), archs.end(), c.arch) == archs.end()) {
    return absl::InvalidArgumentError(
        "--arch must be no_stride_preactresnet18, simple_convnet6 or simple_convnet11, got '" +
        c.arch + "'");
  }
  if (c.proj_mode != "orthogonal" && c.proj_mode != "radial") {
    return absl::InvalidArgumentError("--proj_mode must be orthogonal or radial, got '" +
                                      c.proj_mode + "'");
  }
  return ParseConstraints(c.lip, c.dist, ProjMode::kOrthogonal).status();
}

absl::StatusOr<ImageData> LoadImageData(const TrainConfig& c, const std::string& data_dir) {
  ASSIGN_OR_RETURN(
      common::data::ImageSplits raw,
      common::data::LoadNamedImageSplits(
          c.dataset, data_dir, {"fashion-mnist", "cifar10", "cifar100", "tiny-imagenet-200"}));
  torch::Tensor train = common::data::ScaleToUnit(raw.train_images),
                test = common::data::ScaleToUnit(raw.test_images);
  std::vector<double> mean, std;
  if (c.dataset == "cifar10") {
    mean = {0.4914, 0.4822, 0.4465}, std = {0.247, 0.243, 0.261};  // same as reference
  } else if (c.dataset == "cifar100") {
    mean = {0.5071, 0.4867, 0.4408}, std = {0.2675, 0.2565, 0.2761};  // same as reference
  } else if (c.dataset == "tiny-imagenet-200") {
    mean = {0.485, 0.456, 0.406}, std = {0.229, 0.224, 0.225};  // same as reference
  } else {
    auto [m, s] = common::data::ChannelMeanStd(train);
    mean = {m[0].item<double>()}, std = {s[0].item<double>()};
    train = torch::constant_pad_nd(train, {2, 2, 2, 2});  // 28x28 -> 32x32 with black borders
    test = torch::constant_pad_nd(test, {2, 2, 2, 2});
  }
  ImageData data{
      InMemoryDataset(common::data::NormalizeChannels(train, mean, std), raw.train_labels),
      InMemoryDataset(common::data::NormalizeChannels(test, mean, std), raw.test_labels),
      raw.num_classes, train.size(1), train.size(2)};
  if (c.limit_to > 0 && c.limit_to < data.train.size()) {
    data.train = data.train.Subset(torch::arange(c.limit_to));
  }
  if (c.rand) {  // random labels for training only (the reference also replaced the test labels)
    torch::Generator gen = common::data::SeededGenerator(c.seed, 77);
    data.train = InMemoryDataset(
        data.train.inputs(), torch::randint(data.classes, {data.train.size()}, gen, torch::kInt64));
  }
  return data;
}

absl::StatusOr<TrainResult> Train(const TrainConfig& c, const ImageData& data,
                                  const nlohmann::json& flags_json) {
  RETURN_IF_ERROR(Validate(c));
  // Data-parallel with torchrun / srun: every rank trains on its share of each global batch;
  // rank 0 alone writes the run directory. One process: world size 1, the plain path.
  ASSIGN_OR_RETURN(common::dist::ProcessGroup * world, common::dist::World());
  ASSIGN_OR_RETURN(std::shared_ptr<ConstrainedNetwork> net, BuildNetwork(c, data));
  std::unique_ptr<torch::optim::Optimizer> optimizer = MakeOptimizer(c, net->parameters());
  ASSIGN_OR_RETURN(std::optional<common::train::RunDir> run,
                   common::dist::OpenRunDirOnRankZero(*world, c.out_dir, flags_json, c.resume));
  if (run && c.save_model) {
    RETURN_IF_ERROR(common::train::SaveStateDict(run->File("weights_0.pt"), *net));
  }
  common::dist::GradientSync sync(*world, net->parameters());
  TrainResult result;
  bool first = true;
  const double data_norm = data.train.inputs().norm().item<double>();
  const double n = static_cast<double>(data.train.size());
  auto run_epoch = [&](int64_t epoch, common::train::TrainProgress& progress) -> absl::Status {
    if (first && run) RETURN_IF_ERROR(run->TruncateMetrics("epoch", epoch));
    first = false;
    common::train::SetLearningRate(*optimizer, ScheduledLr(c, epoch));
    const auto batches = data.train.EpochBatches(c.bs, /*shuffle=*/true, c.seed, epoch);
    common::train::ProgressLine line(absl::StrCat("epoch ", epoch + 1, "/", c.epochs),
                                     batches.size());
    common::train::RunningMean loss;
    const size_t start =
        static_cast<size_t>(common::train::StartBatch(progress));  // > 0: resumed mid-epoch
    for (size_t j = start; j < batches.size(); ++j) {
      const torch::Tensor mine = world->Shard(batches[j]);  // the whole batch at world size 1
      torch::Tensor l;
      if (mine.numel() > 0) {
        const common::data::Batch b = data.train.Get(mine);
        const torch::Tensor out = net->forward(b.inputs.to(c.device));
        l = torch::nn::functional::cross_entropy(out, b.targets.to(c.device));
        loss.Add(l.item<double>(), mine.size(0));
      }
      optimizer->zero_grad();
      RETURN_IF_ERROR(sync.Backward(l, mine.size(0), batches[j].size(0)));
      optimizer->step();
      ++progress.step;
      ++result.steps;
      // Same as reference every proj_freq steps; also after the epoch's last batch, which the
      // reference meant to do (its `j == len(dl)` test can never hold).
      if (c.n_proj > 0 && ((j + 1) % c.proj_freq == 0 || j + 1 == batches.size())) {
        net->Project(c.n_proj);
      }
      // Same as reference: per-layer lip (5 more warm-started power iterations; no random
      // draws) and dist every proj_freq / 5 steps and after the epoch's last batch, to
      // TensorBoard at the global step.
      const size_t log_every = std::max(1, c.proj_freq / 5);
      if (run && c.n_proj > 0 && ((j + 1) % log_every == 0 || j + 1 == batches.size())) {
        std::vector<std::pair<std::string, double>> layers;
        for (const auto& [name, v] : net->LayerLips()) layers.push_back({"lip/" + name, v});
        for (const auto& [name, v] : net->LayerDists()) layers.push_back({"dist/" + name, v});
        RETURN_IF_ERROR(
            run->events().AddScalars(static_cast<int64_t>(j + 1 + epoch * batches.size()), layers));
      }
      line.Update(j + 1, absl::StrFormat("loss %.4f", loss.mean()));
      if (j + 1 < batches.size())
        RETURN_IF_ERROR(common::train::StopIfInterrupted(progress, static_cast<int64_t>(j + 1)));
    }
    ASSIGN_OR_RETURN(const Evaluation train, Evaluate(*net, data.train, c, *world));
    ASSIGN_OR_RETURN(const Evaluation test, Evaluate(*net, data.test, c, *world));
    line.Finish(absl::StrFormat("train acc %.4f | test acc %.4f | lip %.3g", train.accuracy,
                                test.accuracy, net->Lip()));
    if (run) {
      common::train::MetricsRow row = {{"epoch", static_cast<double>(epoch + 1)},
                                       {"lr", ScheduledLr(c, epoch)},
                                       {"train_loss", train.loss},
                                       {"train_acc", train.accuracy},
                                       {"test_loss", test.loss},
                                       {"test_acc", test.accuracy},
                                       {"gap_acc", train.accuracy - test.accuracy},
                                       {"gap_loss", test.loss - train.loss},
                                       {"lip", net->Lip()}};
      // Thm 3.5 (first form, code variant) at the 5% quantile of the training margins; NaN while
      // that margin is not positive.
      const nlohmann::json bound =
          BoundsAt(net->Capacities(), data_norm, n,
                   train.margins.to(torch::kFloat64).quantile(0.05).item<double>());
      row.push_back({"bound_q05", bound.is_null() ? NAN : bound["thm35_first_code"].get<double>()});
      AddLayerColumns(*net, row);
      RETURN_IF_ERROR(run->AppendMetrics(row, /*may_be_undefined=*/{"bound_q05"}));
      if ((epoch + 1) % 10 == 0 || epoch + 1 == c.epochs) {  // same as reference
        RETURN_IF_ERROR(AddMarginHistograms(run->events(), epoch + 1, train, test));
      }
      if (c.save_model && (epoch + 1) % 10 == 0) {
        RETURN_IF_ERROR(common::train::SaveStateDict(
            run->File(absl::StrCat("weights_", epoch + 1, ".pt")), *net));
      }
    }
    return absl::OkStatus();
  };
  common::train::EpochLoopOptions loop{
      c.epochs, c.out_dir.empty() ? "" : c.out_dir + "/checkpoint.pt", c.resume};
  loop.write_checkpoints = world->is_main();
  loop.agree_interrupt = world->InterruptAgreement();            // all ranks stop at one step
  loop.on_start = [&] { return world->BroadcastModule(*net); };  // rank 0's, fresh or resumed
  RETURN_IF_ERROR(common::train::RunEpochs(loop, *net, *optimizer, run_epoch).status());
  if (c.n_proj > 0) net->Project(15, /*exact=*/true);  // same as reference: project(15) at the end
  ASSIGN_OR_RETURN(const Evaluation train, Evaluate(*net, data.train, c, *world));
  ASSIGN_OR_RETURN(const Evaluation test, Evaluate(*net, data.test, c, *world));
  result.train_accuracy = train.accuracy;
  result.test_accuracy = test.accuracy;
  result.train_loss = train.loss;
  result.test_loss = test.loss;
  result.lip = net->LipExact();
  result.violations = net->Violations(1e-3);
  if (run) {
    net->ResetPowerState();
    const double complexity = net->SpectralComplexity();
    RETURN_IF_ERROR(common::train::SaveStateDict(run->File("weights.pt"), *net));
    RETURN_IF_ERROR(WriteMargins(*run, c.epochs, train, test, complexity));
    const std::vector<LayerCapacity> capacities = net->Capacities();
    nlohmann::json summary = {
        {"train_acc", train.accuracy},
        {"test_acc", test.accuracy},
        {"train_loss", train.loss},
        {"test_loss", test.loss},
        {"gap_acc", train.accuracy - test.accuracy},
        {"lip_network", result.lip},
        // null without a Lipschitz constraint (the product of infinite bounds)
        {"lip_constraint",
         std::isfinite(net->LipCond()) ? nlohmann::json(net->LipCond()) : nlohmann::json(nullptr)},
        {"spectral_complexity", complexity},
        {"layers_outside_constraints", result.violations},
        // gamma = the smallest training margin (the reference's Bounds; null
        // unless every training sample is classified with margin > 0) and
        // the 5% quantile of the training margins.
        {"rademacher_bounds_min_margin",
         BoundsAt(capacities, data_norm, n, train.margins.min().item<double>())},
        {"rademacher_bounds_q05_margin",
         BoundsAt(capacities, data_norm, n,
                  train.margins.to(torch::kFloat64).quantile(0.05).item<double>())},
        {"layer_lip_exact", net->LayerExactLips()},
        {"layer_dist", net->LayerDists()}};
    RETURN_IF_ERROR(run->WriteSummary(summary));
  }
  return result;
}

}  // namespace excess_capacity
