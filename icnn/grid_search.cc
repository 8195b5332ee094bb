#include "icnn/grid_search.h"

#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/data/dataset.h"
#include "common/train/fused_adam.h"
#include "common/train/metrics.h"
#include "common/util/status_macros.h"

namespace icnn {
namespace {

// Trains on (x, y) and evaluates on (ex, ey) after every epoch.
Curve TrainAndTrack(IcnnOptions options, const SearchConfig& c, const torch::Tensor& x,
                    const torch::Tensor& y, const torch::Tensor& ex, const torch::Tensor& ey,
                    const SearchRunOptions& o) {
  torch::manual_seed(o.seed);
  IcnnMlp net(options);
  common::train::FusedAdam adam(net->parameters(),
                                torch::optim::AdamOptions(c.lr).weight_decay(c.weight_decay));
  const common::data::InMemoryDataset train(x, y);
  const auto sum = torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum);
  Curve curve;
  for (int64_t epoch = 0; epoch < o.epochs; ++epoch) {
    for (const torch::Tensor& idx : train.EpochBatches(o.bs, /*shuffle=*/true, o.seed, epoch)) {
      const common::data::Batch b = train.Get(idx);
      const torch::Tensor loss =
          torch::nn::functional::cross_entropy(net->forward(b.inputs), b.targets, sum);
      net->zero_grad(/*set_to_none=*/true);  // backward stores fresh gradients: no zero + add
      loss.backward();
      adam.step();
    }
    torch::NoGradGuard no_grad;
    const torch::Tensor logits = net->forward(ex);
    curve.accuracy.push_back(common::train::Accuracy(logits, ey));
    curve.loss.push_back(torch::nn::functional::cross_entropy(logits, ey).item<double>());
    if (curve.accuracy.back() > curve.best_accuracy)
      curve.best_accuracy = curve.accuracy.back(), curve.best_epoch = epoch + 1;
  }
  return curve;
}

}  // namespace

absl::StatusOr<Whitening> FitWhitening(const torch::Tensor& x, const std::string& kind,
                                       double eps) {
  if (x.dim() != 2 || x.size(0) < 2)
    return absl::InvalidArgumentError("whitening needs rows [N >= 2, D]");
  const torch::Tensor xd = x.to(torch::kDouble);
  const int64_t d = x.size(1);
  if (kind == "normal") {
    const double mean = xd.mean().item<double>(), std = xd.std(/*unbiased=*/false).item<double>();
    return Whitening{torch::full({d}, mean), torch::eye(d) / std};
  }
  if (kind != "pca" && kind != "zca") {
    return absl::InvalidArgumentError(
        absl::StrCat("pre_process must be normal, pca or zca, got '", kind, "'"));
  }
  const torch::Tensor mean = xd.mean(0);
  const torch::Tensor centred = xd - mean;
  auto [lambda, u] = torch::linalg_eigh(centred.t().mm(centred) / static_cast<double>(x.size(0)));
  torch::Tensor t = u * (lambda.clamp_min(0) + eps).rsqrt().unsqueeze(0);  // PCA: columns scaled
  if (kind == "zca") t = t.mm(u.t());
  return Whitening{mean.to(torch::kFloat), t.to(torch::kFloat)};
}

torch::Tensor ApplyWhitening(const Whitening& w, const torch::Tensor& x) {
  return (x - w.mean).mm(w.transform);
}

nlohmann::json SearchConfig::ToJson() const {
  return {{"id", id},
          {"pre_process", pre_process},
          {"lr", lr},
          {"weight_decay", weight_decay},
          {"hidden", hidden}};
}

absl::StatusOr<std::vector<SearchConfig>> SearchGrid(const std::string& grid) {
  std::vector<std::string> pre = {"normal", "pca", "zca"};
  std::vector<double> lrs = {1e-2, 1e-3, 1e-4}, wds = {0, 1e-2};
  std::vector<std::vector<int64_t>> hidden = {{1000},
                                              {10000},
                                              {1000, 1000},
                                              {1000, 10000},
                                              {10000, 1000},
                                              {10000, 10000},
                                              {1000, 1000, 1000},
                                              {1000, 10000, 1000},
                                              {10000, 1000, 10000},
                                              {10000, 10000, 10000}};  // same as reference
  if (grid == "small") {
    pre = {"normal", "zca"}, lrs = {1e-3, 1e-4}, wds = {0}, hidden = {{256}, {256, 256}};
  } else if (grid != "full") {
    return absl::InvalidArgumentError(
        absl::StrCat("--grid must be full or small, got '", grid, "'"));
  }
  std::vector<SearchConfig> out;
  int id = 18;  // same as reference: configXXX from 018
  for (const std::string& p : pre) {
    for (double lr : lrs) {
      for (double wd : wds) {
        for (const auto& h : hidden) out.push_back({id++, p, lr, wd, h});
      }
    }
  }
  return out;
}

absl::StatusOr<IcnnOptions> SearchModel(const std::string& model, int64_t input, int64_t classes,
                                        const std::vector<int64_t>& hidden) {
  IcnnOptions o(input, classes);
  o.hidden(hidden);
  if (model == "nn") return o.positivity(Positivity::kNone).init(InitScheme::kDefault);
  if (model == "icnn") return o.positivity(Positivity::kLazyClip).init(InitScheme::kDefault);
  if (model == "skip")
    return o.positivity(Positivity::kLazyClip).init(InitScheme::kDefault).skip(true);
  if (model == "ours") return o.positivity(Positivity::kLazyClip).init(InitScheme::kPrincipled);
  if (model == "exp1") return o.positivity(Positivity::kExp).init(InitScheme::kDefault);
  if (model == "exp2") return o.positivity(Positivity::kExp).init(InitScheme::kPrincipled);
  return absl::InvalidArgumentError(
      absl::StrCat("model must be nn, icnn, skip, ours, exp1 or exp2, got '", model, "'"));
}

absl::StatusOr<Curve> SearchRun(const std::string& model, const SearchConfig& c,
                                const SearchData& data, const SearchRunOptions& o) {
  ASSIGN_OR_RETURN(IcnnOptions options,
                   SearchModel(model, data.train_x.size(1), data.classes, c.hidden));
  const int64_t n = data.train_x.size(0), n_valid = n / 10;  // same as reference: 90/10
  const common::data::SplitIndices split = common::data::RandomSplit(n, n_valid, o.seed);
  const torch::Tensor x = data.train_x.index_select(0, split.train),
                      vx = data.train_x.index_select(0, split.valid);
  ASSIGN_OR_RETURN(Whitening w, FitWhitening(x, c.pre_process));
  return TrainAndTrack(options, c, ApplyWhitening(w, x), data.train_y.index_select(0, split.train),
                       ApplyWhitening(w, vx), data.train_y.index_select(0, split.valid), o);
}

absl::StatusOr<Curve> RetrainRun(const std::string& model, const SearchConfig& c,
                                 const SearchData& data, const SearchRunOptions& o) {
  ASSIGN_OR_RETURN(IcnnOptions options,
                   SearchModel(model, data.train_x.size(1), data.classes, c.hidden));
  ASSIGN_OR_RETURN(Whitening w, FitWhitening(data.train_x, c.pre_process));
  return TrainAndTrack(options, c, ApplyWhitening(w, data.train_x), data.train_y,
                       ApplyWhitening(w, data.test_x), data.test_y, o);
}

}  // namespace icnn
