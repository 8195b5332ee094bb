// The repository's main job: every paper's headline claims, run and compared with the paper's
// numbers, in one report (report.md and index.html in --out_dir).
//
//   ./bazelw run //:reproduce                                   # quick scale, ~45 min on 2 cores
//   ./bazelw run //:reproduce -- --papers=icnn --claims=icnn.sigprop
//   ./bazelw run //:reproduce -- --scale=paper --runner=slurm --dataset_dirs=mnist=/data/mnist
//
// Each paper's claims are in <package>/claims.cc; the driver is common/report/reproduce.h.
#include <cstdio>
#include <map>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/report/reproduce.h"
#include "common/sweep/local_runner.h"
#include "common/sweep/runner_flags.h"
#include "common/util/list_flag.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "deep_weight_prior/claims.h"
#include "excess_capacity/claims.h"
#include "icnn/claims.h"
#include "implicit_dl/claims.h"
#include "weightnorm_init/claims.h"

ABSL_FLAG(std::string, scale, "quick",
          "smoke (seconds, for tests), quick (Fashion-MNIST, about 45 min on 2 cores) or paper "
          "(each paper's protocol; needs the papers' datasets, see --dataset_dirs).");
ABSL_FLAG(std::string, papers, "",
          "Comma list of papers (icnn, weightnorm_init, deep_weight_prior, excess_capacity, "
          "implicit_dl); empty: all.");
ABSL_FLAG(std::string, claims, "", "Comma list of claims (<paper>.<name> or <name>); empty: all.");
ABSL_FLAG(std::string, dataset_dirs, "",
          "Paper scale: where the papers' datasets are, as name=dir pairs, e.g. "
          "'mnist=/data/mnist,cifar10=/data/cifar-10-batches-bin,notmnist=/data/notmnist'. At any "
          "scale, dwp_released=<deep-weight-prior repository>/data/fconv adds the DWP with the "
          "authors' released VAEs (converted, see deep_weight_prior/README.md).");

namespace {

std::vector<common::report::Claim> AllClaims() {
  std::vector<common::report::Claim> all;
  for (auto claims : {implicit_dl::Claims(), icnn::Claims(), weightnorm_init::Claims(),
                      excess_capacity::Claims(), deep_weight_prior::Claims()}) {
    for (auto& c : claims) all.push_back(std::move(c));
  }
  return all;
}

absl::StatusOr<std::map<std::string, std::string>> ParseDatasetDirs(const std::string& flag) {
  std::map<std::string, std::string> dirs;
  for (absl::string_view pair : absl::StrSplit(flag, ',', absl::SkipEmpty())) {
    const std::vector<std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty() || kv[1].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--dataset_dirs: expected name=dir pairs, got '", pair, "'"));
    }
    dirs[kv[0]] = common::util::ResolveUserPath(kv[1]);
  }
  return dirs;
}

// " --flag=value" for each of `flags` not at its default.
std::string NonDefaultFlags(const std::vector<std::string>& flags) {
  std::string out;
  for (const std::string& flag : flags) {
    const absl::CommandLineFlag* f = absl::FindCommandLineFlag(flag);
    if (f != nullptr && f->CurrentValue() != f->DefaultValue()) {
      absl::StrAppend(&out, " --", flag, "=", f->CurrentValue());
    }
  }
  return out;
}

absl::Status Main(const common::util::Runtime& rt) {
  using common::report::ReproduceOptions;
  ReproduceOptions o;
  ASSIGN_OR_RETURN(o.scale, common::report::ParseScale(absl::GetFlag(FLAGS_scale)));
  o.papers = common::util::ParseStringList(absl::GetFlag(FLAGS_papers));
  o.claims = common::util::ParseStringList(absl::GetFlag(FLAGS_claims));
  ASSIGN_OR_RETURN(o.dataset_dirs, ParseDatasetDirs(absl::GetFlag(FLAGS_dataset_dirs)));
  const std::string scale = common::report::ScaleName(o.scale);
  o.out_dir = rt.ResolveOutDir(absl::StrCat("reproduce/", scale));
  o.data_dir = rt.data_dir;
  o.binary_dir = common::sweep::SelfDirectory();
  if (!o.binary_dir.empty() && o.binary_dir.back() == '/') o.binary_dir.pop_back();
  // The re-run command of one claim: the same scale, data and output directory.
  o.rerun_prefix = absl::StrCat(
      "./bazelw run //:reproduce -- --scale=", scale,
      NonDefaultFlags({"out_dir", "data_dir", "dataset_dirs", "runner", "parallel", "slurm_args"}));
  o.command = absl::StrCat(o.rerun_prefix, NonDefaultFlags({"papers", "claims"}));
  o.paper_titles = {
      {"implicit_dl", "Implicit Deep Learning (El Ghaoui et al., SIAM J. Math. Data Science 2021)"},
      {"icnn",
       "Principled Weight Initialisation for Input-Convex Neural Networks (Hoedt & Klambauer, "
       "NeurIPS 2023)"},
      {"weightnorm_init",
       "How to Initialize your Network? Robust Initialization for WeightNorm & ResNets (Arpit, "
       "Campos, Bengio, NeurIPS 2019)"},
      {"excess_capacity",
       "Measuring Excess Capacity in Neural Networks (Graf et al., NeurIPS 2022)"},
      {"deep_weight_prior", "The Deep Weight Prior (Atanov et al., ICLR 2019)"},
  };
  ASSIGN_OR_RETURN(std::unique_ptr<common::sweep::Runner> runner,
                   common::sweep::RunnerFromFlags("reproduce"));
  const std::vector<common::report::Claim> all = AllClaims();
  ASSIGN_OR_RETURN(std::vector<common::report::ClaimResult> results,
                   common::report::RunReproduce(all, o, *runner));
  int not_reproduced = 0;
  for (const auto& r : results)
    not_reproduced += r.verdict == common::report::Verdict::kNotReproduced;
  std::printf("%d of %zu claims not reproduced (see the report)\n", not_reproduced, results.size());
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  return common::util::RunMain(
      argc, argv,
      "Reproduces the five papers' headline claims and writes report.md and index.html: each "
      "claim with the paper's number, ours and the verdict. Finished runs are reused, so the same "
      "command continues an interrupted reproduce.",
      Main);
}
