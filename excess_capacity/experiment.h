// The training experiment of the reference's train.py as a library call: a constrained network
// trained with cross-entropy, projected onto its constraints every proj_freq steps (Dykstra,
// n_proj sweeps) and once more at the end, with per-epoch logs of accuracy, loss, their gaps,
// per-layer Lipschitz constants and distances, and the margins at the end.
#ifndef EXCESS_CAPACITY_EXPERIMENT_H_
#define EXCESS_CAPACITY_EXPERIMENT_H_

#include <torch/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/data/dataset.h"

namespace excess_capacity {

struct TrainConfig {
  int64_t bs = 256;                               // same as reference
  std::vector<double> lip = {-1, -1, -1, -1};     // same as reference: -1 = none
  std::vector<double> dist = {-1, -1, -1, -1};    // same as reference; dist[3] = 0: simplex
  int n_proj = 1;                                 // same as reference: Dykstra sweeps
  int proj_freq = 15;                             // same as reference
  int64_t epochs = 100;                           // runs exactly this many (reference: +1)
  double lr = 0.003;                              // same as reference
  double wd = 1e-4;                               // same as reference (SGD, LARS, LAMB)
  double momentum = 0.9;                          // same as reference (SGD, LARS)
  std::string optimizer = "sgd";                  // sgd | adam | lars | lamb
  std::string arch = "no_stride_preactresnet18";  // | simple_convnet6 | simple_convnet11
  int64_t n_channels = 512;                       // simple_convnet only
  std::string dataset = "fashion-mnist";          // | cifar10 | cifar100 | tiny-imagenet-200
  std::string proj_mode = "orthogonal";           // | radial
  int64_t limit_to = -1;                          // > 0: the first N training images
  bool rand = false;                              // random training labels (test labels kept)
  bool bn = false;                                // BatchNorm in the ResNet
  bool save_model = false;                        // weights_<epoch>.pt every 10 epochs
  int64_t test_bs = 256;                          // same as reference
  bool resume = false;
  uint64_t seed = 0;
  torch::Device device = torch::kCPU;
  std::string out_dir;
};

absl::Status Validate(const TrainConfig& config);

struct ImageData {
  common::data::InMemoryDataset train;  // [N, C, 32, 32] normalised
  common::data::InMemoryDataset test;
  int64_t classes = 0;
  int64_t channels = 0;
  int64_t side = 32;  // input height = width (64 for Tiny-ImageNet)
};

// Per-channel normalisation with the reference's statistics (CIFAR, Tiny-ImageNet at 64x64) or
// the training set's (Fashion-MNIST: 28x28 zero-padded to 32x32, 1 channel).
absl::StatusOr<ImageData> LoadImageData(const TrainConfig& config, const std::string& data_dir);

struct TrainResult {
  double train_accuracy = 0, test_accuracy = 0, train_loss = 0, test_loss = 0;
  double lip = 0;                       // network Lipschitz bound from the exact layer norms
                                        // (residual blocks: s_shortcut + lip1 lip2)
  std::vector<std::string> violations;  // layers outside their constraints after training
  int64_t steps = 0;
};

absl::StatusOr<TrainResult> Train(const TrainConfig& config, const ImageData& data,
                                  const nlohmann::json& flags_json);

// z_y - max_{i != y} z_i for logits [N, C] and labels [N] (the reference logs the negative).
torch::Tensor Margins(const torch::Tensor& logits, const torch::Tensor& labels);

}  // namespace excess_capacity

#endif  // EXCESS_CAPACITY_EXPERIMENT_H_
