#include "icnn/tox21_experiment.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/data/dataset.h"
#include "common/dist/independent_runs.h"
#include "common/plot/plot.h"
#include "common/train/checkpoint.h"
#include "common/train/fused_adam.h"
#include "common/train/metrics.h"
#include "common/util/status_macros.h"
#include "icnn/convex_init.h"
#include "icnn/convex_modules.h"

namespace icnn {
namespace {

std::string Spread(std::vector<double> values) {
  std::vector<double> finite;
  for (double v : values) {
    if (std::isfinite(v)) finite.push_back(100 * v);
  }
  if (finite.empty()) return "n/a";
  const double median = common::plot::Quantile(finite, 0.5);
  const double spread = std::max(common::plot::Quantile(finite, 0.95) - median,
                                 median - common::plot::Quantile(finite, 0.05));
  return absl::StrFormat("%.1f ± %.1f", median, spread);
}

}  // namespace

Tox21NetImpl::Tox21NetImpl(int64_t input, const Tox21Config& c)
    : logreg_(c.model == "logreg"), skip_(c.skip) {
  if (logreg_) {
    first_ = register_module("first", torch::nn::Linear(input, kTox21Tasks));
    return;
  }
  const Positivity p = c.model == "icnn"
                           ? Positivity::kLazyClip
                           : (c.model == "convex" ? Positivity::kExp : Positivity::kNone);
  first_ = register_module("first", torch::nn::Linear(input, 128));  // PyTorch default init
  hidden_ = register_module("hidden", ConvexLinear(128, 128, p));
  out_ = register_module("out", ConvexLinear(128, kTox21Tasks, p));
  if (c.model != "fc" && !c.bad_init) {
    for (ConvexLinear& l : {std::ref(hidden_), std::ref(out_)}) {
      const absl::Status s = ConvexInitialiser().Initialise(l->weight, l->bias, p);
      TORCH_CHECK(s.ok(), std::string(s.message()));
    }
  }
  if (skip_) {
    skip_hidden_ = register_module(
        "skip_hidden", torch::nn::Linear(torch::nn::LinearOptions(input, 128).bias(false)));
    skip_out_ = register_module(
        "skip_out", torch::nn::Linear(torch::nn::LinearOptions(input, kTox21Tasks).bias(false)));
  }
}

torch::Tensor Tox21NetImpl::forward(torch::Tensor x) {
  if (logreg_) return first_->forward(x);
  x = torch::dropout(x, 0.7, is_training());
  torch::Tensor h =
      hidden_->forward(torch::dropout(torch::relu(first_->forward(x)), 0.5, is_training()));
  if (skip_) h = h + skip_hidden_->forward(x);
  torch::Tensor y = out_->forward(torch::dropout(torch::relu(h), 0.5, is_training()));
  return skip_ ? y + skip_out_->forward(x) : y;
}

absl::Status Validate(const Tox21Config& c) {
  if (c.model != "fc" && c.model != "icnn" && c.model != "convex" && c.model != "logreg") {
    return absl::InvalidArgumentError("--model must be fc, icnn, convex or logreg, got '" +
                                      c.model + "'");
  }
  for (auto [name, v] : {std::pair{"--epochs", c.epochs}, {"--bs", c.bs}, {"--runs", c.runs}}) {
    if (v <= 0) return absl::InvalidArgumentError(absl::StrCat(name, " must be > 0, got ", v));
  }
  if (!(c.test_fraction > 0 && c.test_fraction < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--test_fraction must be in (0, 1), got ", c.test_fraction));
  }
  return absl::OkStatus();
}

absl::StatusOr<Tox21Result> RunTox21(const Tox21Config& c, const Tox21Data& data,
                                     common::dist::ProcessGroup& world) {
  if (absl::Status s = Validate(c); !s.ok()) return s;
  const int64_t n = data.features.size(0);
  const common::data::SplitIndices split = common::data::RandomSplit(
      n, static_cast<int64_t>(c.test_fraction * static_cast<double>(n)), c.seed);
  auto rows = [&](const torch::Tensor& idx) {
    return Tox21Data{data.features.index_select(0, idx), data.labels.index_select(0, idx), 0};
  };
  return RunTox21(c, rows(split.train), rows(split.valid), world);
}

absl::StatusOr<Tox21Result> RunTox21(const Tox21Config& c, const Tox21Data& data) {
  common::dist::ProcessGroup one;
  return RunTox21(c, data, one);
}

absl::StatusOr<Tox21Result> RunTox21(const Tox21Config& c, const Tox21Data& train,
                                     const Tox21Data& test) {
  common::dist::ProcessGroup one;
  return RunTox21(c, train, test, one);
}

namespace {

std::string CheckpointPath(const Tox21Config& c, int64_t run) {
  return c.out_dir.empty() ? "" : absl::StrCat(c.out_dir, "/checkpoint_run", run, ".pt");
}

}  // namespace

absl::StatusOr<std::vector<double>> RunTox21Once(const Tox21Config& c, const Tox21Data& train_data,
                                                 const Tox21Data& test, int64_t run) {
  RETURN_IF_ERROR(Validate(c));
  const common::data::InMemoryDataset train(train_data.features, train_data.labels);
  const uint64_t seed = c.seed * 1000 + static_cast<uint64_t>(run);
  torch::manual_seed(seed);
  Tox21Net net(train_data.features.size(1), c);
  common::train::FusedAdam adam(net->parameters(), torch::optim::AdamOptions(c.lr));
  auto epoch_fn = [&](int64_t epoch, common::train::TrainProgress& progress) -> absl::Status {
    net->train();
    const auto batches = train.EpochBatches(c.bs, /*shuffle=*/true, seed, epoch);
    for (auto i = static_cast<size_t>(common::train::StartBatch(progress)); i < batches.size();
         ++i) {
      const common::data::Batch b = train.Get(batches[i]);
      torch::Tensor loss = MaskedBceWithLogits(net->forward(b.inputs), b.targets, /*sum=*/true);
      net->zero_grad(/*set_to_none=*/true);  // backward stores fresh gradients: no zero + add
      loss.backward();
      adam.step();
      ++progress.step;
      if (const double value = loss.item<double>(); !std::isfinite(value)) {
        return absl::InternalError(absl::StrCat("training loss is ", value, " in run ", run,
                                                " epoch ", epoch + 1, ": lower --lr"));
      }
      if (i + 1 < batches.size()) {
        RETURN_IF_ERROR(common::train::StopIfInterrupted(progress, static_cast<int64_t>(i + 1)));
      }
    }
    return absl::OkStatus();
  };
  common::train::EpochLoopOptions loop{c.epochs, CheckpointPath(c, run), c.resume};
  loop.checkpoint_every = std::max<int64_t>(1, c.epochs / 10);  // a kill -9 repeats <= 10%
  RETURN_IF_ERROR(common::train::RunEpochs(loop, *net, adam, epoch_fn).status());
  net->eval();
  if (c.save_models && !c.out_dir.empty()) {
    RETURN_IF_ERROR(
        common::train::SaveStateDict(absl::StrCat(c.out_dir, "/model_", run, ".pt"), *net));
  }
  torch::NoGradGuard no_grad;
  std::vector<double> aucs;
  for (const auto& auc : common::train::RocAucPerTask(net->forward(test.features), test.labels)) {
    aucs.push_back(auc.value_or(NAN));
  }
  return aucs;
}

absl::StatusOr<Tox21Result> RunTox21(const Tox21Config& c, const Tox21Data& train,
                                     const Tox21Data& test, common::dist::ProcessGroup& world) {
  RETURN_IF_ERROR(Validate(c));
  common::dist::IndependentRunsOptions o;
  o.count = c.runs;
  o.results_path = c.out_dir.empty() ? "" : c.out_dir + "/runs.pt";
  o.resume = c.resume;
  o.on_recorded = [&c](int64_t run, const torch::Tensor& aucs) {
    const torch::Tensor defined = aucs.index({torch::isfinite(aucs)});
    std::printf("run %lld/%lld: mean test AUC over the %lld defined tasks %.4f\n",
                static_cast<long long>(run + 1), static_cast<long long>(c.runs),
                static_cast<long long>(defined.numel()),
                defined.numel() ? defined.mean().item<double>() : NAN);
    std::fflush(stdout);
  };
  o.checkpoint_path = [&c](int64_t run) { return CheckpointPath(c, run); };
  ASSIGN_OR_RETURN(
      const std::vector<torch::Tensor> rows,
      common::dist::RunIndependently(world, o, [&](int64_t run) -> absl::StatusOr<torch::Tensor> {
        ASSIGN_OR_RETURN(const std::vector<double> aucs, RunTox21Once(c, train, test, run));
        return torch::tensor(aucs, torch::kFloat64);
      }));
  Tox21Result result;
  for (const torch::Tensor& row : rows) {
    result.test_auc.emplace_back(row.data_ptr<double>(), row.data_ptr<double>() + row.numel());
  }
  return result;
}

namespace {

// Per run: the mean AUC over the tasks where it is defined (NaN where none is).
std::vector<double> RunAverages(const Tox21Result& result) {
  std::vector<double> averages;
  for (const auto& run : result.test_auc) {
    double sum = 0;
    int count = 0;
    for (double a : run) {
      if (std::isfinite(a)) sum += a, ++count;
    }
    averages.push_back(count ? sum / count : NAN);
  }
  return averages;
}

// The median of the finite values, or null.
nlohmann::json FiniteMedian(const std::vector<double>& values) {
  std::vector<double> finite;
  for (double v : values) {
    if (std::isfinite(v)) finite.push_back(v);
  }
  return finite.empty() ? nlohmann::json(nullptr)
                        : nlohmann::json(common::plot::Quantile(finite, 0.5));
}

}  // namespace

nlohmann::json Tox21Summary(const Tox21Result& result) {
  nlohmann::json per_task = nlohmann::json::array();
  for (int64_t t = 0; t < kTox21Tasks; ++t) {
    std::vector<double> values;
    for (const auto& run : result.test_auc) values.push_back(run[t]);
    per_task.push_back(FiniteMedian(values));
  }
  return {{"runs", result.test_auc.size()},
          {"median_test_auc_per_task", per_task},
          {"median_average_test_auc", FiniteMedian(RunAverages(result))}};
}

std::string Tox21Table(const Tox21Result& result) {
  std::string header = "|", rule = "|", row = "|";
  const std::vector<double> averages = RunAverages(result);
  for (int64_t t = 0; t < kTox21Tasks; ++t) {
    std::vector<double> values;
    for (const auto& run : result.test_auc) values.push_back(run[t]);
    absl::StrAppend(&header, " task ", t, " |");
    absl::StrAppend(&rule, "---|");
    absl::StrAppend(&row, " ", Spread(values), " |");
  }
  return absl::StrCat(header, " average |\n", rule, "---|\n", row, " ", Spread(averages), " |\n");
}

}  // namespace icnn
