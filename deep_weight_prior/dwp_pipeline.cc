#include "deep_weight_prior/dwp_pipeline.h"

#include <glog/logging.h>

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/data/file_bytes.h"
#include "common/data/npy.h"
#include "common/plot/plot.h"
#include "common/report/run_files.h"
#include "common/train/fields.h"
#include "common/train/run_dir.h"
#include "common/util/status_macros.h"
#include "deep_weight_prior/experiments.h"

namespace deep_weight_prior {
namespace {

// --source_data_dir, or --data_dir when it is empty.
const std::string& SourceDataDir(const PipelineOptions& o) {
  return o.source_data_dir.empty() ? o.data_dir : o.source_data_dir;
}

std::string SourceNetDir(const PipelineOptions& o, int i) {
  return absl::StrCat(o.out_dir, "/source_nets/net", i);
}

std::string FewShotDir(const PipelineOptions& o, const FewShotPrior& prior, int64_t n,
                       uint64_t seed) {
  return absl::StrCat(o.out_dir, "/fewshot/", prior.code, "_n", n, "_split", seed);
}

common::sweep::Run WorkerRun(const PipelineOptions& o, const std::string& job,
                             const std::string& dir) {
  return {job, {o.worker_binary, "--worker=" + job, "--out_dir=" + o.out_dir}, dir};
}

// Stage 1, one worker: a source net; its conv1 and conv2 kernels and its test accuracy.
absl::Status SourceNet(const PipelineOptions& o, int i) {
  if (i < 0 || i >= o.source_nets) {
    return absl::InvalidArgumentError(absl::StrCat("--worker: no source net ", i));
  }
  ASSIGN_OR_RETURN(const Domain source, LoadDomain(SourceDataDir(o), o.source_classes));
  NetConfig c;
  c.net.net_cfg = "vanilla", c.net.c1 = o.source_c1, c.net.c2 = o.source_c2,
  c.net.classes = source.classes;
  c.epochs = o.source_epochs, c.l2 = o.source_l2, c.seed = o.seed * 1000 + static_cast<uint64_t>(i);
  c.eval_freq = 0;  // only the final test accuracy
  ASSIGN_OR_RETURN(NetResult r, TrainNet(c, {}, source.train, source.test));
  const std::string dir = SourceNetDir(o, i);
  RETURN_IF_ERROR(common::data::MakeDirs(dir));
  RETURN_IF_ERROR(
      common::data::WriteNpy(dir + "/kernels7x7.npy", ExtractKernels(r.net->convs[0].kernel())));
  std::vector<torch::Tensor> later;  // every conv after the first, as collect_kernels
  for (size_t c = 1; c < r.net->convs.size(); ++c) {
    later.push_back(ExtractKernels(r.net->convs[c].kernel()));
  }
  RETURN_IF_ERROR(common::data::WriteNpy(dir + "/kernels5x5.npy", torch::cat(later)));
  return common::train::WriteJsonFile(dir + "/summary.json", {{"test_acc", r.test_acc}});
}

struct SourceKernels {
  KernelSplit k7, k5;
  double accuracy = 0;
};

// Stage 2: the source nets' kernels, pruned and split.
absl::StatusOr<SourceKernels> CollectSourceKernels(const PipelineOptions& o) {
  std::vector<torch::Tensor> k7, k5;
  double acc = 0;
  for (int i = 0; i < o.source_nets; ++i) {
    const std::string dir = SourceNetDir(o, i);
    ASSIGN_OR_RETURN(const nlohmann::json summary,
                     common::train::ReadJsonFile(dir + "/summary.json"));
    if (!summary.contains("test_acc") || !summary["test_acc"].is_number()) {
      return absl::DataLossError(absl::StrCat(dir, "/summary.json: no test_acc"));
    }
    LOG(INFO) << "source net " << i + 1 << "/" << o.source_nets << ": test acc "
              << summary["test_acc"].get<double>();
    acc += summary["test_acc"].get<double>() / o.source_nets;
    ASSIGN_OR_RETURN(torch::Tensor t7, common::data::ReadNpy(dir + "/kernels7x7.npy"));
    ASSIGN_OR_RETURN(torch::Tensor t5, common::data::ReadNpy(dir + "/kernels5x5.npy"));
    if (t7.dim() != 4 || t7.size(2) != 7 || t5.dim() != 4 || t5.size(2) != 5) {
      return absl::DataLossError(absl::StrCat(dir, ": kernels of the wrong shape"));
    }
    k7.push_back(t7), k5.push_back(t5);
  }
  SourceKernels s;
  s.accuracy = acc;
  ASSIGN_OR_RETURN(s.k7, BuildKernelSet(o.out_dir + "/kernels", 7, k7, o.prune_7x7, 0.8, o.seed));
  ASSIGN_OR_RETURN(s.k5, BuildKernelSet(o.out_dir + "/kernels", 5, k5, o.prune_5x5, 0.8, o.seed));
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

// Stage 3; a VAE whose summary.json exists (a resumed pipeline) is loaded, and one killed while
// training continues from its checkpoint.
absl::StatusOr<std::vector<KernelVae>> TrainVaes(const PipelineOptions& o, const SourceKernels& s) {
  std::vector<KernelVae> vaes;
  for (const auto& [split, opts] :
       {std::pair<const KernelSplit*, KernelVaeOptions>{&s.k7, KernelVaeOptions(7, 2, 32)},
        {&s.k5, KernelVaeOptions(5, 4, 64)}}) {  // the released VAEs' sizes
    const std::string name = absl::StrCat("vae", opts.kernel_dim(), "x", opts.kernel_dim());
    const std::string dir = o.out_dir + "/" + name;
    if (common::data::FileExists(dir + "/summary.json")) {
      ASSIGN_OR_RETURN(KernelVae vae, LoadVae(dir));
      vaes.push_back(vae);
      continue;
    }
    RETURN_IF_ERROR(common::data::MakeDirs(dir));
    VaeConfig c;
    c.vae = opts, c.seed = o.seed;
    const int64_t steps_per_epoch = (split->train.size(0) + c.bs - 1) / c.bs;
    c.epochs = std::max(o.vae_epochs, (o.vae_min_steps + steps_per_epoch - 1) / steps_per_epoch);
    c.checkpoint_path = dir + "/checkpoint.pt", c.resume = true;
    ASSIGN_OR_RETURN(VaeResult r, TrainVae(c, *split));
    LOG(INFO) << name << ": -ELBO per kernel train " << r.train_loss_per_kernel << ", test "
              << r.test_loss_per_kernel;
    RETURN_IF_ERROR(SaveVae(dir, r.vae));
    RETURN_IF_ERROR(SampleFigure(r.vae, o.out_dir + "/vae_samples_" + name.substr(3) + ".png"));
    RETURN_IF_ERROR(common::train::WriteJsonFile(
        dir + "/summary.json", {{"train_loss_per_kernel", r.train_loss_per_kernel},
                                {"test_loss_per_kernel", r.test_loss_per_kernel}}));
    vaes.push_back(r.vae);
  }
  return vaes;
}

// vae7x7/ and vae5x5/ of `dir` (the pipeline's or --reference_dir).
absl::StatusOr<std::vector<KernelVae>> LoadVaePair(const std::string& dir) {
  std::vector<KernelVae> vaes;
  for (const char* name : {"vae7x7", "vae5x5"}) {
    const std::string d = absl::StrCat(dir, "/", name);
    ASSIGN_OR_RETURN(KernelVae vae, LoadVae(d));
    vaes.push_back(vae);
  }
  if (vaes[0]->options.kernel_dim() != 7 || vaes[1]->options.kernel_dim() != 5) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": vae7x7/ and vae5x5/ must hold a 7x7 and a 5x5 kernel VAE"));
  }
  return vaes;
}

