// The depth experiment (Fig. 2 of Hoedt & Klambauer 2023): per-update training loss of a
// non-convex MLP, an ICNN with the default init and an ICNN with the principled init.
//
//   ./bazelw run //icnn:init_learnability -- --num_hidden=5 --runs=3 --epochs=1
#include <torch/torch.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/data/file_bytes.h"
#include "common/dist/process_group.h"
#include "common/dist/run_dir.h"
#include "common/plot/plot.h"
#include "common/train/run_dir.h"
#include "common/train/tensorboard.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "icnn/depth_experiment.h"

namespace {
const icnn::LearnabilityConfig kDefaults;
}  // namespace

ABSL_FLAG(int64_t, num_hidden, 3,
          "Convex layers after the first (unconstrained) layer: 3, 5 or 7 in the paper.");
ABSL_FLAG(
    std::string, variants, "nonconvex,icnn,icnn_init",
    "Comma list of nonconvex, icnn (lazy clipping, He init), icnn_init (principled init), "
    "icnn_bias (bias-only init, the Fig. 8 ablation), exp, exp_init, exp_bias, clip, clip_init, "
    "clip_bias. Empty: the single configuration of --positivity/--better_init.");
ABSL_FLAG(std::string, positivity, "icnn", "With --variants='': none, icnn, exp or clip.");
ABSL_FLAG(bool, better_init, true, "With --variants='': the principled init (else He).");
ABSL_FLAG(bool, rand_bias, false, "Principled init with bias_noise = 0.5.");
ABSL_FLAG(double, corr, 0.5, "Target correlation of the principled init.");
ABSL_FLAG(bool, skip, false, "Linear passthrough from the input to every convex layer.");
ABSL_FLAG(int64_t, epochs, kDefaults.epochs, "Epochs per run.");
ABSL_FLAG(int64_t, bs, kDefaults.bs, "Batch size.");
ABSL_FLAG(double, lr, kDefaults.lr, "Adam learning rate (summed cross-entropy).");
ABSL_FLAG(int64_t, runs, kDefaults.runs,
          "Runs (seeds) per variant; all runs are spread over the processes of a torchrun / srun "
          "job.");
ABSL_FLAG(bool, resume, false,
          "Continue the job in --out_dir: recorded runs are kept, a checkpointed run continues "
          "from its checkpoint (with any number of processes).");

