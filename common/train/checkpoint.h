// Saving and restoring training state.
//
// - State dicts (parameter/buffer name -> tensor) as a pickled c10::Dict: Python reads them with
//   torch.load(path), and LoadTensorMap reads what Python's torch.save(model.state_dict()) writes,
//   in the zip format and in the legacy one of torch < 1.6 (torch_pickle.h).
// - Checkpoints (model, optimizer state, epochs/steps done, CPU RNG state), written atomically,
//   and RunEpochs, an epoch loop that checkpoints after every epoch and resumes a killed run so
//   that it ends with the same parameters as an uninterrupted one.
//
// Example:
//   RETURN_IF_ERROR(SaveStateDict(run.File("weights.pt"), *model));
//   ASSIGN_OR_RETURN(TrainProgress done, RunEpochs({epochs, run.checkpoint_path(), resume},
//                                                  *model, optimizer, train_one_epoch));
#ifndef COMMON_TRAIN_CHECKPOINT_H_
#define COMMON_TRAIN_CHECKPOINT_H_

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <functional>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/train/torch_pickle.h"  // TensorMap

namespace common::train {

// Parameters and buffers by their dotted names (as in PyTorch's state_dict), detached, on CPU.
TensorMap StateDict(const torch::nn::Module& module);

// Copies `state` into the module's parameters and buffers. Every key must match and every shape
// agree; the error names the key (e.g. "weight shape [3, 5] != [3, 4] in model.pt").
absl::Status LoadStateDictInto(const TensorMap& state, torch::nn::Module& module,
                               const std::string& source);

absl::Status SaveTensorMap(const std::string& path, const TensorMap& tensors);
absl::StatusOr<TensorMap> LoadTensorMap(const std::string& path);

absl::Status SaveStateDict(const std::string& path, const torch::nn::Module& module);
absl::Status LoadStateDict(const std::string& path, torch::nn::Module& module);

struct TrainProgress {
  int64_t epoch = 0;  // epochs completed
  int64_t step = 0;   // optimizer steps completed
  int64_t batch = 0;  // batches done of epoch `epoch` when a run stopped mid-epoch (interrupted)
};

// For the batch loop of a run_epoch callback of RunEpochs, before it: the batch it starts at,
// progress.batch (> 0 when resumed mid-epoch), which it resets to 0 for the epoch that runs.
int64_t StartBatch(TrainProgress& progress);

// For the batch loop of a run_epoch callback of RunEpochs, after each step: OK, or (after SIGINT /
// SIGTERM) progress.batch = batches_done and common::util::InterruptedError, on which RunEpochs
// writes a mid-epoch checkpoint; resumed, the callback starts at batch progress.batch of the
// epoch. A callback that never calls it stops at the end of its epoch.
absl::Status StopIfInterrupted(TrainProgress& progress, int64_t batches_done);
// Its two halves, for a callback with state to keep before it stops: whether to stop now (inside
// a data-parallel RunEpochs, whether any rank was interrupted: EpochLoopOptions::agree_interrupt),
// and the InterruptedError that records progress.batch = batches_done.
absl::StatusOr<bool> StopRequested();
absl::Status InterruptedAt(TrainProgress& progress, int64_t batches_done);

// A checkpoint holds the module, the optimizer, `progress`, the CPU RNG state and `extra`
// (state beside the model that a resumed run needs, e.g. the best validation accuracy so far),
// with a CRC-32 that LoadCheckpoint verifies: a corrupt file is DataLoss, never a silent load.
// Written atomically (temp file, fsync, rename).
absl::Status SaveCheckpoint(const std::string& path, const torch::nn::Module& module,
                            const torch::optim::Optimizer& optimizer, const TrainProgress& progress,
                            const TensorMap& extra = {});
// Restores module, optimizer and RNG state; fills `extra` (when given) with what was saved.
absl::StatusOr<TrainProgress> LoadCheckpoint(const std::string& path, torch::nn::Module& module,
                                             torch::optim::Optimizer& optimizer,
                                             TensorMap* extra = nullptr);

struct EpochLoopOptions {
  int64_t epochs = 1;
  std::string checkpoint_path;   // empty: no checkpoints
  bool resume = false;           // continue from checkpoint_path if it exists
  int64_t checkpoint_every = 1;  // epochs between checkpoints; the last epoch always gets one
  // State beside model and optimizer that a resumed run must continue from (best-so-far value,
  // counters): saved into every checkpoint, handed back on resume.
  std::function<TensorMap()> save_extra;
  std::function<absl::Status(const TensorMap&)> restore_extra;
  // False on the ranks other than 0 of a data-parallel job: they read checkpoint_path on resume
  // but never write it.
  bool write_checkpoints = true;
  // Called once after a resume's restore, before the first epoch runs (a data-parallel job
  // broadcasts rank 0's parameters here).
  std::function<absl::Status()> on_start;
  // Data-parallel: given this rank's signal (0: none), the signal some rank got (0: none), a
  // collective that every rank calls at the same points (each StopIfInterrupted / StopRequested
  // of the callback, the end of each epoch but the last), so that all ranks stop after the same
  // step however the signals reach them (common::dist::ProcessGroup::InterruptAgreement). Empty:
  // this process's signals alone.
  std::function<absl::StatusOr<int>(int signal)> agree_interrupt;
};

// Calls run_epoch(epoch, progress) for every epoch not yet done, saving a checkpoint after every
// `checkpoint_every`-th and the last (a killed run repeats the epochs since its last one). After
// SIGINT / SIGTERM it checkpoints and returns common::util::InterruptedError: mid-epoch when the
// callback stopped through StopIfInterrupted, else after the current epoch. With
// `resume` and an existing checkpoint, restores model, optimizer, progress and the CPU RNG first.
// Data order must be a function of (seed, epoch), as InMemoryDataset::EpochBatches is.
absl::StatusOr<TrainProgress> RunEpochs(
    const EpochLoopOptions& options, torch::nn::Module& module, torch::optim::Optimizer& optimizer,
    const std::function<absl::Status(int64_t epoch, TrainProgress& progress)>& run_epoch);

}  // namespace common::train

#endif  // COMMON_TRAIN_CHECKPOINT_H_