// The held-out fit of each pair of VAEs on each kernel set: ours (the 20% held out of the
// source kernels) and the reference's conv{7x7,5x5}/test.npy where they exist.
absl::StatusOr<std::vector<VaeFitRow>> FitVaes(const PipelineOptions& o,
                                               std::vector<KernelVae>* own,
                                               const SourceKernels* kernels) {
  std::vector<std::pair<std::string, std::vector<torch::Tensor>>> sets;  // name, {7x7, 5x5}
  if (kernels != nullptr) sets.push_back({"own", {kernels->k7.test, kernels->k5.test}});
  if (!o.reference_dir.empty()) {
    std::vector<torch::Tensor> ref;
    for (const char* name : {"conv7x7", "conv5x5"}) {
      const std::string path = absl::StrCat(o.reference_dir, "/", name, "/test.npy");
      if (!common::data::FileExists(path)) break;
      ASSIGN_OR_RETURN(torch::Tensor t, common::data::ReadNpy(path));
      ref.push_back(t);
    }
    if (ref.size() == 2) sets.push_back({"reference", ref});
  }
  std::vector<std::pair<std::string, std::vector<KernelVae>>> vae_sets;
  if (own != nullptr) vae_sets.push_back({"own", *own});
  if (!o.reference_dir.empty()) {
    ASSIGN_OR_RETURN(std::vector<KernelVae> ref, LoadVaePair(o.reference_dir));
    vae_sets.push_back({"reference", ref});
  }
  std::vector<VaeFitRow> rows;
  for (auto& [vae_name, vaes] : vae_sets) {
    for (const auto& [set_name, set] : sets) {
      for (size_t i = 0; i < 2; ++i) {
        // z draws: 10 per kernel, fewer on large sets (at least 10,000 draws in all).
        const auto samples = static_cast<int>(std::clamp<int64_t>(
            (10000 + set[i].size(0) - 1) / std::max<int64_t>(1, set[i].size(0)), 1, 10));
        ASSIGN_OR_RETURN(const VaeFit fit, HeldOutFit(vaes[i], set[i], samples, o.seed));
        rows.push_back(
            {vae_name, set_name, vaes[i]->options.kernel_dim(), fit.kernels, fit.neg_elbo});
        LOG(INFO) << vae_name << " " << rows.back().kernel_dim << "x" << rows.back().kernel_dim
                  << " VAE on " << set_name << " held-out kernels: -ELBO " << fit.neg_elbo;
      }
    }
  }
  return rows;
}

