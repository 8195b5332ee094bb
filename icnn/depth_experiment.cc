#include "icnn/depth_experiment.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/data/dataset.h"
#include "common/plot/plot.h"
#include "common/train/fused_adam.h"
#include "common/train/progress.h"
#include "glog/logging.h"

namespace icnn {
namespace {

double MeanOfLast(const std::vector<double>& v, size_t k) {
  const size_t n = std::min(k, v.size());
  return n == 0 ? 0 : std::accumulate(v.end() - n, v.end(), 0.0) / static_cast<double>(n);
}

}  // namespace

absl::StatusOr<VariantResult> RunVariant(const Variant& variant, const LearnabilityConfig& c,
                                         const common::data::InMemoryDataset& data) {
  VariantResult result;
  result.name = variant.name;
  std::vector<double> finals;
  for (int64_t run = 0; run < c.runs; ++run) {
    const uint64_t seed = c.seed * 1000 + static_cast<uint64_t>(run);
    torch::manual_seed(seed);
    const int64_t n_valid =
        static_cast<int64_t>(c.valid_fraction * static_cast<double>(data.size()));
    const common::data::SplitIndices split = common::data::RandomSplit(data.size(), n_valid, seed);
    const common::data::InMemoryDataset train = data.Subset(split.train),
                                        valid = data.Subset(split.valid);
    IcnnMlp net(variant.options);
    net->to(c.device);
    common::train::FusedAdam adam(net->parameters(), torch::optim::AdamOptions(c.lr));
    std::vector<double> losses;
    for (int64_t epoch = 0; epoch < c.epochs; ++epoch) {
      const auto batches = train.EpochBatches(c.bs, /*shuffle=*/true, seed, epoch);
      common::train::ProgressLine line(
          absl::StrCat(variant.name, " run ", run + 1, " epoch ", epoch + 1),
          static_cast<int64_t>(batches.size()));
      for (size_t i = 0; i < batches.size(); ++i) {
        const common::data::Batch b = train.Get(batches[i]);
        const torch::Tensor loss = torch::nn::functional::cross_entropy(
            net->forward(b.inputs.to(c.device)), b.targets.to(c.device),
            torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
        net->zero_grad(/*set_to_none=*/true);  // backward stores fresh gradients: no zero + add
        loss.backward();
        adam.step();
        losses.push_back(loss.item<double>() / static_cast<double>(b.inputs.size(0)));
        line.Update(static_cast<int64_t>(i + 1), absl::StrFormat("loss %.4f", losses.back()));
      }
      line.Finish(absl::StrFormat("mean of last 100 losses %.4f", MeanOfLast(losses, 100)));
    }
    torch::NoGradGuard no_grad;
    const torch::Tensor logits = net->forward(valid.inputs().to(c.device));
    result.valid_accuracy.push_back(
        (logits.argmax(1).cpu() == valid.targets()).to(torch::kFloat64).mean().item<double>());
    const int64_t half = valid.size() / 2;
    result.convexity_gap.push_back(MidpointConvexityGap(
        [&](const torch::Tensor& v) { return net->forward(v.to(c.device)); },
        valid.inputs().narrow(0, 0, half), valid.inputs().narrow(0, half, half)));
    finals.push_back(MeanOfLast(losses, 100));
    result.batch_losses.push_back(std::move(losses));
  }
  result.final_loss = common::plot::Quantile(finals, 0.5);
  return result;
}

}  // namespace icnn
