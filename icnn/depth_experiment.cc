#include "icnn/depth_experiment.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/data/dataset.h"
#include "common/dist/independent_runs.h"
#include "common/plot/plot.h"
#include "common/train/checkpoint.h"
#include "common/train/fused_adam.h"
#include "common/train/progress.h"
#include "common/util/status_macros.h"
#include "glog/logging.h"

namespace icnn {
namespace {

double MeanOfLast(const std::vector<double>& v, size_t k) {
  const size_t n = std::min(k, v.size());
  return n == 0 ? 0 : std::accumulate(v.end() - n, v.end(), 0.0) / static_cast<double>(n);
}

std::string CheckpointPath(const LearnabilityConfig& c, const Variant& v, int64_t run) {
  return c.out_dir.empty() ? ""
                           : absl::StrCat(c.out_dir, "/checkpoint_", v.name, "_run", run, ".pt");
}

}  // namespace

absl::StatusOr<RunOutcome> RunOnce(const Variant& variant, const LearnabilityConfig& c,
                                   const common::data::InMemoryDataset& data, int64_t run) {
  const uint64_t seed = c.seed * 1000 + static_cast<uint64_t>(run);
  torch::manual_seed(seed);
  const int64_t n_valid = static_cast<int64_t>(c.valid_fraction * static_cast<double>(data.size()));
  const common::data::SplitIndices split = common::data::RandomSplit(data.size(), n_valid, seed);
  const common::data::InMemoryDataset train = data.Subset(split.train),
                                      valid = data.Subset(split.valid);
  IcnnMlp net(variant.options);
  net->to(c.device);
  common::train::FusedAdam adam(net->parameters(), torch::optim::AdamOptions(c.lr));
  RunOutcome out;
  std::vector<double>& losses = out.batch_losses;
  auto epoch_fn = [&](int64_t epoch, common::train::TrainProgress& progress) -> absl::Status {
    const auto batches = train.EpochBatches(c.bs, /*shuffle=*/true, seed, epoch);
    common::train::ProgressLine line(
        absl::StrCat(variant.name, " run ", run + 1, " epoch ", epoch + 1),
        static_cast<int64_t>(batches.size()));
    for (auto i = static_cast<size_t>(common::train::StartBatch(progress)); i < batches.size();
         ++i) {
      const common::data::Batch b = train.Get(batches[i]);
      const torch::Tensor loss = torch::nn::functional::cross_entropy(
          net->forward(b.inputs.to(c.device)), b.targets.to(c.device),
          torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
      net->zero_grad(/*set_to_none=*/true);  // backward stores fresh gradients: no zero + add
      loss.backward();
      adam.step();
      ++progress.step;
      losses.push_back(loss.item<double>() / static_cast<double>(b.inputs.size(0)));
      if (!std::isfinite(losses.back())) {
        return absl::InternalError(absl::StrCat("training loss is ", losses.back(), " in ",
                                                variant.name, " run ", run, " epoch ", epoch + 1,
                                                ": lower --lr"));
      }
      line.Update(static_cast<int64_t>(i + 1), absl::StrFormat("loss %.4f", losses.back()));
      if (i + 1 < batches.size()) {
        RETURN_IF_ERROR(common::train::StopIfInterrupted(progress, static_cast<int64_t>(i + 1)));
      }
    }
    line.Finish(absl::StrFormat("mean of last 100 losses %.4f", MeanOfLast(losses, 100)));
    return absl::OkStatus();
  };
  common::train::EpochLoopOptions loop{c.epochs, CheckpointPath(c, variant, run), c.resume};
  // The per-update losses so far are part of the checkpoint.
  loop.save_extra = [&losses] {
    return common::train::TensorMap{{"losses", torch::tensor(losses, torch::kFloat64)}};
  };
  loop.restore_extra = [&losses](const common::train::TensorMap& extra) {
    const auto it = extra.find("losses");
    if (it == extra.end()) return absl::DataLossError("checkpoint without the losses so far");
    const torch::Tensor t = it->second.to(torch::kFloat64).contiguous();
    losses.assign(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(common::train::RunEpochs(loop, *net, adam, epoch_fn).status());
  torch::NoGradGuard no_grad;
  const torch::Tensor logits = net->forward(valid.inputs().to(c.device));
  out.valid_accuracy =
      (logits.argmax(1).cpu() == valid.targets()).to(torch::kFloat64).mean().item<double>();
  const int64_t half = valid.size() / 2;
  out.convexity_gap =
      MidpointConvexityGap([&](const torch::Tensor& v) { return net->forward(v.to(c.device)); },
                           valid.inputs().narrow(0, 0, half), valid.inputs().narrow(0, half, half));
  return out;
}

absl::StatusOr<std::vector<VariantResult>> RunVariants(const std::vector<Variant>& variants,
                                                       const LearnabilityConfig& c,
                                                       const common::data::InMemoryDataset& data,
                                                       common::dist::ProcessGroup& world) {
  if (c.runs <= 0) return absl::InvalidArgumentError("--runs must be > 0");
  // Job k: run k % runs of variant k / runs; its row: valid accuracy, convexity gap, losses.
  auto variant_of = [&](int64_t k) -> const Variant& { return variants[k / c.runs]; };
  common::dist::IndependentRunsOptions o;
  o.count = static_cast<int64_t>(variants.size()) * c.runs;
  o.results_path = c.out_dir.empty() ? "" : c.out_dir + "/runs.pt";
  o.resume = c.resume;
  o.checkpoint_path = [&](int64_t k) { return CheckpointPath(c, variant_of(k), k % c.runs); };
  ASSIGN_OR_RETURN(
      const std::vector<torch::Tensor> rows,
      common::dist::RunIndependently(world, o, [&](int64_t k) -> absl::StatusOr<torch::Tensor> {
        ASSIGN_OR_RETURN(const RunOutcome r, RunOnce(variant_of(k), c, data, k % c.runs));
        return torch::cat({torch::tensor({r.valid_accuracy, r.convexity_gap}, torch::kFloat64),
                           torch::tensor(r.batch_losses, torch::kFloat64)});
      }));
  std::vector<VariantResult> results;
  if (!world.is_main()) return results;
  for (size_t v = 0; v < variants.size(); ++v) {
    VariantResult result;
    result.name = variants[v].name;
    std::vector<double> finals;
    for (int64_t run = 0; run < c.runs; ++run) {
      const torch::Tensor& row = rows[v * c.runs + run];
      const double* p = row.data_ptr<double>();
      result.valid_accuracy.push_back(p[0]);
      result.convexity_gap.push_back(p[1]);
      result.batch_losses.emplace_back(p + 2, p + row.numel());
      finals.push_back(MeanOfLast(result.batch_losses.back(), 100));
    }
    result.final_loss = common::plot::Quantile(finals, 0.5);
    results.push_back(std::move(result));
  }
  return results;
}

absl::StatusOr<VariantResult> RunVariant(const Variant& variant, const LearnabilityConfig& c,
                                         const common::data::InMemoryDataset& data) {
  common::dist::ProcessGroup one;
  ASSIGN_OR_RETURN(std::vector<VariantResult> results, RunVariants({variant}, c, data, one));
  return std::move(results.front());
}

}  // namespace icnn
