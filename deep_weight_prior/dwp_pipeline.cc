#include "deep_weight_prior/dwp_pipeline.h"

#include <glog/logging.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/data/file_bytes.h"
#include "common/plot/plot.h"
#include "common/util/status_macros.h"
#include "deep_weight_prior/experiments.h"

namespace deep_weight_prior {
namespace {

struct SourceKernels {
  KernelSplit k7, k5;
  double accuracy = 0;
};

// Stages 1 and 2: source nets, their kernels, pruned and split.
absl::StatusOr<SourceKernels> CollectSourceKernels(const PipelineOptions& o, const Domain& source) {
  std::vector<torch::Tensor> k7, k5;
  double acc = 0;
  for (int i = 0; i < o.source_nets; ++i) {
    NetConfig c;
    c.net.net_cfg = "vanilla", c.net.c1 = o.source_c1, c.net.c2 = o.source_c2,
    c.net.classes = source.classes;
    c.epochs = o.source_epochs, c.l2 = o.source_l2,
    c.seed = o.seed * 1000 + static_cast<uint64_t>(i);
    c.eval_freq = 0;  // only the final test accuracy
    ASSIGN_OR_RETURN(NetResult r, TrainNet(c, {}, source.train, source.test));
    LOG(INFO) << "source net " << i + 1 << "/" << o.source_nets << ": test acc " << r.test_acc;
    acc += r.test_acc / o.source_nets;
    k7.push_back(ExtractKernels(r.net->convs[0].kernel()));
    k5.push_back(ExtractKernels(r.net->convs[1].kernel()));
  }
  SourceKernels s;
  s.accuracy = acc;
  const torch::Tensor p7 = PruneKernels(torch::cat(k7), o.prune_7x7),
                      p5 = PruneKernels(torch::cat(k5), o.prune_5x5);
  if (p7.size(0) < 10 || p5.size(0) < 10) {
    return absl::FailedPreconditionError(
        absl::StrCat("pruning kept ", p7.size(0), " 7x7 and ", p5.size(0),
                     " 5x5 kernels; lower --prune_7x7 / --prune_5x5"));
  }
  s.k7 = SplitKernels(p7, 0.8, o.seed), s.k5 = SplitKernels(p5, 0.8, o.seed);
  RETURN_IF_ERROR(SaveKernelSplit(o.out_dir + "/kernels/conv7x7", s.k7));
  RETURN_IF_ERROR(SaveKernelSplit(o.out_dir + "/kernels/conv5x5", s.k5));
  return s;
}

// 64 decoder-mean samples tiled 8 x 8 with one-pixel gaps, as a heatmap.
absl::Status SampleFigure(KernelVae& vae, const std::string& path) {
  torch::NoGradGuard no_grad;
  const int64_t k = vae->options.kernel_dim(), cell = k + 1;
  const torch::Tensor w =
      vae->Decode(torch::randn({64, vae->options.z_dim(), 1, 1})).mean.reshape({64, k, k});
  common::plot::Matrix m{8 * cell - 1, 8 * cell - 1,
                         std::vector<double>((8 * cell - 1) * (8 * cell - 1), 0.0)};
  for (int64_t i = 0; i < 64; ++i) {
    for (int64_t r = 0; r < k; ++r) {
      for (int64_t c = 0; c < k; ++c)
        m.values[((i / 8) * cell + r) * m.cols + (i % 8) * cell + c] = w[i][r][c].item<double>();
    }
  }
  return common::plot::Heatmap(
      path, {absl::StrCat("DWP samples: ", k, "x", k, " kernels (decoder means)")}, m);
}

// Stage 3.
absl::StatusOr<std::vector<KernelVae>> TrainVaes(const PipelineOptions& o, const SourceKernels& s) {
  std::vector<KernelVae> vaes;
  for (const auto& [split, opts] :
       {std::pair<const KernelSplit*, KernelVaeOptions>{&s.k7, KernelVaeOptions(7, 2, 32)},
        {&s.k5, KernelVaeOptions(5, 4, 64)}}) {  // the released VAEs' sizes
    VaeConfig c;
    c.vae = opts, c.epochs = o.vae_epochs, c.seed = o.seed;
    ASSIGN_OR_RETURN(VaeResult r, TrainVae(c, *split));
    const std::string name = absl::StrCat("vae", opts.kernel_dim(), "x", opts.kernel_dim());
    LOG(INFO) << name << ": -ELBO per kernel train " << r.train_loss_per_kernel << ", test "
              << r.test_loss_per_kernel;
    RETURN_IF_ERROR(SaveVae(o.out_dir + "/" + name, r.vae));
    RETURN_IF_ERROR(SampleFigure(r.vae, o.out_dir + "/vae_samples_" + name.substr(3) + ".png"));
    vaes.push_back(r.vae);
  }
  return vaes;
}

// Stage 4: one row per (prior, size, seed).
absl::StatusOr<std::vector<FewShotRow>> FewShotTable(const PipelineOptions& o, const Domain& target,
                                                     const std::vector<KernelVae>& vaes) {
  std::vector<FewShotRow> rows;
  for (int64_t n : o.sizes) {
    for (uint64_t seed : o.split_seeds) {
      ASSIGN_OR_RETURN(common::data::InMemoryDataset train, FewShot(target.train, n, seed));
      for (const std::string& prior : {"DWP", "log-uniform", "N(0,1)"}) {
        BnnConfig c;
        c.net.c1 = o.target_c1, c.net.c2 = o.target_c2, c.net.classes = target.classes;
        c.net.net_cfg = prior == std::string("log-uniform") ? "bayes-mtrunca" : "bayes";
        const std::string p = prior == std::string("DWP")      ? "vae"
                              : prior == std::string("N(0,1)") ? "sn"
                                                               : "loguniform";
        c.prior_list = {p, p};
        c.epochs = o.bnn_epochs, c.seed = seed, c.eval_freq = 0;  // evaluated once, at the end
        KernelInit init;
        if (p == "vae") init = {{"vae", "vae"}, vaes, {}};
        ASSIGN_OR_RETURN(BnnResult r, TrainBnn(c, init, train, target.test));
        LOG(INFO) << prior << " N=" << n << " seed " << seed << ": ensemble acc " << r.ens_acc
                  << ", det " << r.det_acc;
        rows.push_back({prior, n, seed, r.ens_acc, r.det_acc});
      }
    }
  }
  return rows;
}

std::string Table(const PipelineOptions& o, const std::vector<FewShotRow>& rows, std::string* csv) {
  std::map<std::pair<std::string, int64_t>, std::vector<double>> acc;
  *csv = "prior,size,split_seed,ens_acc,det_acc\n";
  for (const FewShotRow& r : rows) {
    acc[{r.prior, r.size}].push_back(r.ens_acc);
    absl::StrAppend(csv, r.prior, ",", r.size, ",", r.split_seed, ",", r.ens_acc, ",", r.det_acc,
                    "\n");
  }
  std::string md = "| prior |";
  for (int64_t n : o.sizes) absl::StrAppend(&md, " N=", n, " |");
  md += "\n|---|";
  for (size_t i = 0; i < o.sizes.size(); ++i) md += "---|";
  for (const std::string& prior : {"DWP", "log-uniform", "N(0,1)"}) {
    absl::StrAppend(&md, "\n| ", prior, " |");
    for (int64_t n : o.sizes) {
      const std::vector<double>& v = acc[{prior, n}];
      double mean = 0, sq = 0;
      for (double x : v) mean += x / v.size();
      for (double x : v) sq += (x - mean) * (x - mean) / v.size();
      absl::StrAppend(&md, absl::StrFormat(" %.3f ± %.3f |", mean, std::sqrt(sq)));
    }
  }
  return md + "\n";
}

// Stage 5: test accuracy vs steps of a deterministic net from three inits.
absl::Status ConvergenceFigure(const PipelineOptions& o, const Domain& target,
                               const std::vector<KernelVae>& vaes, const SourceKernels& kernels) {
  std::vector<common::plot::Series> series;
  for (const std::string& init : {"vae", "xavier", "filters"}) {
    NetConfig c;
    c.net.net_cfg = "vanilla", c.net.c1 = o.target_c1, c.net.c2 = o.target_c2,
    c.net.classes = target.classes;
    c.bs = 64, c.seed = o.seed;
    c.epochs = std::max<int64_t>(
        1, o.convergence_steps * c.bs / std::max<int64_t>(1, target.train.size()));
    c.fastconv = true, c.eval_freq = std::max<int64_t>(1, o.convergence_steps / 15);
    ASSIGN_OR_RETURN(common::data::InMemoryDataset train,
                     FewShot(target.train, o.convergence_steps * c.bs / c.epochs, o.seed));
    KernelInit ki{{init, init}, vaes, {kernels.k7.train, kernels.k5.train}};
    if (init == std::string("filters") && kernels.k5.train.size(0) < o.target_c1 * o.target_c2) {
      // Drawn without replacement, as the reference: one source kernel per (out, in) pair.
      LOG(WARNING) << "convergence figure without the 'filters' curve: it needs "
                   << o.target_c1 * o.target_c2 << " 5x5 training kernels, "
                   << kernels.k5.train.size(0)
                   << " were kept (lower --prune_5x5 or train more source nets)";
      continue;
    }
    ASSIGN_OR_RETURN(NetResult r, TrainNet(c, ki, train, target.test));
    common::plot::Series s{init, {}, {}, {}, {}};
    for (const auto& [step, acc] : r.curve)
      s.x.push_back(static_cast<double>(step)), s.y.push_back(acc);
    series.push_back(s);
  }
  const common::plot::Axes axes{"fconv on the target classes: test accuracy vs steps", "SGD steps",
                                "test accuracy"};
  RETURN_IF_ERROR(common::plot::LinePlot(o.out_dir + "/convergence.svg", axes, series));
  return common::plot::LinePlot(o.out_dir + "/convergence.png", axes, series);
}

}  // namespace

PipelineOptions QuickPipeline(PipelineOptions o) {
  o.source_nets = 2, o.source_c1 = 32, o.source_c2 = 64, o.source_epochs = 1;
  o.vae_epochs = 20, o.target_c1 = 8, o.target_c2 = 32, o.bnn_epochs = 150;
  o.split_seeds = {0}, o.convergence_steps = 150;
  return o;
}

absl::Status ValidateDomains(const PipelineOptions& o) {
  if (o.source_classes.empty() || o.target_classes.empty()) {
    return absl::InvalidArgumentError(
        "--source_classes and --target_classes need at least one class each");
  }
  if (!o.source_data_dir.empty() && o.source_data_dir != o.data_dir) return absl::OkStatus();
  for (int64_t c : o.source_classes) {
    if (std::find(o.target_classes.begin(), o.target_classes.end(), c) != o.target_classes.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "class ", c,
          " is in both --source_classes and --target_classes of the same dataset; give "
          "disjoint classes or a separate --source_data_dir"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PipelineResult> RunPipeline(const PipelineOptions& o) {
  RETURN_IF_ERROR(ValidateDomains(o));
  RETURN_IF_ERROR(common::data::MakeDirs(o.out_dir));
  const std::string& source_dir = o.source_data_dir.empty() ? o.data_dir : o.source_data_dir;
  ASSIGN_OR_RETURN(Domain source, LoadDomain(source_dir, o.source_classes));
  ASSIGN_OR_RETURN(Domain target, LoadDomain(o.data_dir, o.target_classes));
  ASSIGN_OR_RETURN(SourceKernels kernels, CollectSourceKernels(o, source));
  PipelineResult r;
  r.kernels_7x7 = kernels.k7.train.size(0) + kernels.k7.test.size(0);
  r.kernels_5x5 = kernels.k5.train.size(0) + kernels.k5.test.size(0);
  r.source_acc = kernels.accuracy;
  ASSIGN_OR_RETURN(std::vector<KernelVae> vaes, TrainVaes(o, kernels));
  ASSIGN_OR_RETURN(r.fewshot, FewShotTable(o, target, vaes));
  std::string csv;
  r.table_markdown = Table(o, r.fewshot, &csv);
  RETURN_IF_ERROR(common::data::WriteFileAtomically(o.out_dir + "/fewshot.csv", csv));
  RETURN_IF_ERROR(common::data::WriteFileAtomically(o.out_dir + "/fewshot.md", r.table_markdown));
  RETURN_IF_ERROR(ConvergenceFigure(o, target, vaes, kernels));
  return r;
}

}  // namespace deep_weight_prior
