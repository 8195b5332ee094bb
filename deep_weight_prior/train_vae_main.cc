// Trains a kernel VAE on a kernel dataset (the reference's train-vae.py).
//
//   ./bazelw run //deep_weight_prior:train_vae -- --data_dir=runs/dwp/kernels/conv7x7 \
//       --kernel_dim 7 --z_dim 2 --hidden_dim 32 --num_epochs 300 --out_dir=runs/dwp/vae7x7
//
// --out_dir gets the VAE (vae.json, vae_params.pt: what --vae_list reads) and the run
// (config.json, metrics.csv with the per-kernel train and test -ELBO of every epoch,
// summary.json, checkpoint.pt after every epoch for --resume).
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "common/train/run_dir.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "deep_weight_prior/experiments.h"
#include "deep_weight_prior/kernel_dataset.h"
#include "glog/logging.h"

ABSL_FLAG(int64_t, kernel_dim, 7, "Kernel size of the data: 3, 5 or 7 (checked against it).");
ABSL_FLAG(int64_t, z_dim, 2, "Latent dimension.");
ABSL_FLAG(int64_t, hidden_dim, 32, "Hidden channels.");
ABSL_FLAG(int64_t, num_epochs, 300, "Epochs.");
ABSL_FLAG(int64_t, batch_size, 128, "Batch size.");
ABSL_FLAG(double, lr, 1e-3, "Adam learning rate (constant; see README).");
ABSL_FLAG(std::string, var, "train", "Decoder variance: 'train' (learned) or a positive constant.");
ABSL_FLAG(bool, resume, false, "Continue the run in --out_dir from its checkpoint.pt.");

namespace deep_weight_prior {
namespace {

absl::Status Main(const common::util::Runtime& rt) {
  if (absl::GetFlag(FLAGS_data_dir).empty())
    return absl::InvalidArgumentError("--data_dir must hold train.npy and test.npy");
  VaeConfig c;
  c.vae = KernelVaeOptions(absl::GetFlag(FLAGS_kernel_dim), absl::GetFlag(FLAGS_z_dim),
                           absl::GetFlag(FLAGS_hidden_dim));
  const std::string var = absl::GetFlag(FLAGS_var);
  if (var != "train") {
    double v = 0;
    if (!absl::SimpleAtod(var, &v) || v <= 0)
      return absl::InvalidArgumentError("--var must be 'train' or a positive number");
    c.vae.fixed_var(v);
  }
  c.epochs = absl::GetFlag(FLAGS_num_epochs), c.bs = absl::GetFlag(FLAGS_batch_size),
  c.lr = absl::GetFlag(FLAGS_lr);
  c.seed = rt.seed;
  ASSIGN_OR_RETURN(KernelSplit data, LoadKernelSplit(rt.data_dir));
  const std::string out = rt.ResolveOutDir("deep_weight_prior_vae");
  c.resume = absl::GetFlag(FLAGS_resume);
  ASSIGN_OR_RETURN(
      common::train::RunDir dir,
      common::train::RunDir::Open(out, common::train::CommandLineFlagsJson(), c.resume));
  c.checkpoint_path = dir.checkpoint_path();
  common::train::ResumableMetrics metrics(dir, "epoch", c.resume);
  auto log_epoch = [&](const VaeEpoch& e) -> absl::Status {
    LOG_EVERY_N(INFO, 10) << "epoch " << e.epoch << ": -ELBO per kernel train " << e.train_loss
                          << ", test " << e.test_loss;
    return metrics.Append(static_cast<double>(e.epoch), {{"train_loss", e.train_loss},
                                                         {"test_loss", e.test_loss},
                                                         {"test_nll", e.test_nll},
                                                         {"test_kl", e.test_kl}});
  };
  ASSIGN_OR_RETURN(VaeResult r, TrainVae(c, data, log_epoch));
  RETURN_IF_ERROR(SaveVae(out, r.vae));
  RETURN_IF_ERROR(dir.WriteSummary({{"train_loss_per_kernel", r.train_loss_per_kernel},
                                    {"test_loss_per_kernel", r.test_loss_per_kernel}}));
  std::printf("-ELBO per kernel: train %.4f, test %.4f; VAE in %s\n", r.train_loss_per_kernel,
              r.test_loss_per_kernel, out.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace deep_weight_prior

int main(int argc, char** argv) {
  return common::util::RunMain(
      argc, argv, "Trains a kernel VAE (the Deep Weight Prior's p(w)) on train.npy / test.npy.",
      deep_weight_prior::Main);
}
