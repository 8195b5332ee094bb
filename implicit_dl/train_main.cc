// Trains an implicit model on images (the reference's MNIST / CIFAR examples).
//
//   ./bazelw run //implicit_dl:train -- --epochs=1                  # Fashion-MNIST, n=100
//   ./bazelw run //implicit_dl:train -- --dataset=cifar10 --data_dir=~/data/cifar-10-batches-bin
#include "absl/flags/flag.h"
#include "common/dist/process_group.h"
#include "common/train/run_dir.h"
#include "common/util/list_flag.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "implicit_dl/experiment.h"

namespace {
const implicit_dl::TrainConfig kDefaults;
}  // namespace

ABSL_FLAG(std::string, dataset, kDefaults.dataset,
          "fashion-mnist (default data), mnist or cifar10 (these two need --data_dir).");
ABSL_FLAG(std::string, model, kDefaults.model,
          "implicit, or ffnn: the feed-forward baseline p-h_1-...-h_k-q of --ffnn_hidden, trained "
          "by the same loop (as the implicit model of the MLP whose structural zeros stay zero).");
ABSL_FLAG(std::string, ffnn_hidden, "60,40",
          "--model=ffnn: hidden widths (the reference's comparison FFNN is 784-60-40-10).");
ABSL_FLAG(int64_t, n, kDefaults.n, "Hidden state size; 0: 100 for MNIST-like data, 300 for CIFAR.");
ABSL_FLAG(int64_t, epochs, kDefaults.epochs, "Training epochs.");
ABSL_FLAG(int64_t, bs, kDefaults.bs,
          "Training batch size: the global batch, split over the processes of a data-parallel "
          "run (torchrun / srun), so results do not depend on their number.");
ABSL_FLAG(double, lr, kDefaults.lr,
          "Adam learning rate; 0: 5e-3 for MNIST-like data, 5e-4 for CIFAR.");
ABSL_FLAG(int64_t, valid_bs, kDefaults.valid_bs, "Validation batch size (the test split).");
ABSL_FLAG(int64_t, eval_every, kDefaults.eval_every,
          "Validate every N optimizer steps and after each epoch. The reference validates after "
          "every step (--eval_every=1).");
ABSL_FLAG(std::string, variant, "inf",
          "Well-posedness: inf (rows of A projected onto the L1 ball of radius 0.95 before every "
          "forward, the reference), inf_scale (A scaled to ||A||_inf <= 0.99, torchidl), triu "
          "(strictly upper-triangular A) or none.");
ABSL_FLAG(std::string, activation, "relu", "relu, silu, tanh or leaky_relu.");
ABSL_FLAG(std::string, solver, "picard", "picard (the reference) or anderson.");
ABSL_FLAG(int64_t, mitr, kDefaults.solver.mitr, "Forward iteration cap.");
ABSL_FLAG(double, tol, kDefaults.solver.tol,
          "Forward tolerance on max |X_new - X| over the batch.");
ABSL_FLAG(int64_t, grad_mitr, kDefaults.solver.grad_mitr, "Backward (adjoint) iteration cap.");
ABSL_FLAG(double, grad_tol, kDefaults.solver.grad_tol, "Backward tolerance.");
ABSL_FLAG(bool, bias, kDefaults.bias, "Append a constant-1 input (bias columns in B and D).");
ABSL_FLAG(bool, resume, false, "Continue the run in --out_dir from its checkpoint.pt.");

namespace implicit_dl {
namespace {

absl::StatusOr<TrainConfig> ConfigFromFlags(const common::util::Runtime& rt) {
  TrainConfig c;
  c.dataset = absl::GetFlag(FLAGS_dataset);
  c.model = absl::GetFlag(FLAGS_model);
  ASSIGN_OR_RETURN(c.ffnn_hidden,
                   common::util::ParseIntList("--ffnn_hidden", absl::GetFlag(FLAGS_ffnn_hidden)));
  c.n = absl::GetFlag(FLAGS_n);
  c.epochs = absl::GetFlag(FLAGS_epochs);
  c.bs = absl::GetFlag(FLAGS_bs);
  c.lr = absl::GetFlag(FLAGS_lr);
  c.valid_bs = absl::GetFlag(FLAGS_valid_bs);
  c.eval_every = absl::GetFlag(FLAGS_eval_every);
  ASSIGN_OR_RETURN(c.variant, ParseWellPosedness(absl::GetFlag(FLAGS_variant)));
  ASSIGN_OR_RETURN(c.activation, ParseActivation(absl::GetFlag(FLAGS_activation)));
  ASSIGN_OR_RETURN(c.solver.solver, ParseSolver(absl::GetFlag(FLAGS_solver)));
  c.solver.mitr = absl::GetFlag(FLAGS_mitr);
  c.solver.tol = absl::GetFlag(FLAGS_tol);
  c.solver.grad_mitr = absl::GetFlag(FLAGS_grad_mitr);
  c.solver.grad_tol = absl::GetFlag(FLAGS_grad_tol);
  c.bias = absl::GetFlag(FLAGS_bias);
  c.resume = absl::GetFlag(FLAGS_resume);
  c.seed = rt.seed;
  c.device = rt.device;
  c.out_dir = rt.ResolveOutDir("implicit_dl_" + c.dataset);
  c = WithDatasetDefaults(c);
  RETURN_IF_ERROR(Validate(c));
  RETURN_IF_ERROR(common::util::RequireDataDirUnlessDefault(c.dataset));
  return c;
}

absl::Status Main(const common::util::Runtime& rt) {
  ASSIGN_OR_RETURN(TrainConfig config, ConfigFromFlags(rt));
  ASSIGN_OR_RETURN(ClassificationData data, LoadClassificationData(config.dataset, rt.data_dir));
  ASSIGN_OR_RETURN(TrainResult r, Train(config, data, common::train::CommandLineFlagsJson()));
  ASSIGN_OR_RETURN(const common::dist::ProcessGroup* world, common::dist::World());
  if (!world->is_main()) return absl::OkStatus();  // rank 0 reports for a data-parallel job
  std::printf(
      "%s (%lld parameters): test accuracy %.4f (loss %.4f), best valid accuracy %.4f, %lld "
      "steps, %lld non-converged solves, max ||A||_inf used %.4f; results in %s\n",
      config.model.c_str(), static_cast<long long>(r.parameters), r.test_accuracy, r.test_loss,
      r.best_valid_accuracy, static_cast<long long>(r.steps),
      static_cast<long long>(r.not_converged), r.max_infinity_norm_A, config.out_dir.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace implicit_dl

int main(int argc, char** argv) {
  return common::util::RunMain(
      argc, argv,
      "Trains an implicit model x = phi(A x + B u), y = C x + D u (El Ghaoui et al. 2021) on "
      "Fashion-MNIST, MNIST or CIFAR-10 with Adam, as the reference examples. Data-parallel "
      "over several processes or machines (Gloo; each rank solves its share of the batch, rank "
      "0 writes the run): python3 -m torch.distributed.run --nproc_per_node=N --no_python <this "
      "binary> ... or srun -n N <this binary> ... (README: More than one process or machine).",
      implicit_dl::Main);
}