// Stage 4, one worker: a Bayesian net with `prior` on `n` target examples drawn with `seed`.
absl::Status FewShotNet(const PipelineOptions& o, const std::string& code, int64_t n,
                        uint64_t seed) {
  std::optional<FewShotPrior> prior;
  for (const FewShotPrior& p : FewShotPriors(o)) {
    if (code == p.code) prior = p;
  }
  if (!prior) return absl::InvalidArgumentError("--worker: no prior " + code);
  ASSIGN_OR_RETURN(const Domain target, LoadDomain(o.data_dir, o.target_classes));
  ASSIGN_OR_RETURN(common::data::InMemoryDataset train, FewShot(target.train, n, seed));
  BnnConfig c;
  c.net.c1 = o.target_c1, c.net.c2 = o.target_c2, c.net.classes = target.classes;
  c.net.net_cfg = code == "loguniform" ? "bayes-mtrunca" : "bayes";
  const bool dwp = code == "dwp" || code == "dwpref";
  const std::string p = dwp ? "vae" : code;
  c.prior_list = {p, p};
  c.epochs = o.bnn_epochs, c.seed = seed, c.eval_freq = 0;  // evaluated once, at the end
  KernelInit init;
  if (dwp) {
    ASSIGN_OR_RETURN(std::vector<KernelVae> vaes,
                     LoadVaePair(code == "dwp" ? o.out_dir : o.reference_dir));
    init = {{"vae", "vae"}, vaes, {}};
  }
  ASSIGN_OR_RETURN(BnnResult r, TrainBnn(c, init, train, target.test));
  const std::string dir = FewShotDir(o, *prior, n, seed);
  RETURN_IF_ERROR(common::data::MakeDirs(dir));
  return common::train::WriteJsonFile(dir + "/summary.json", {{"prior", prior->name},
                                                              {"size", n},
                                                              {"split_seed", seed},
                                                              {"ens_acc", r.ens_acc},
                                                              {"det_acc", r.det_acc},
                                                              {"test_nll", r.test_nll}});
}

