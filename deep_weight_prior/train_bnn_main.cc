// Trains the Bayesian fconv with one prior per conv layer (the reference's train-bnn.py).
//
//   ./bazelw run //deep_weight_prior:train_bnn -- --num_examples 50 --data_split_seed 0 \
//       --prior_list vae vae --init_list vae vae --vae_list runs/dwp/vae7x7 runs/dwp/vae5x5 \
//       --hid_dim 32 128 --epochs 10000 --eval_freq 100 --out_dir=runs/bnn   # add --resume after a
//       kill
//
// Writes config.json, metrics.csv (one row per evaluation: the reference's columns), summary.json
// and checkpoint.pt (at every evaluation) to --out_dir.
#include <cmath>
#include <cstdio>

#include "absl/flags/flag.h"
#include "common/train/run_dir.h"
#include "common/util/list_flag.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "deep_weight_prior/cli_common.h"
#include "deep_weight_prior/experiments.h"
#include "glog/logging.h"

namespace {
const deep_weight_prior::BnnConfig kDefaults;
}  // namespace

// Also --num_examples --data_split_seed --classes --lr --epochs --decrease_from --bs --hid_dim
// --init_list --vae_list --filters_list (cli_common.cc).
ABSL_FLAG(std::string, net_cfg, "bayes",
          "fconv: bayes, bayes-1-0 or bayes-mtrunca (needed by loguniform); cifarnet: bayes, "
          "bayes1110, bayes1100, bayes1000, bayes-mtrunca, bayes1100-mtrunca, bayes1000-mtrunca; "
          "cifarnetnew: bayes111, bayes111-nofc, bayes110, bayes100, bayes100-nofc, "
          "bayes111-mutrunca.");
ABSL_FLAG(std::string, prior_list, "",
          "Per conv: vae (the DWP), sn, loguniform or no (default sn).");
ABSL_FLAG(int, ens, kDefaults.ens, "Samples of the test ensemble (mean of probabilities).");
ABSL_FLAG(
    std::string, pretrained, "",
    "A train_net model.pt of the same --model / --hid_dim: its conv weights become the "
    "posterior means, with its biases and classifier (the reference's --init_list pretrained).");
ABSL_FLAG(double, logvarinit, -10, "Initial log sigma^2 of every weight.");
ABSL_FLAG(int, dwp_samples, kDefaults.dwp_samples, "Weight samples S of the DWP KL estimate.");
ABSL_FLAG(int64_t, eval_freq, kDefaults.eval_freq,
          "Test metrics (metrics.csv) and checkpoint after epoch 1 and every this many epochs; 0: "
          "only at the end.");
ABSL_FLAG(bool, resume, false, "Continue the run in --out_dir from its checkpoint.pt.");

namespace deep_weight_prior {
namespace {

absl::Status Main(const common::util::Runtime& rt) {
  ASSIGN_OR_RETURN(SharedRun run, LoadSharedRun(rt.data_dir));
  BnnConfig c;
  run.SetNet(c.net);
  c.net.net_cfg = absl::GetFlag(FLAGS_net_cfg);
  c.net.logvar_init = absl::GetFlag(FLAGS_logvarinit);
  if (!std::isfinite(c.net.logvar_init)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--logvarinit must be a finite log variance, got ", c.net.logvar_init));
  }
  c.prior_list = common::util::ParseStringList(absl::GetFlag(FLAGS_prior_list));
  c.epochs = run.epochs, c.bs = run.bs, c.lr = run.lr, c.decrease_from = run.decrease_from;
  c.ens = absl::GetFlag(FLAGS_ens);
  c.dwp_samples = absl::GetFlag(FLAGS_dwp_samples), c.seed = rt.seed;
  if (!absl::GetFlag(FLAGS_pretrained).empty()) {
    c.pretrained = common::util::ResolveUserPath(absl::GetFlag(FLAGS_pretrained));
  }
  c.eval_freq = absl::GetFlag(FLAGS_eval_freq), c.resume = absl::GetFlag(FLAGS_resume);
  const std::string out = rt.ResolveOutDir("deep_weight_prior_bnn");
  ASSIGN_OR_RETURN(
      common::train::RunDir dir,
      common::train::RunDir::Open(out, common::train::CommandLineFlagsJson(), c.resume));
  c.checkpoint_path = dir.checkpoint_path();
  common::train::ResumableMetrics metrics(dir, "epoch", c.resume);
  auto log_eval = [&](const BnnEval& e) -> absl::Status {
    LOG(INFO) << "epoch " << e.epoch << ": ens[" << c.ens << "] test acc " << e.test.ens_acc
              << ", train nll " << e.train_nll << ", kl " << e.test.kl;
    return metrics.Append(static_cast<double>(e.epoch),
                          {{"lr", e.lr},
                           {"train_nll", e.train_nll},
                           {"kl", e.test.kl},
                           {"train_loss", e.train_nll * run.train.size() + e.test.kl},
                           {"ens_test_acc", e.test.ens_acc},
                           {"test_nll", e.test.test_nll},
                           {"samp_test_acc", e.test.samp_acc},
                           {"det_test_acc", e.test.det_acc}});
  };
  ASSIGN_OR_RETURN(BnnResult r, TrainBnn(c, run.init, run.train, run.domain.test, log_eval));
  RETURN_IF_ERROR(dir.WriteSummary({{"ens_test_acc", r.ens_acc},
                                    {"ens", c.ens},
                                    {"samp_test_acc", r.samp_acc},
                                    {"det_test_acc", r.det_acc},
                                    {"test_nll", r.test_nll},
                                    {"kl", r.kl}}));
  std::printf(
      "ens[%d]_test_acc %.4f  samp_test_acc %.4f  det_test_acc %.4f  test_nll %.4f  kl %.6g; run "
      "in %s\n",
      c.ens, r.ens_acc, r.samp_acc, r.det_acc, r.test_nll, r.kl, out.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace deep_weight_prior

int main(int argc, char** argv) {
  std::vector<std::string> list_flags = deep_weight_prior::kSharedListFlags;
  list_flags.push_back("--prior_list");
  return common::util::RunMainWithListFlags(
      argc, argv, list_flags,
      "Variational Bayesian fconv / cifarnet / cifarnetnew with the Deep Weight Prior or "
      "N(0,1) / log-uniform priors: loss (N/B) sum CE + sum KL; the log-uniform prior needs a "
      "mu-trunc-alpha config. Unlike the reference, --model=cifarnet works (and honours "
      "--logvarinit).",
      deep_weight_prior::Main);
}
