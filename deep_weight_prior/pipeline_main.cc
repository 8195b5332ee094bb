// The Deep Weight Prior end to end: source nets on the source domain (default: Fashion-MNIST
// classes 0-4), kernel VAEs, few-shot Bayesian nets on the target domain (classes 5-9) with the
// DWP against N(0, 1) and log-uniform priors.
//
//   ./bazelw run //deep_weight_prior:pipeline -- --quick       # minutes on 2 cores
//   ./bazelw run //deep_weight_prior:pipeline -- --sizes=50,100,200,500 --split_seeds=0,1,2,3,4
//   ./bazelw run //deep_weight_prior:pipeline -- --reference_dir=~/deep-weight-prior/data/fconv
//       # + the DWP with the authors' released VAEs, and both pairs of VAEs by held-out -ELBO
//   ./bazelw run //deep_weight_prior:pipeline -- --source_data_dir=~/data/notmnist \
//       --data_dir=~/data/mnist --source_classes=0,1,2,3,4,5,6,7,8,9 \
//       --target_classes=0,1,2,3,4,5,6,7,8,9        # the paper's notMNIST -> MNIST
//   ./bazelw run //deep_weight_prior:pipeline -- --source_nets=100 --runner=slurm \
//       --slurm_args='--partition=cpu'               # source and few-shot nets as job arrays
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/sweep/local_runner.h"
#include "common/sweep/runner_flags.h"
#include "common/util/list_flag.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "deep_weight_prior/dwp_pipeline.h"

namespace {
const deep_weight_prior::PipelineOptions kDefaults;
}  // namespace

ABSL_FLAG(bool, quick, false,
          "Small nets, few epochs, one split seed: the whole pipeline in minutes.");
ABSL_FLAG(int, source_nets, kDefaults.source_nets,
          "Source nets trained on the source classes; 0: no own VAEs, the DWP with "
          "--reference_dir's only.");
ABSL_FLAG(int64_t, source_epochs, kDefaults.source_epochs, "Epochs per source net.");
ABSL_FLAG(double, prune_7x7, kDefaults.prune_7x7, "Keep 7x7 source kernels with L2 norm >= this.");
ABSL_FLAG(double, prune_5x5, kDefaults.prune_5x5, "Keep 5x5 source kernels with L2 norm >= this.");
ABSL_FLAG(int64_t, vae_epochs, kDefaults.vae_epochs, "Epochs per kernel VAE.");
ABSL_FLAG(int64_t, vae_min_steps, kDefaults.vae_min_steps,
          "> 0: at least this many steps per kernel VAE (more epochs on small kernel sets; see "
          "the README before using it).");
ABSL_FLAG(int64_t, bnn_epochs, kDefaults.bnn_epochs,
          "Epochs of each few-shot Bayesian net (one step each for N <= 256).");
ABSL_FLAG(std::string, sizes, "50,100,200", "Few-shot training-set sizes.");
ABSL_FLAG(std::string, source_hid, "64,128", "Channels of the source nets' conv1 and conv2.");
ABSL_FLAG(std::string, target_hid, "32,128",
          "Channels of the target nets' conv1 and conv2 (the reference: 32 128).");
ABSL_FLAG(std::string, split_seeds, "0,1,2,3,4",
          "Seeds of the few-shot subsets (scikit-learn's stratified train_test_split with "
          "random_state=seed: the reference's subsets).");
ABSL_FLAG(std::string, source_data_dir, "",
          "Source-domain dataset (MNIST layout), e.g. notMNIST with --data_dir MNIST as in the "
          "paper; empty: --data_dir.");
ABSL_FLAG(std::string, source_classes, "0,1,2,3,4", "Classes of the source domain.");
ABSL_FLAG(std::string, target_classes, "5,6,7,8,9",
          "Classes of the target domain (few-shot task).");
ABSL_FLAG(std::string, reference_dir, "",
          "The reference repository's data/fconv: the authors' released VAEs vae7x7/ and vae5x5/ "
          "as distributed (params.yaml + vae_params.torch) and their held-out kernels "
          "conv7x7/test.npy, conv5x5/test.npy. Adds the DWP with the released VAEs to the "
          "few-shot table and both pairs of VAEs to vaes.md.");

ABSL_FLAG(bool, resume, false,
          "Continue the pipeline in --out_dir (same options): finished source nets, VAEs, "
          "few-shot nets and figures are skipped.");
ABSL_FLAG(std::string, worker, "",
          "Internal: run one source net (source_net/<i>) or few-shot net "
          "(fewshot/<prior>/<size>/<split seed>) of the pipeline in --out_dir.");