// Stage 4's results: one row per (size, seed, prior).
absl::StatusOr<std::vector<FewShotRow>> CollectFewShot(const PipelineOptions& o) {
  std::vector<FewShotRow> rows;
  for (int64_t n : o.sizes) {
    for (uint64_t seed : o.split_seeds) {
      for (const FewShotPrior& prior : FewShotPriors(o)) {
        const std::string path = FewShotDir(o, prior, n, seed) + "/summary.json";
        ASSIGN_OR_RETURN(const nlohmann::json j, common::train::ReadJsonFile(path));
        for (const char* key : {"ens_acc", "det_acc", "test_nll"}) {
          if (!j.contains(key) || !j[key].is_number()) {
            return absl::DataLossError(absl::StrCat(path, ": no ", key));
          }
        }
        FewShotRow row{prior.name,
                       n,
                       seed,
                       j["ens_acc"].get<double>(),
                       j["det_acc"].get<double>(),
                       j["test_nll"].get<double>()};
        LOG(INFO) << prior.name << " N=" << n << " seed " << seed << ": ensemble acc "
                  << row.ens_acc << ", det " << row.det_acc << ", NLL " << row.test_nll;
        rows.push_back(row);
      }
    }
  }
  return rows;
}

// fewshot.md: accuracy and NLL per prior and size; fewshot.csv: every net.
std::string FewShotTable(const PipelineOptions& o, const std::vector<FewShotRow>& rows,
                         std::string* csv) {
  std::map<std::pair<std::string, int64_t>, std::vector<double>> acc, nll;
  *csv = "prior,size,split_seed,ens_acc,det_acc,test_nll\n";
  for (const FewShotRow& r : rows) {
    acc[{r.prior, r.size}].push_back(r.ens_acc);
    nll[{r.prior, r.size}].push_back(r.test_nll);
    absl::StrAppend(csv, r.prior, ",", r.size, ",", r.split_seed, ",", r.ens_acc, ",", r.det_acc,
                    ",", r.test_nll, "\n");
  }
  std::string md;
  for (const auto& [what, values] :
       {std::pair<const char*, decltype(acc)*>{"10-sample ensemble test accuracy", &acc},
        {"test NLL of the ensemble (nats per example)", &nll}}) {
    absl::StrAppend(&md, md.empty() ? "" : "\n", what, ", mean ± std over split seeds ",
                    absl::StrJoin(o.split_seeds, ", "), ":\n\n| prior |");
    for (int64_t n : o.sizes) absl::StrAppend(&md, " N=", n, " |");
    md += "\n|---|";
    for (size_t i = 0; i < o.sizes.size(); ++i) md += "---|";
    for (const FewShotPrior& p : FewShotPriors(o)) {
      absl::StrAppend(&md, "\n| ", p.name, " |");
      for (int64_t n : o.sizes)
        md += absl::StrCat(" ", common::report::MeanStd((*values)[{p.name, n}]), " |");
    }
    md += "\n";
  }
  return md;
}

