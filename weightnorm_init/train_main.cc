// Trains a (weight-normalised) MLP, CNN, ResNet or Wide-ResNet with the reference's CLI
// (Arpit, Campos & Bengio, NeurIPS 2019; train.py).
//
//   ./bazelw run //weightnorm_init:train -- --nn=mlp --num_layers=20 --weight_norm --epochs=1
//   ./bazelw run //weightnorm_init:train -- --dataset=cifar10
//   --data_dir=~/data/cifar-10-batches-bin \
//       --nn=resnet --hidden_size=16 --num_blocks=9 --weight_norm --lr=0.1 --momentum=0.9 \
//       --weight_decay=5e-4 --lr_annealing_type=4 --epochs=200 --warmup_epochs=5
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/dist/process_group.h"
#include "common/train/run_dir.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "weightnorm_init/training.h"

namespace {
const weightnorm_init::TrainConfig kDefaults;
}  // namespace

ABSL_FLAG(std::string, dataset, kDefaults.dataset,
          "fashion-mnist (the default data), mnist, cifar10 or cifar100 (binary versions; the last "
          "three with --data_dir). MNIST-style data is scaled to [-0.5, 0.5]; CIFAR gets random "
          "crops and flips.");
ABSL_FLAG(std::string, nn, kDefaults.nn,
          "mlp, cnn, resnet (depth 6 num_blocks + 2) or wrn (depth 6 wrn_n + 4).");
ABSL_FLAG(int64_t, hidden_size, kDefaults.hidden_size,
          "MLP units, CNN channels, ResNet base width.");
ABSL_FLAG(int64_t, num_layers, kDefaults.num_layers, "Hidden layers of the MLP / CNN.");
ABSL_FLAG(int64_t, num_blocks, kDefaults.num_blocks,
          "ResNet blocks per stage (ResNet-56: 9, ResNet-110: 18).");
ABSL_FLAG(int64_t, wrn_n, kDefaults.wrn_n, "WRN blocks per stage.");
ABSL_FLAG(int64_t, wrn_k, kDefaults.wrn_k, "WRN widening factor.");
ABSL_FLAG(bool, wrn_reduced_memory, kDefaults.wrn_reduced_memory, "Stride 2 in the WRN stem.");
ABSL_FLAG(bool, weight_norm, kDefaults.weight_norm,
          "Weight-normalise every layer but the classifier.");
ABSL_FLAG(
    bool, batch_norm, kDefaults.batch_norm,
    "BatchNorm in resnet / wrn (bn1 runs once per block; the reference ran it twice in blocks "
    "with a projection shortcut, updating its running statistics twice).");
ABSL_FLAG(std::string, init, kDefaults.init,
          "he, orthogonal, he_datadep, orthogonal_datadep, he_proposed or orthogonal_proposed "
          "(the paper's init; *_proposed and *_datadep need --weight_norm).");
ABSL_FLAG(std::string, init_extra_param, kDefaults.init_extra_param,
          "hanin: residual-branch gamma 0.9^(2b) (stage-wise Hanin baseline, with *_proposed).");
ABSL_FLAG(bool, backward_gain, kDefaults.backward_gain,
          "With *_proposed: the backward-pass gain g = sqrt(gamma) instead of sqrt(gamma fan_in / "
          "fan_out).");
ABSL_FLAG(double, lr, kDefaults.lr, "SGD learning rate.");
ABSL_FLAG(double, momentum, kDefaults.momentum, "SGD momentum (reference default 0).");
ABSL_FLAG(double, weight_decay, kDefaults.weight_decay,
          "L2 on every parameter (g, v, biases, BN).");
ABSL_FLAG(int64_t, batch_size, kDefaults.batch_size,
          "Effective batch size (the global batch of a data-parallel run: its mini-batches are "
          "split over the processes).");
ABSL_FLAG(
    int64_t, mini_batch_size, kDefaults.mini_batch_size,
    "Gradient accumulation: mini-batches of this size, one step per batch_size (0: batch_size).");
ABSL_FLAG(int64_t, epochs, kDefaults.epochs, "Epochs (the reference's --num_epochs).");
ABSL_FLAG(
    int, lr_annealing_type, kDefaults.lr_annealing_type,
    "0 constant; 1 x0.1 at E/3 and 2E/3; 2 at E/2 and 3E/4; 3 x0.2 at 0.3E, 0.6E, 0.8E (WRN); "
    "4 and 5 x0.1 at epochs 91 and 136 (He et al.).");
ABSL_FLAG(double, warmup_epochs, kDefaults.warmup_epochs,
          "Quadratic per-iteration LR ramp from --warmup_lr over this many epochs, capped at the "
          "scheduled LR (the reference overshot it for fractional values).");
ABSL_FLAG(double, warmup_lr, kDefaults.warmup_lr, "LR at the start of the warmup.");
ABSL_FLAG(bool, cutout, kDefaults.cutout, "CIFAR: one 16x16 cutout hole per image.");
ABSL_FLAG(double, val_fraction, kDefaults.val_fraction,
          "Share of the training set held out for validation.");
ABSL_FLAG(int64_t, limit_to, kDefaults.limit_to,
          "> 0: train (and validate) on the first N training images only.");