namespace icnn {
namespace {

absl::StatusOr<Variant> MakeVariant(const std::string& name, int64_t input, int64_t classes) {
  IcnnOptions o(input, classes);
  o.num_hidden(absl::GetFlag(FLAGS_num_hidden)).skip(absl::GetFlag(FLAGS_skip));
  o.corr(absl::GetFlag(FLAGS_corr)).rand_bias(absl::GetFlag(FLAGS_rand_bias));
  const bool principled = absl::EndsWith(name, "_init");
  const bool bias_only = absl::EndsWith(name, "_bias");
  const std::string kind = principled || bias_only ? name.substr(0, name.rfind('_')) : name;
  ASSIGN_OR_RETURN(Positivity p, ParsePositivity(kind == "nonconvex" ? "none" : kind));
  if (p == Positivity::kNone && (principled || bias_only)) {
    return absl::InvalidArgumentError("--variants: _init and _bias apply to convex nets only");
  }
  o.positivity(p).init(principled ? InitScheme::kPrincipled
                                  : (bias_only ? InitScheme::kBiasOnly : InitScheme::kDefault));
  return Variant{name, o};
}

absl::StatusOr<std::vector<Variant>> VariantsFromFlags(int64_t input, int64_t classes) {
  const double corr = absl::GetFlag(FLAGS_corr);
  if (!(corr >= 0 && corr < 1)) {  // mu_w^2 = corr / f(n) >= 0 and v_w ~ (1 - corr) > 0
    return absl::InvalidArgumentError(absl::StrCat("--corr must be in [0, 1), got ", corr));
  }
  std::vector<std::string> names =
      absl::StrSplit(absl::GetFlag(FLAGS_variants), ',', absl::SkipEmpty());
  if (names.empty()) {
    const std::string p = absl::GetFlag(FLAGS_positivity);
    names.push_back((p == "none" ? "nonconvex" : p) +
                    (absl::GetFlag(FLAGS_better_init) && p != "none" ? "_init" : ""));
  }
  std::vector<Variant> out;
  for (const std::string& n : names) {
    ASSIGN_OR_RETURN(Variant v, MakeVariant(n, input, classes));
    out.push_back(v);
  }
  return out;
}

absl::Status WriteCurves(common::train::RunDir& run, const std::vector<VariantResult>& results) {
  const std::string& dir = run.path();
  std::vector<common::plot::Series> series;
  std::string csv = "update";
  for (const VariantResult& r : results)
    absl::StrAppend(&csv, ",", r.name, "_median,", r.name, "_q25,", r.name, "_q75");
  csv += "\n";
  for (const VariantResult& r : results) {
    std::vector<double> x(r.batch_losses.front().size());
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i + 1);
    series.push_back(common::plot::MedianBand(r.name, x, r.batch_losses));
  }
  for (size_t i = 0; i < series.front().x.size(); ++i) {
    csv += absl::StrCat(i + 1);
    std::vector<std::pair<std::string, double>> scalars;  // the same in TensorBoard
    for (const auto& s : series) {
      absl::StrAppend(&csv, ",", s.y[i], ",", s.lower[i], ",", s.upper[i]);
      scalars.insert(scalars.end(), {{s.name + "/train_loss_median", s.y[i]},
                                     {s.name + "/train_loss_q25", s.lower[i]},
                                     {s.name + "/train_loss_q75", s.upper[i]}});
    }
    csv += "\n";
    RETURN_IF_ERROR(run.events().AddScalars(static_cast<int64_t>(i + 1), scalars));
  }
  RETURN_IF_ERROR(common::data::WriteFileAtomically(dir + "/curves.csv", csv));
  const common::plot::Axes axes{"training loss (median and IQR over runs)", "update", "loss", false,
                                true};
  RETURN_IF_ERROR(common::plot::LinePlot(dir + "/training_loss.svg", axes, series));
  return common::plot::LinePlot(dir + "/training_loss.png", axes, series);
}

absl::Status Main(const common::util::Runtime& rt) {
  LearnabilityConfig c;
  c.epochs = absl::GetFlag(FLAGS_epochs);
  c.bs = absl::GetFlag(FLAGS_bs);
  c.lr = absl::GetFlag(FLAGS_lr);
  c.runs = absl::GetFlag(FLAGS_runs);
  c.device = rt.device;
  for (auto [name, v] : {std::pair{"--epochs", c.epochs},
                         {"--bs", c.bs},
                         {"--runs", c.runs},
                         {"--num_hidden", absl::GetFlag(FLAGS_num_hidden)}}) {
    if (v <= 0) return absl::InvalidArgumentError(absl::StrCat(name, " must be > 0, got ", v));
  }
  // Same as reference: the training split only, normalised per channel, flattened.
  ASSIGN_OR_RETURN(common::data::ImageSplits raw, common::data::LoadImageSplits(rt.data_dir));
  const torch::Tensor x = common::data::ScaleToUnit(raw.train_images);
  auto [mean, std] = common::data::ChannelMeanStd(x);
  const std::vector<double> m(mean.data_ptr<double>(), mean.data_ptr<double>() + mean.numel());
  const std::vector<double> s(std.data_ptr<double>(), std.data_ptr<double>() + std.numel());
  const common::data::InMemoryDataset data(
      common::data::FlattenFeatures(common::data::NormalizeChannels(x, m, s)).contiguous(),
      raw.train_labels);
  ASSIGN_OR_RETURN(std::vector<Variant> variants,
                   VariantsFromFlags(data.inputs().size(1), raw.num_classes));
  c.out_dir = rt.ResolveOutDir("icnn_init_learnability");
  c.resume = absl::GetFlag(FLAGS_resume);
  // Run-parallel with torchrun / srun: each rank trains whole runs; rank 0 writes the results.
  ASSIGN_OR_RETURN(common::dist::ProcessGroup * world, common::dist::World());
  ASSIGN_OR_RETURN(std::optional<common::train::RunDir> run,
                   common::dist::OpenRunDirOnRankZero(
                       *world, c.out_dir, common::train::CommandLineFlagsJson(), c.resume));
  ASSIGN_OR_RETURN(const std::vector<VariantResult> results,
                   RunVariants(variants, c, data, *world));
  if (!run) return absl::OkStatus();  // ranks other than 0
  nlohmann::json summary;
  for (const VariantResult& r : results) {
    const double gap = *std::max_element(r.convexity_gap.begin(), r.convexity_gap.end());
    std::printf(
        "%-12s mean loss of the last 100 updates (median over %lld runs): %.4f | valid acc %.4f | "
        "midpoint convexity gap %.2e\n",
        r.name.c_str(), static_cast<long long>(c.runs), r.final_loss,
        common::plot::Quantile(r.valid_accuracy, 0.5), gap);
    summary[r.name] = {{"final_loss", r.final_loss},
                       {"valid_accuracy", r.valid_accuracy},
                       {"max_convexity_gap", gap}};
  }
  RETURN_IF_ERROR(run->WriteSummary(summary));
  RETURN_IF_ERROR(WriteCurves(*run, results));
  std::printf("curves.csv, training_loss.svg/.png and summary.json in %s\n", c.out_dir.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace icnn

int main(int argc, char** argv) {
  return common::util::RunMain(
      argc, argv,
      "Learnability vs depth (Hoedt & Klambauer 2023, Fig. 2): non-convex MLP, ICNN with default "
      "init and ICNN with the principled init, trained on the training split (Fashion-MNIST by "
      "default). Run-parallel over several processes or machines (each trains whole runs, so the "
      "results are those of one process; rank 0 writes the run): python3 -m "
      "torch.distributed.run --nproc_per_node=N --no_python <this binary> ... or srun -n N <this "
      "binary> ... (README: More than one process or machine).",
      icnn::Main);
}