// vaes.md: held-out -ELBO per kernel, one row per pair of VAEs, one column per kernel set.
std::string VaeTable(const std::vector<VaeFitRow>& rows, std::string* csv) {
  *csv = "vaes,kernels,kernel_dim,count,neg_elbo\n";
  std::vector<std::pair<std::string, int64_t>> columns;  // (kernel set, dim)
  std::vector<std::string> vae_sets;
  std::map<std::tuple<std::string, std::string, int64_t>, double> value;
  for (const VaeFitRow& r : rows) {
    absl::StrAppend(csv, r.vaes, ",", r.kernels, ",", r.kernel_dim, ",", r.count, ",", r.neg_elbo,
                    "\n");
    const std::pair<std::string, int64_t> col{r.kernels, r.kernel_dim};
    if (std::find(columns.begin(), columns.end(), col) == columns.end()) columns.push_back(col);
    if (std::find(vae_sets.begin(), vae_sets.end(), r.vaes) == vae_sets.end())
      vae_sets.push_back(r.vaes);
    value[{r.vaes, r.kernels, r.kernel_dim}] = r.neg_elbo;
  }
  std::string md =
      "kernel VAEs: held-out -ELBO per kernel in nats (lower is better; 10 z draws per kernel, "
      "fewer on sets of over 1,000), by where the held-out kernels come from (count):\n\n| VAEs |";
  for (const auto& [kernels, dim] : columns) {
    int64_t count = 0;
    for (const VaeFitRow& r : rows) {
      if (r.kernels == kernels && r.kernel_dim == dim) count = r.count;
    }
    absl::StrAppend(&md, " ", kernels, " ", dim, "x", dim, " (", count, ") |");
  }
  md += "\n|---|";
  for (size_t i = 0; i < columns.size(); ++i) md += "---|";
  for (const std::string& v : vae_sets) {
    absl::StrAppend(&md, "\n| ", v, " |");
    for (const auto& [kernels, dim] : columns) {
      absl::StrAppend(&md, absl::StrFormat(" %.2f |", value[{v, kernels, dim}]));
    }
  }
  return md + "\n";
}

// Stage 5: test accuracy vs steps of a deterministic net from three inits.
absl::Status ConvergenceFigure(const PipelineOptions& o, const Domain& target,
                               const std::vector<KernelVae>& vaes, const SourceKernels* kernels) {
  std::vector<common::plot::Series> series;
  for (const std::string init : {"vae", "xavier", "filters"}) {
    NetConfig c;
    c.net.net_cfg = "vanilla", c.net.c1 = o.target_c1, c.net.c2 = o.target_c2,
    c.net.classes = target.classes;
    c.bs = 64, c.seed = o.seed;
    c.epochs = std::max<int64_t>(
        1, o.convergence_steps * c.bs / std::max<int64_t>(1, target.train.size()));
    c.fastconv = true, c.eval_freq = std::max<int64_t>(1, o.convergence_steps / 15);
    ASSIGN_OR_RETURN(common::data::InMemoryDataset train,
                     FewShot(target.train, o.convergence_steps * c.bs / c.epochs, o.seed));
    if (init == std::string("filters") && kernels == nullptr) continue;  // no source kernels
    KernelInit ki{{init, init}, vaes, {}};
    if (kernels != nullptr) ki.filters = {kernels->k7.train, kernels->k5.train};
    if (init == std::string("filters") && kernels->k5.train.size(0) < o.target_c1 * o.target_c2) {
      // Drawn without replacement, as the reference: one source kernel per (out, in) pair.
      LOG(WARNING) << "convergence figure without the 'filters' curve: it needs "
                   << o.target_c1 * o.target_c2 << " 5x5 training kernels, "
                   << kernels->k5.train.size(0)
                   << " were kept (lower --prune_5x5 or train more source nets)";
      continue;
    }
    ASSIGN_OR_RETURN(NetResult r, TrainNet(c, ki, train, target.test));
    common::plot::Series s{init, {}, {}, {}, {}};
    for (const auto& [step, acc] : r.curve)
      s.x.push_back(static_cast<double>(step)), s.y.push_back(acc);
    series.push_back(s);
  }
  std::string csv = "init,step,test_acc\n";  // the figure's numbers
  for (const common::plot::Series& s : series) {
    for (size_t i = 0; i < s.x.size(); ++i)
      absl::StrAppend(&csv, s.name, ",", s.x[i], ",", s.y[i], "\n");
  }
  RETURN_IF_ERROR(common::data::WriteFileAtomically(o.out_dir + "/convergence.csv", csv));
  const common::plot::Axes axes{"fconv on the target classes: test accuracy vs steps", "SGD steps",
                                "test accuracy"};
  RETURN_IF_ERROR(common::plot::LinePlot(o.out_dir + "/convergence.svg", axes, series));
  return common::plot::LinePlot(o.out_dir + "/convergence.png", axes, series);
}

}  // namespace