namespace deep_weight_prior {
namespace {

// A non-empty list of integers >= 0.
absl::StatusOr<std::vector<int64_t>> ParseCounts(const std::string& flag, const std::string& text) {
  ASSIGN_OR_RETURN(std::vector<int64_t> out, common::util::ParseIntList(flag, text));
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat("--", flag, " is empty"));
  for (int64_t v : out) {
    if (v < 0) return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", v, " is < 0"));
  }
  return out;
}

absl::Status Main(const common::util::Runtime& rt) {
  if (!absl::GetFlag(FLAGS_worker).empty()) {
    return RunPipelineWorker(rt.ResolveOutDir("deep_weight_prior_pipeline"),
                             absl::GetFlag(FLAGS_worker));
  }
  PipelineOptions o;
  o.data_dir = rt.data_dir, o.out_dir = rt.ResolveOutDir("deep_weight_prior_pipeline"),
  o.seed = rt.seed;
  o.source_nets = absl::GetFlag(FLAGS_source_nets);
  o.source_epochs = absl::GetFlag(FLAGS_source_epochs);
  o.prune_7x7 = absl::GetFlag(FLAGS_prune_7x7);
  o.prune_5x5 = absl::GetFlag(FLAGS_prune_5x5);
  o.vae_epochs = absl::GetFlag(FLAGS_vae_epochs);
  o.vae_min_steps = absl::GetFlag(FLAGS_vae_min_steps);
  if (o.vae_min_steps < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--vae_min_steps must be >= 0, got ", o.vae_min_steps));
  }
  o.bnn_epochs = absl::GetFlag(FLAGS_bnn_epochs);
  ASSIGN_OR_RETURN(o.sizes, ParseCounts("sizes", absl::GetFlag(FLAGS_sizes)));
  ASSIGN_OR_RETURN(o.source_classes,
                   ParseCounts("source_classes", absl::GetFlag(FLAGS_source_classes)));
  ASSIGN_OR_RETURN(o.target_classes,
                   ParseCounts("target_classes", absl::GetFlag(FLAGS_target_classes)));
  const std::string source_dir = absl::GetFlag(FLAGS_source_data_dir);
  if (!source_dir.empty()) o.source_data_dir = common::util::ResolveUserPath(source_dir);
  const std::string reference_dir = absl::GetFlag(FLAGS_reference_dir);
  if (!reference_dir.empty()) o.reference_dir = common::util::ResolveUserPath(reference_dir);
  ASSIGN_OR_RETURN(const std::vector<int64_t> split_seeds,
                   ParseCounts("split_seeds", absl::GetFlag(FLAGS_split_seeds)));
  o.split_seeds.assign(split_seeds.begin(), split_seeds.end());
  ASSIGN_OR_RETURN(std::vector<int64_t> source_hid,
                   ParseCounts("source_hid", absl::GetFlag(FLAGS_source_hid)));
  ASSIGN_OR_RETURN(std::vector<int64_t> target_hid,
                   ParseCounts("target_hid", absl::GetFlag(FLAGS_target_hid)));
  if (source_hid.size() != 2 || target_hid.size() != 2)
    return absl::InvalidArgumentError("--source_hid and --target_hid take two widths");
  o.source_c1 = source_hid[0], o.source_c2 = source_hid[1], o.target_c1 = target_hid[0],
  o.target_c2 = target_hid[1];
  // Checked before --quick replaces them: a nonsense flag is an error with --quick too.
  for (auto [name, v] : {std::pair<const char*, int64_t>{"--source_epochs", o.source_epochs},
                         {"--vae_epochs", o.vae_epochs},
                         {"--bnn_epochs", o.bnn_epochs}}) {
    if (v < 1) return absl::InvalidArgumentError(absl::StrCat(name, " must be >= 1, got ", v));
  }
  for (int64_t n : o.sizes) {
    if (n < 1)
      return absl::InvalidArgumentError(absl::StrCat("--sizes must be >= 1 each, got ", n));
  }
  RETURN_IF_ERROR(ValidateDomains(o));  // --source_nets=0 needs --reference_dir
  if (absl::GetFlag(FLAGS_quick))
    o = QuickPipeline(o);  // --quick replaces nets, epochs and split seeds
  o.worker_binary = common::sweep::SelfDirectory() + "pipeline";
  ASSIGN_OR_RETURN(const auto runner, common::sweep::RunnerFromFlags("dwp_pipeline"));
  ASSIGN_OR_RETURN(PipelineResult r, RunPipeline(o, *runner, absl::GetFlag(FLAGS_resume)));
  std::printf(
      "source nets: mean test acc %.4f on the source classes; kernels kept: %lld 7x7, %lld 5x5\n\n",
      r.source_acc, static_cast<long long>(r.kernels_7x7), static_cast<long long>(r.kernels_5x5));
  std::printf("few-shot results on the target classes:\n\n%s\nresults in %s\n",
              r.table_markdown.c_str(), o.out_dir.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace deep_weight_prior

int main(int argc, char** argv) {
  return common::util::RunMain(
      argc, argv,
      "The Deep Weight Prior (Atanov et al., ICLR 2019) end to end: source nets, kernel "
      "VAEs, few-shot Bayesian nets with DWP vs N(0,1) vs log-uniform priors.",
      deep_weight_prior::Main);
}