ABSL_FLAG(bool, hessian, kDefaults.hessian,
          "Estimate the Hessian's largest-magnitude eigenvalue at init (power iteration on "
          "Hessian-vector products), write hessian.json and stop.");
ABSL_FLAG(int, hessian_iters, kDefaults.hessian_iters, "Power iterations of --hessian.");
ABSL_FLAG(double, hessian_fraction, kDefaults.hessian_fraction,
          "Share of the training batches --hessian averages over.");
ABSL_FLAG(bool, resume, false,
          "Continue the run in --out_dir from its checkpoint (model, optimizer, best model).");

namespace weightnorm_init {
namespace {

absl::StatusOr<TrainConfig> ConfigFromFlags(const common::util::Runtime& rt) {
  TrainConfig c;
  c.dataset = absl::GetFlag(FLAGS_dataset);
  c.nn = absl::GetFlag(FLAGS_nn);
  c.hidden_size = absl::GetFlag(FLAGS_hidden_size);
  c.num_layers = absl::GetFlag(FLAGS_num_layers);
  c.num_blocks = absl::GetFlag(FLAGS_num_blocks);
  c.wrn_n = absl::GetFlag(FLAGS_wrn_n);
  c.wrn_k = absl::GetFlag(FLAGS_wrn_k);
  c.wrn_reduced_memory = absl::GetFlag(FLAGS_wrn_reduced_memory);
  c.weight_norm = absl::GetFlag(FLAGS_weight_norm);
  c.batch_norm = absl::GetFlag(FLAGS_batch_norm);
  c.init = absl::GetFlag(FLAGS_init);
  c.init_extra_param = absl::GetFlag(FLAGS_init_extra_param);
  c.backward_gain = absl::GetFlag(FLAGS_backward_gain);
  c.lr = absl::GetFlag(FLAGS_lr);
  c.momentum = absl::GetFlag(FLAGS_momentum);
  c.weight_decay = absl::GetFlag(FLAGS_weight_decay);
  c.batch_size = absl::GetFlag(FLAGS_batch_size);
  c.mini_batch_size = absl::GetFlag(FLAGS_mini_batch_size);
  c.epochs = absl::GetFlag(FLAGS_epochs);
  c.lr_annealing_type = absl::GetFlag(FLAGS_lr_annealing_type);
  c.warmup_epochs = absl::GetFlag(FLAGS_warmup_epochs);
  c.warmup_lr = absl::GetFlag(FLAGS_warmup_lr);
  c.cutout = absl::GetFlag(FLAGS_cutout);
  c.val_fraction = absl::GetFlag(FLAGS_val_fraction);
  c.limit_to = absl::GetFlag(FLAGS_limit_to);
  c.hessian = absl::GetFlag(FLAGS_hessian);
  c.hessian_iters = absl::GetFlag(FLAGS_hessian_iters);
  c.hessian_fraction = absl::GetFlag(FLAGS_hessian_fraction);
  c.resume = absl::GetFlag(FLAGS_resume);
  c.seed = rt.seed;
  c.device = rt.device;
  c.out_dir = rt.ResolveOutDir(absl::StrCat("weightnorm_init_", c.nn, "_", c.dataset));
  RETURN_IF_ERROR(Validate(c));
  RETURN_IF_ERROR(common::util::RequireDataDirUnlessDefault(c.dataset));
  return c;
}

absl::Status Main(const common::util::Runtime& rt) {
  ASSIGN_OR_RETURN(TrainConfig config, ConfigFromFlags(rt));
  ASSIGN_OR_RETURN(WnData data, LoadWnData(config, rt.data_dir));
  ASSIGN_OR_RETURN(TrainResult r, Train(config, data, common::train::CommandLineFlagsJson()));
  ASSIGN_OR_RETURN(const common::dist::ProcessGroup* world, common::dist::World());
  if (!world->is_main()) return absl::OkStatus();  // rank 0 reports for a data-parallel job
  if (config.hessian) {
    std::printf("Hessian largest-magnitude eigenvalue at init: %.6g (log|.| %.4f); results in %s\n",
                r.hessian_norm, std::log(std::abs(r.hessian_norm)), config.out_dir.c_str());
    return absl::OkStatus();
  }
  std::printf(
      "%s after %lld epochs: best val acc %.4f (epoch %lld), test acc of that model %.4f; "
      "results in %s\n",
      r.diverged ? "diverged (NaN loss)" : "done", static_cast<long long>(r.epochs_done),
      r.best_val_acc, static_cast<long long>(r.best_epoch), r.test_acc, config.out_dir.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace weightnorm_init

int main(int argc, char** argv) {
  return common::util::RunMain(
      argc, argv,
      "Trains a network with weight norm and the initialisation of Arpit, Campos & Bengio, 'How to "
      "Initialize your Network? Robust Initialization for WeightNorm & ResNets' (NeurIPS 2019): "
      "90/10 train/validation split, best-validation checkpoint, its test accuracy. "
      "Data-parallel over several processes or machines (Gloo; each rank augments the whole "
      "mini-batch and trains on its rows, rank 0 writes the run): python3 -m "
      "torch.distributed.run --nproc_per_node=N --no_python <this binary> ... or srun -n N <this "
      "binary> ... (README: More than one process or machine).",
      weightnorm_init::Main);
}