std::vector<FewShotPrior> FewShotPriors(const PipelineOptions& o) {
  std::vector<FewShotPrior> priors;
  if (o.source_nets > 0) priors.push_back({"DWP", "dwp"});
  if (!o.reference_dir.empty()) priors.push_back({"DWP (released VAEs)", "dwpref"});
  priors.push_back({"log-uniform", "loguniform"});
  priors.push_back({"N(0,1)", "sn"});
  return priors;
}

PipelineOptions QuickPipeline(PipelineOptions o) {
  o.source_nets = o.source_nets == 0 ? 0 : 2;  // 0: the released VAEs only
  o.source_c1 = 32, o.source_c2 = 64, o.source_epochs = 1;
  o.vae_epochs = 20, o.target_c1 = 8, o.target_c2 = 32, o.bnn_epochs = 150;
  o.split_seeds = {0}, o.convergence_steps = 150;
  return o;
}

absl::Status ValidateDomains(const PipelineOptions& o) {
  if (o.source_nets < 0 || (o.source_nets == 0 && o.reference_dir.empty())) {
    return absl::InvalidArgumentError(
        "--source_nets must be >= 1, or 0 with --reference_dir (the released VAEs only)");
  }
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

common::sweep::Sweep SourceNetSweep(const PipelineOptions& o) {
  common::sweep::Sweep sweep{o.out_dir + "/source_nets", {}};
  for (int i = 0; i < o.source_nets; ++i) {
    sweep.runs.push_back(WorkerRun(o, absl::StrCat("source_net/", i), SourceNetDir(o, i)));
  }
  return sweep;
}

common::sweep::Sweep FewShotSweep(const PipelineOptions& o) {
  common::sweep::Sweep sweep{o.out_dir + "/fewshot", {}};
  for (int64_t n : o.sizes) {
    for (uint64_t seed : o.split_seeds) {
      for (const FewShotPrior& prior : FewShotPriors(o)) {
        sweep.runs.push_back(WorkerRun(o, absl::StrCat("fewshot/", prior.code, "/", n, "/", seed),
                                       FewShotDir(o, prior, n, seed)));
      }
    }
  }
  return sweep;
}

absl::StatusOr<PipelineResult> RunPipeline(const PipelineOptions& o, common::sweep::Runner& runner,
                                           bool resume) {
  RETURN_IF_ERROR(ValidateDomains(o));
  // One clear error here, not one per worker.
  if (o.source_nets > 0) RETURN_IF_ERROR(LoadDomain(SourceDataDir(o), o.source_classes).status());
  if (!o.reference_dir.empty()) RETURN_IF_ERROR(LoadVaePair(o.reference_dir).status());
  ASSIGN_OR_RETURN(Domain target, LoadDomain(o.data_dir, o.target_classes));
  ASSIGN_OR_RETURN(common::train::RunDir run,
                   common::train::RunDir::Open(o.out_dir, common::train::FieldsToJson(o), resume));
  PipelineResult r;
  std::optional<SourceKernels> kernels;
  std::vector<KernelVae> vaes;  // the DWP's: ours, or the released ones with source_nets = 0
  if (o.source_nets > 0) {
    RETURN_IF_ERROR(runner.Execute(SourceNetSweep(o)));
    ASSIGN_OR_RETURN(kernels, CollectSourceKernels(o));
    r.kernels_7x7 = kernels->k7.train.size(0) + kernels->k7.test.size(0);
    r.kernels_5x5 = kernels->k5.train.size(0) + kernels->k5.test.size(0);
    r.source_acc = kernels->accuracy;
    ASSIGN_OR_RETURN(vaes, TrainVaes(o, *kernels));
  } else {
    ASSIGN_OR_RETURN(vaes, LoadVaePair(o.reference_dir));
  }
  ASSIGN_OR_RETURN(r.vae_fit,
                   FitVaes(o, o.source_nets > 0 ? &vaes : nullptr, kernels ? &*kernels : nullptr));
  RETURN_IF_ERROR(runner.Execute(FewShotSweep(o)));
  ASSIGN_OR_RETURN(r.fewshot, CollectFewShot(o));
  std::string csv, vae_csv;
  const std::string fewshot_md = FewShotTable(o, r.fewshot, &csv);
  const std::string vae_md = VaeTable(r.vae_fit, &vae_csv);
  r.table_markdown = fewshot_md + "\n" + vae_md;
  RETURN_IF_ERROR(common::data::WriteFileAtomically(o.out_dir + "/fewshot.csv", csv));
  RETURN_IF_ERROR(common::data::WriteFileAtomically(o.out_dir + "/fewshot.md", fewshot_md));
  RETURN_IF_ERROR(common::data::WriteFileAtomically(o.out_dir + "/vaes.csv", vae_csv));
  RETURN_IF_ERROR(common::data::WriteFileAtomically(o.out_dir + "/vaes.md", vae_md));
  if (!common::data::FileExists(o.out_dir + "/convergence.png") ||
      !common::data::FileExists(o.out_dir + "/convergence.csv")) {
    RETURN_IF_ERROR(ConvergenceFigure(o, target, vaes, kernels ? &*kernels : nullptr));
  }
  nlohmann::json fewshot = nlohmann::json::array(), fit = nlohmann::json::array();
  for (const FewShotRow& row : r.fewshot) {
    fewshot.push_back({{"prior", row.prior},
                       {"size", row.size},
                       {"split_seed", row.split_seed},
                       {"ens_acc", row.ens_acc},
                       {"det_acc", row.det_acc},
                       {"test_nll", row.test_nll}});
  }
  for (const VaeFitRow& row : r.vae_fit) {
    fit.push_back({{"vaes", row.vaes},
                   {"kernels", row.kernels},
                   {"kernel_dim", row.kernel_dim},
                   {"count", row.count},
                   {"neg_elbo", row.neg_elbo}});
  }
  RETURN_IF_ERROR(run.WriteSummary({{"source_acc", r.source_acc},
                                    {"kernels_7x7", r.kernels_7x7},
                                    {"kernels_5x5", r.kernels_5x5},
                                    {"vae_fit", fit},
                                    {"fewshot", fewshot}}));
  return r;
}

absl::Status RunPipelineWorker(const std::string& pipeline_dir, const std::string& job) {
  const std::string config = pipeline_dir + "/config.json";
  ASSIGN_OR_RETURN(const nlohmann::json json, common::train::ReadJsonFile(config));
  ASSIGN_OR_RETURN(PipelineOptions o, common::train::FieldsFromJson<PipelineOptions>(json, config));
  o.out_dir = pipeline_dir;
  const std::vector<std::string> parts = absl::StrSplit(job, '/');
  int i = 0;
  int64_t n = 0;
  uint64_t seed = 0;
  if (parts.size() == 2 && parts[0] == "source_net" && absl::SimpleAtoi(parts[1], &i)) {
    return SourceNet(o, i);
  }
  if (parts.size() == 4 && parts[0] == "fewshot" && absl::SimpleAtoi(parts[2], &n) &&
      absl::SimpleAtoi(parts[3], &seed)) {
    return FewShotNet(o, parts[1], n, seed);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--worker must be source_net/<i> or fewshot/<prior>/<size>/<split seed>, got '", job, "'"));
}

}  // namespace deep_weight_prior
