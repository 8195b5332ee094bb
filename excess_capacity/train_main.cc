// Trains a Lipschitz- and distance-constrained network (Graf et al., NeurIPS 2022).
//
//   ./bazelw run //excess_capacity:train -- --epochs=1 --arch=simple_convnet6 --n_channels=64 \
//       --lip 2.0 1.0 1.0 1.0 --dist 90 90 90 0
//   ./bazelw run //excess_capacity:train -- --dataset=cifar10
//   --data_dir=~/data/cifar-10-batches-bin \
//       --bs 256 --lip 2.0 0.8 1.4 1.0 --dist 90 90 90 0 --epochs 200
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/dist/process_group.h"
#include "common/train/run_dir.h"
#include "common/util/list_flag.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "excess_capacity/experiment.h"

namespace {
const excess_capacity::TrainConfig kDefaults;
}  // namespace

ABSL_FLAG(int64_t, bs, kDefaults.bs,
          "Training batch size: the global batch, split over the processes of a data-parallel "
          "run (torchrun / srun), so results do not depend on their number.");
ABSL_FLAG(std::string, lip, "-1,-1,-1,-1",
          "4 Lipschitz constraints (first conv, in-block convs, shortcut [ignored], classifier), "
          "comma- or space-separated; -1 = none. Applied to every --arch (the reference ignored "
          "them for the simple convnets).");
ABSL_FLAG(
    std::string, dist, "-1,-1,-1,-1",
    "4 (2,1)-distance-to-initialisation constraints, same order; -1 = none; a last value of 0 "
    "selects the fixed simplex classifier.");
ABSL_FLAG(int, n_proj, kDefaults.n_proj, "Dykstra sweeps per projection; 0 turns projection off.");
ABSL_FLAG(int, proj_freq, kDefaults.proj_freq,
          "Project every N optimizer steps and after each epoch's last step (any N >= 1; the "
          "reference crashed below 5 and skipped the last step).");
ABSL_FLAG(int64_t, epochs, kDefaults.epochs, "Epochs (exactly; the reference ran epochs + 1).");
ABSL_FLAG(double, lr, kDefaults.lr, "Learning rate.");
ABSL_FLAG(double, wd, kDefaults.wd, "Weight decay (sgd, lars, lamb).");
ABSL_FLAG(double, momentum, kDefaults.momentum, "Momentum (sgd, lars).");
ABSL_FLAG(std::string, optimizer, kDefaults.optimizer,
          "sgd, adam, lars or lamb (LARS/LAMB always apply their layer-wise trust ratio).");
ABSL_FLAG(std::string, arch, kDefaults.arch,
          "no_stride_preactresnet18, simple_convnet6 or simple_convnet11.");
ABSL_FLAG(int64_t, n_channels, kDefaults.n_channels, "Channels of the simple convnets.");
ABSL_FLAG(std::string, dataset, kDefaults.dataset,
          "fashion-mnist (default data; zero-padded to 32x32, 1 channel), cifar10, cifar100 "
          "(binary version) or tiny-imagenet-200 (the distributed JPEG layout; val = test), the "
          "last three with --data_dir.");
ABSL_FLAG(std::string, proj_mode, kDefaults.proj_mode, "orthogonal (exact projections) or radial.");
ABSL_FLAG(int64_t, limit_to, kDefaults.limit_to, "> 0: train on the first N images only.");
ABSL_FLAG(bool, rand, kDefaults.rand,
          "Random training labels (test labels are kept, unlike the reference).");
ABSL_FLAG(
    bool, bn, kDefaults.bn,
    "BatchNorm in the ResNet (a real boolean; the reference's --bn took any string as true).");
ABSL_FLAG(bool, save_model, kDefaults.save_model,
          "Also save weights_0.pt and weights_<epoch>.pt every 10 epochs.");
