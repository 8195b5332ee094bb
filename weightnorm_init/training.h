// The reference's train.py as a library call: data with a 90/10 train/validation split, a model
// built and initialised on one augmented training batch, SGD with the piecewise-constant LR
// schedules 0-5 and the quadratic per-iteration warmup, gradient accumulation, a best-validation
// checkpoint whose test accuracy is the result, and a NaN loss ending the run cleanly.
//
// Differences from the reference (see README): --resume restores the optimizer state (the
// reference saved the model's state dict as optimizer.pt, so momentum was lost); the warmup ramp
// is capped at the target LR (a fractional --warmup_epochs overshot it); BN runs once per block.
#ifndef WEIGHTNORM_INIT_TRAINING_H_
#define WEIGHTNORM_INIT_TRAINING_H_

#include <torch/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/data/dataset.h"
#include "weightnorm_init/models.h"

namespace weightnorm_init {

struct TrainConfig {
  std::string dataset = "fashion-mnist";  // | mnist | cifar10 | cifar100
  std::string nn = "mlp";                 // | cnn | resnet | wrn
  int64_t hidden_size = 128;              // same as reference
  int64_t num_layers = 2;                 // same as reference
  int64_t num_blocks = 2;                 // same as reference
  int64_t wrn_n = 6;                      // same as reference
  int64_t wrn_k = 2;                      // same as reference
  bool wrn_reduced_memory = false;
  bool weight_norm = false;
  bool batch_norm = false;
  std::string init = "orthogonal_proposed";  // same as reference
  std::string init_extra_param;              // "" | hanin
  bool backward_gain = false;                // g = sqrt(gamma) instead of the forward scheme
  int64_t epochs = 200;                      // same as reference (--num_epochs there)
  int64_t batch_size = 128;                  // same as reference
  int64_t mini_batch_size = 0;               // 0: batch_size (no accumulation)
  double lr = 0.01;                          // same as reference
  double momentum = 0;                       // same as reference
  double weight_decay = 0;                   // same as reference; on g, v, biases and BN
  int lr_annealing_type = 0;                 // same as reference: 0..5
  double warmup_epochs = 0;
  double warmup_lr = 0;
  bool cutout = false;            // CIFAR only: one 16-pixel hole
  double val_fraction = 0.1;      // same as reference
  int64_t limit_to = 0;           // > 0: the first N images of the training set only
  bool hessian = false;           // estimate the Hessian norm at init and stop
  int hessian_iters = 40;         // same as reference
  double hessian_fraction = 0.1;  // same as reference: share of the training batches
  bool resume = false;
  uint64_t seed = 1;
  torch::Device device = torch::kCPU;
  std::string out_dir;  // empty: no files
};

absl::Status Validate(const TrainConfig& config);

// Scaled images split into train / validation (from the official training set) / test.
struct WnData {
  common::data::InMemoryDataset train, valid, test;
  int64_t channels = 0, side = 0, classes = 0;
  bool augment = false;           // CIFAR: random crop (padding 4) + flip, cutout if asked
  std::vector<double> mean, std;  // the normalisation (for the crop padding value)
};

// MNIST-style data: x - 0.5 (the reference's Normalize(0.5, 1.0)); CIFAR-10/100: the reference's
// CIFAR-10 statistics for both. The split is int(val_fraction * n) validation images drawn with
// the seed.
absl::StatusOr<WnData> LoadWnData(const TrainConfig& config, const std::string& data_dir);

// The LR of epoch `epoch` (0-based) for --lr_annealing_type 0..5 over `epochs` epochs.
double ScheduledLr(int type, double lr, int64_t epoch, int64_t epochs);

ModelOptions ModelOptionsFor(const TrainConfig& config, const WnData& data);

struct TrainResult {
  int64_t epochs_done = 0, sgd_steps = 0, best_epoch = 0;  // best_epoch 0: the initial weights
  double best_val_acc = 0, test_acc = 0;
  bool diverged = false;    // a NaN loss ended training
  double hessian_norm = 0;  // --hessian: the last power-iteration estimate
  std::vector<double> hessian_trace;
};

absl::StatusOr<TrainResult> Train(const TrainConfig& config, const WnData& data,
                                  const nlohmann::json& flags_json);

}  // namespace weightnorm_init

#endif  // WEIGHTNORM_INIT_TRAINING_H_
