// Trains the Bayesian fconv with one prior per conv layer (the reference's train-bnn.py).
//
//   ./bazelw run //deep_weight_prior:train_bnn -- --num_examples 50 --data_split_seed 0 \
//       --prior_list vae vae --init_list vae vae --vae_list runs/dwp/vae7x7 runs/dwp/vae5x5 \
//       --hid_dim 32 128 --epochs 10000
#include <cstdio>

#include "absl/flags/flag.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "deep_weight_prior/cli_common.h"
#include "deep_weight_prior/experiments.h"

namespace {
const deep_weight_prior::BnnConfig kDefaults;
}  // namespace

ABSL_FLAG(int64_t, num_examples, 0, "Stratified few-shot training subset (0: all).");
ABSL_FLAG(uint64_t, data_split_seed, 42, "Seed of the few-shot subset.");
ABSL_FLAG(std::string, classes, "0,1,2,3,4,5,6,7,8,9", "Classes used (renumbered from 0), e.g. 5,6,7,8,9.");
ABSL_FLAG(double, lr, kDefaults.lr, "Adam learning rate (linear per-epoch decay, --decrease_from).");
ABSL_FLAG(int64_t, epochs, kDefaults.epochs, "Epochs.");
ABSL_FLAG(int64_t, decrease_from, kDefaults.decrease_from, "Epoch where the linear LR decay starts.");
ABSL_FLAG(int64_t, bs, kDefaults.bs, "Batch size.");
ABSL_FLAG(std::string, net_cfg, "bayes", "bayes, bayes-1-0 or bayes-mtrunca (needed by loguniform).");
ABSL_FLAG(std::string, hid_dim, "32 64", "Channels of conv1 and conv2.");
ABSL_FLAG(std::string, prior_list, "", "Per conv: vae (the DWP), sn, loguniform or no (default sn).");
ABSL_FLAG(std::string, init_list, "", "Per conv: xavier (default), vae or filters.");
ABSL_FLAG(std::string, vae_list, "", "Per conv: a kernel VAE directory (vae.json or params.yaml + vae_params.pt).");
ABSL_FLAG(std::string, filters_list, "", "Per conv: source kernels (.npy [N, 1, K, K]) for --init_list filters.");
ABSL_FLAG(int, ens, kDefaults.ens, "Samples of the test ensemble (mean of probabilities).");
ABSL_FLAG(double, logvarinit, -10, "Initial log sigma^2 of every weight.");
ABSL_FLAG(int, dwp_samples, kDefaults.dwp_samples, "Weight samples S of the DWP KL estimate.");

namespace deep_weight_prior {
namespace {

absl::Status Main(const common::util::Runtime& rt) {
  BnnConfig c;
  ASSIGN_OR_RETURN(auto hid, ParseHidDim(absl::GetFlag(FLAGS_hid_dim)));
  c.net.c1 = hid.first, c.net.c2 = hid.second, c.net.net_cfg = absl::GetFlag(FLAGS_net_cfg);
  c.net.logvar_init = absl::GetFlag(FLAGS_logvarinit);
  c.prior_list = SplitList(absl::GetFlag(FLAGS_prior_list));
  c.epochs = absl::GetFlag(FLAGS_epochs), c.bs = absl::GetFlag(FLAGS_bs), c.lr = absl::GetFlag(FLAGS_lr);
  c.decrease_from = absl::GetFlag(FLAGS_decrease_from), c.ens = absl::GetFlag(FLAGS_ens);
  c.dwp_samples = absl::GetFlag(FLAGS_dwp_samples), c.seed = rt.seed;
  std::vector<int64_t> classes;
  for (const std::string& s : SplitList(absl::GetFlag(FLAGS_classes))) classes.push_back(std::stoll(s));
  ASSIGN_OR_RETURN(Domain domain, LoadDomain(rt.data_dir, classes));
  c.net.classes = domain.classes;
  ASSIGN_OR_RETURN(KernelInit init, LoadKernelInit(absl::GetFlag(FLAGS_init_list), absl::GetFlag(FLAGS_vae_list),
                                                   absl::GetFlag(FLAGS_filters_list)));
  ASSIGN_OR_RETURN(auto train, FewShot(domain.train, absl::GetFlag(FLAGS_num_examples), absl::GetFlag(FLAGS_data_split_seed)));
  ASSIGN_OR_RETURN(BnnResult r, TrainBnn(c, init, train, domain.test));
  std::printf("ens[%d]_test_acc %.4f  samp_test_acc %.4f  det_test_acc %.4f  test_nll %.4f  kl %.6g\n", c.ens,
              r.ens_acc, r.samp_acc, r.det_acc, r.test_nll, r.kl);
  return absl::OkStatus();
}

}  // namespace
}  // namespace deep_weight_prior

int main(int argc, char** argv) {
  std::vector<std::string> storage;
  std::vector<char*> args = deep_weight_prior::JoinListFlags(
      argc, argv, {"--hid_dim", "--prior_list", "--init_list", "--vae_list", "--filters_list"}, storage);
  return common::util::RunMain(static_cast<int>(args.size()), args.data(),
                               "Variational Bayesian fconv with the Deep Weight Prior or N(0,1) / log-uniform "
                               "priors: loss (N/B) sum CE + sum KL; the log-uniform prior needs bayes-mtrunca.",
                               deep_weight_prior::Main);
}