ABSL_FLAG(std::string, comment, "", "Free text, kept in config.json.");
ABSL_FLAG(bool, resume, false, "Continue the run in --out_dir from its checkpoint.pt.");

namespace excess_capacity {
namespace {

absl::StatusOr<TrainConfig> ConfigFromFlags(const common::util::Runtime& rt) {
  TrainConfig c;
  c.bs = absl::GetFlag(FLAGS_bs);
  ASSIGN_OR_RETURN(c.lip, common::util::ParseDoubleList("lip", absl::GetFlag(FLAGS_lip)));
  ASSIGN_OR_RETURN(c.dist, common::util::ParseDoubleList("dist", absl::GetFlag(FLAGS_dist)));
  c.n_proj = absl::GetFlag(FLAGS_n_proj);
  c.proj_freq = absl::GetFlag(FLAGS_proj_freq);
  c.epochs = absl::GetFlag(FLAGS_epochs);
  c.lr = absl::GetFlag(FLAGS_lr);
  c.wd = absl::GetFlag(FLAGS_wd);
  c.momentum = absl::GetFlag(FLAGS_momentum);
  c.optimizer = absl::GetFlag(FLAGS_optimizer);
  c.arch = absl::GetFlag(FLAGS_arch);
  c.n_channels = absl::GetFlag(FLAGS_n_channels);
  c.dataset = absl::GetFlag(FLAGS_dataset);
  c.proj_mode = absl::GetFlag(FLAGS_proj_mode);
  c.limit_to = absl::GetFlag(FLAGS_limit_to);
  c.rand = absl::GetFlag(FLAGS_rand);
  c.bn = absl::GetFlag(FLAGS_bn);
  c.save_model = absl::GetFlag(FLAGS_save_model);
  c.resume = absl::GetFlag(FLAGS_resume);
  c.seed = rt.seed;
  c.device = rt.device;
  c.out_dir = rt.ResolveOutDir(absl::StrCat("excess_capacity_", c.arch, "_", c.dataset));
  RETURN_IF_ERROR(Validate(c));
  RETURN_IF_ERROR(common::util::RequireDataDirUnlessDefault(c.dataset));
  return c;
}

absl::Status Main(const common::util::Runtime& rt) {
  ASSIGN_OR_RETURN(TrainConfig config, ConfigFromFlags(rt));
  ASSIGN_OR_RETURN(ImageData data, LoadImageData(config, rt.data_dir));
  ASSIGN_OR_RETURN(TrainResult r, Train(config, data, common::train::CommandLineFlagsJson()));
  ASSIGN_OR_RETURN(const common::dist::ProcessGroup* world, common::dist::World());
  if (!world->is_main()) return absl::OkStatus();  // rank 0 reports for a data-parallel job
  std::printf(
      "train acc %.4f, test acc %.4f (loss %.4f / %.4f), network Lipschitz bound %.4g, "
      "layers outside their constraints: %s; results in %s\n",
      r.train_accuracy, r.test_accuracy, r.train_loss, r.test_loss, r.lip,
      r.violations.empty() ? "none" : absl::StrJoin(r.violations, ",").c_str(),
      config.out_dir.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace excess_capacity

int main(int argc, char** argv) {
  // The reference takes `--lip 2.0 0.8 1.4 1.0` (argparse nargs=4); Abseil wants one value.
  return common::util::RunMainWithListFlags(
      argc, argv, {"--lip", "--dist"},
      "Trains a network whose layers keep Lipschitz constants and distances to initialisation "
      "within bounds (Graf et al., 'On Measuring Excess Capacity in Neural Networks', NeurIPS "
      "2022), projecting after every --proj_freq steps. Data-parallel over several processes or "
      "machines (Gloo; every rank projects the same weights, rank 0 writes the run): "
      "python3 -m torch.distributed.run --nproc_per_node=N --no_python <this binary> ... or "
      "srun -n N <this binary> ... (README: More than one process or machine).",
      excess_capacity::Main);
}
