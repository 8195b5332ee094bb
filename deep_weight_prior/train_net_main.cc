// Trains a deterministic fconv, CIFARNet or CIFARNetNew (the reference's train-net.py): the source
// nets of the kernel dataset (--l2 0.001 --hid_dim 256 512), the initialisation / convergence
// experiments
// (--init_list vae|xavier|filters with --fastconv), random feature extraction (--rfe).
//
//   ./bazelw run //deep_weight_prior:train_net -- --classes 0,1,2,3,4 --hid_dim 64 128 --l2 0.001 \
//       --epochs 5 --out_dir=runs/source_net_1 --seed=1
#include <cstdio>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/dist/process_group.h"
#include "common/dist/run_dir.h"
#include "common/train/checkpoint.h"
#include "common/train/run_dir.h"
#include "common/util/list_flag.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "deep_weight_prior/cli_common.h"
#include "deep_weight_prior/experiments.h"

// Also --num_examples --data_split_seed --classes --lr --epochs --decrease_from --bs --hid_dim
// --init_list --vae_list --filters_list (cli_common.cc).
ABSL_FLAG(
    std::string, net_cfg, "vanilla",
    "fconv: vanilla or vanilla-do (with --do_rates); cifarnet: vanilla; cifarnetnew: vanilla, "
    "vanilla-nofc or vanilla-do.");
ABSL_FLAG(double, dwp_reg, 0.0,
          "Coefficient of the DWP regulariser: the summed -ELBO of each conv's kernels under its "
          "--vae_list VAE (frozen), added to the loss (the reference's --dwp_reg, which it offers "
          "for cifarnetnew only; here any model).");
ABSL_FLAG(bool, aug, false, "CIFAR models: reflect-pad 4, random 32x32 crop, horizontal flip.");
ABSL_FLAG(std::string, do_rates, "", "Two dropout rates for vanilla-do (the reference's --do).");
ABSL_FLAG(double, l2, 0.0, "Coefficient of the sum of squares of the conv weights and biases.");
namespace {
const deep_weight_prior::NetConfig kNetDefaults;
}  // namespace
ABSL_FLAG(int64_t, eval_freq, kNetDefaults.eval_freq,
          "Evaluate (a metrics.csv row) after epoch 1 and every this many epochs (with --fastconv: "
          "steps); 0: never.");
ABSL_FLAG(bool, fastconv, kNetDefaults.fastconv,
          "Count --eval_freq in steps (the convergence curves).");
ABSL_FLAG(bool, resume, false,
          "Continue the run in --out_dir from its checkpoint.pt (saved after every epoch).");
ABSL_FLAG(bool, rfe, false,
          "Random feature extraction: train the classifier only (and CIFARNet's BatchNorms).");

namespace deep_weight_prior {
namespace {

absl::Status Main(const common::util::Runtime& rt) {
  ASSIGN_OR_RETURN(SharedRun shared, LoadSharedRun(rt.data_dir));
  NetConfig c;
  shared.SetNet(c.net);
  c.net.net_cfg = absl::GetFlag(FLAGS_net_cfg);
  c.aug = absl::GetFlag(FLAGS_aug);
  c.dwp_reg = absl::GetFlag(FLAGS_dwp_reg);
  ASSIGN_OR_RETURN(c.net.dropout,
                   common::util::ParseDoubleList("do_rates", absl::GetFlag(FLAGS_do_rates)));
  c.lr = shared.lr, c.epochs = shared.epochs, c.bs = shared.bs,
  c.decrease_from = shared.decrease_from;
  c.l2 = absl::GetFlag(FLAGS_l2), c.rfe = absl::GetFlag(FLAGS_rfe);
  c.eval_freq = absl::GetFlag(FLAGS_eval_freq), c.fastconv = absl::GetFlag(FLAGS_fastconv);
  c.seed = rt.seed, c.resume = absl::GetFlag(FLAGS_resume);
  if (c.net.net_cfg.rfind("bayes", 0) == 0)
    return absl::InvalidArgumentError("train_net trains vanilla nets; use train_bnn");
  const std::string out = rt.ResolveOutDir("deep_weight_prior_net");
  // Data-parallel (torchrun / srun): rank 0 alone writes the run directory.
  ASSIGN_OR_RETURN(common::dist::ProcessGroup * world, common::dist::World());
  const nlohmann::json flags = common::train::CommandLineFlagsJson();
  ASSIGN_OR_RETURN(std::optional<common::train::RunDir> run,
                   common::dist::OpenRunDirOnRankZero(*world, out, flags, c.resume));
  c.checkpoint_path = out + "/checkpoint.pt";  // every rank reads it on --resume
  std::optional<common::train::ResumableMetrics> metrics;
  if (run) metrics.emplace(*run, c.fastconv ? "step" : "epoch", c.resume);
  auto log_eval = [&](const NetEval& e) -> absl::Status {
    if (!metrics) return absl::OkStatus();
    return metrics->Append(static_cast<double>(c.fastconv ? e.step : e.epoch),
                           {{"loss", e.loss},
                            {"train_nll", e.train_nll},
                            {"test_nll", e.test_nll},
                            {"train_acc", e.train_acc},
                            {"test_acc", e.test_acc},
                            {"lr", e.lr},
                            {"l2_norm", e.l2_norm},
                            {"dwp_reg", e.dwp_reg}});
  };
  ASSIGN_OR_RETURN(NetResult r,
                   TrainNet(c, shared.init, shared.train, shared.domain.test, log_eval));
  if (!run) return absl::OkStatus();
  RETURN_IF_ERROR(common::train::SaveStateDict(run->File("model.pt"), *r.net));
  RETURN_IF_ERROR(run->WriteSummary({{"test_acc", r.test_acc}, {"dwp_reg", r.dwp_reg}}));
  std::printf("test acc %.4f; model.pt in %s\n", r.test_acc, out.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace deep_weight_prior

int main(int argc, char** argv) {
  std::vector<std::string> list_flags = deep_weight_prior::kSharedListFlags;
  list_flags.push_back("--do_rates");
  return common::util::RunMainWithListFlags(
      argc, argv, list_flags,
      "Trains a deterministic fconv / cifarnet / cifarnetnew (source nets, init/convergence "
      "experiments, random feature extraction) for the Deep Weight Prior. Data-parallel over "
      "several processes or machines (Gloo; --bs is the global batch, each rank augments the "
      "whole batch and trains on its rows, rank 0 writes the run; dropout masks differ from one "
      "process's): python3 -m torch.distributed.run --nproc_per_node=N --no_python <this binary> "
      "... or srun -n N <this binary> ... (README: More than one process or machine).",
      deep_weight_prior::Main);
}
