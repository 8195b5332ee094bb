// The networks of the reference (src/models/nets.py, residual_blocks.py), every weight layer a
// WnLayer (weight norm on or off) and the classifier a plain torch::nn::Linear with PyTorch's
// default init (never weight-normalised, never re-initialised: same as reference).
//
//   mlp     x -> flatten -> [WnLinear(., H) -> ReLU] x num_layers -> Linear(H, classes)
//   cnn     x -> [WnConv3x3(., H, stride 2 for layers 0 and 1) -> ReLU] x num_layers -> GAP ->
//   Linear resnet  x -> WnConv3x3(C, H) [-> BN] -> 3 stages of num_blocks ResBlocks (H, 2H, 4H;
//   stride
//           1, 2, 2) [-> BN] -> GAP -> Linear                       (depth 6 num_blocks + 2)
//   wrn     x -> WnConv3x3(C, 16, stride 1 or 2) -> 3 stages of wrn_n ResBlocks (16k, 32k, 64k)
//           -> GAP -> Linear                                         (depth 6 wrn_n + 4)
//
//   ResBlock without BN:  out = conv2(ReLU(conv1(x))) + (shortcut(x) or x)    (no ReLU after +)
//   ResBlock with BN:     out = conv2(ReLU(bn2(conv1(ReLU(bn1(x)))))) + (shortcut(bn1(x)) or x)
//
// The proposed init's gamma per layer (paper, Sec. 4): 2 for layers followed by ReLU (MLP, CNN,
// resnet stem, block conv1), 1/N for block conv2 (N blocks per stage), 1 for 1x1 shortcuts and the
// WRN stem (no ReLU follows it).
#ifndef WEIGHTNORM_INIT_MODELS_H_
#define WEIGHTNORM_INIT_MODELS_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "weightnorm_init/init.h"
#include "weightnorm_init/weight_norm.h"

namespace weightnorm_init {

struct ModelOptions {
  ModelOptions(std::string nn, int64_t channels, int64_t side, int64_t classes)
      : nn_(std::move(nn)), channels_(channels), side_(side), classes_(classes) {}
  TORCH_ARG(std::string, nn);    // mlp | cnn | resnet | wrn
  TORCH_ARG(int64_t, channels);  // input [B, channels, side, side]
  TORCH_ARG(int64_t, side);
  TORCH_ARG(int64_t, classes);
  TORCH_ARG(int64_t, hidden_size) = 128;  // same as reference: MLP units / CNN channels / resnet H
  TORCH_ARG(int64_t, num_layers) = 2;     // same as reference: MLP / CNN hidden layers
  TORCH_ARG(int64_t, num_blocks) = 2;     // same as reference: resnet blocks per stage
  TORCH_ARG(int64_t, wrn_n) = 6;          // same as reference: WRN blocks per stage
  TORCH_ARG(int64_t, wrn_k) = 2;          // same as reference: WRN widening factor
  TORCH_ARG(bool, wrn_reduced_memory) = false;  // stride 2 in the WRN stem
  TORCH_ARG(bool, weight_norm) = false;
  TORCH_ARG(bool, batch_norm) = false;  // resnet / wrn only
};

absl::Status Validate(const ModelOptions& options);

// A residual basic block (the reference's WRNResBlock, shared by resnet and wrn).
class ResBlockImpl : public torch::nn::Module {
 public:
  ResBlockImpl(int64_t in, int64_t out, int64_t stride, bool weight_norm, bool batch_norm);
  torch::Tensor forward(const torch::Tensor& x);
  // conv1 (gamma 2), conv2 (`conv2_gamma`), shortcut (gamma 1). With a data-dependent scheme `x`
  // is the init batch at the block input (BN ignored) and the block output is returned.
  torch::Tensor Initialize(const InitScheme& scheme, double conv2_gamma, const torch::Tensor& x);

  WnLayer conv1{nullptr}, conv2{nullptr}, shortcut{nullptr};  // shortcut: null for identity
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};          // null without batch_norm
};
TORCH_MODULE(ResBlock);

// Any of the four networks.
class NetImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;  // [B, C, H, W] -> [B, classes]
  // Initialises every WnLayer in forward order; `batch` is required by data-dependent schemes.
  virtual void Initialize(const InitScheme& scheme, const torch::Tensor& batch) = 0;
  // Hidden representations of x: after every hidden layer (mlp, cnn), or the stem output and
  // every stage output (resnet, wrn).
  virtual std::vector<torch::Tensor> Trace(const torch::Tensor& x) = 0;
};

// Builds the network of `options` (PyTorch default init) and initialises it with `scheme`
// (`batch`: the init batch, needed for *_datadep).
absl::StatusOr<std::shared_ptr<NetImpl>> BuildModel(const ModelOptions& options,
                                                    const InitScheme& scheme,
                                                    const torch::Tensor& batch);

// Number of scalar parameters (g, v and bias counted separately).
int64_t CountParameters(const torch::nn::Module& module);

}  // namespace weightnorm_init

#endif  // WEIGHTNORM_INIT_MODELS_H_
